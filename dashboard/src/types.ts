/**
 * Shapes of the monitoring port's JSON answers (docs/events.md) as the dashboard reads them.
 * Times are RFC 3339 strings; offsets and durations are seconds. The server's own definitions are
 * server/events/view_types.ts; server/events/view_types_test.ts fails when these drift from them.
 */

export type SessionStatus = "open" | "finished" | "failed" | "closed" | "lost";

export interface SessionRow {
  session: number;
  name: string;
  client: number | null;
  status: SessionStatus;
  created: string;
  closed?: string;
  duration: number;
  tasks_total: number;
  tasks_finished: number;
  tasks_failed: number;
  /** Tasks running now (0 once the session ended). */
  tasks_running: number;
  /** Tasks that had not finished when the session ended (they never will). */
  tasks_cancelled: number;
  /** Recovery: re-runs for lost outputs, retries, lost attempts. */
  tasks_rerun: number;
  tasks_retried: number;
  attempts_lost: number;
  error?: string;
}

export interface SessionSummary extends SessionRow {
  objects_total: number;
  bytes: number;
  governors: string[] | number;
  first_start?: string | null;
  last_end?: string | null;
  /** `[t, unfinished]`, t seconds from `created`. */
  progress: [number, number][];
  /** Number of submits (added by server/dashboard_routes.ts when the summary lacks it). */
  submits?: number;
  reason?: string;
  message?: string;
}

export interface TaskGroup {
  name: string;
  task_type: string;
  count: number;
  finished: number;
  failed: number;
  running: number;
  /** Not finished when the session ended. */
  cancelled: number;
  duration_mean: number | null;
  duration_max: number | null;
  duration_total: number | null;
  /** Largest peak resident memory (bytes) of a task of the group, when measured. */
  peak_memory_max?: number;
}

export interface StreamTask {
  id: number;
  name: string;
  governor: string;
  cpu: number;
  start: number;
  end: number | null;
  failed: boolean;
  /** Not finished when its session ended; `end` is the session's end. */
  cancelled?: true;
  /** Every cpu slot of a task on more than one (`cpu` is the first). */
  slots?: number[];
  /** cpus the task uses (lanes cpu..cpu+cpus-1); 1 when absent. */
  cpus?: number;
}

export interface TaskStream {
  start: string;
  end: string | null;
  /** `lanes`: rows of that governor (its cpus). */
  governors: { governor: string; cpus: number; lanes: number }[];
  tasks: StreamTask[];
  truncated: boolean;
}

export interface Transfer {
  object: [number, number] | number;
  from: string;
  to: string;
  bytes: number;
  start: number;
  duration: number;
}

export interface GraphGroup {
  name: string;
  count: number;
  finished: number;
  failed: number;
  cancelled: number;
  running?: number;
}

export interface GraphTask {
  id: number;
  name: string;
  inputs: number[];
  state: string;
}

export interface TaskGraph {
  groups: GraphGroup[];
  edges: { from: string; to: string; count: number; bytes: number }[];
  tasks?: GraphTask[];
}

export interface TaskDetail {
  id: number;
  name: string;
  state: string;
  spec?: Record<string, unknown>;
  info: Record<string, unknown>;
  governor: string | null;
  error?: string;
  debug?: string;
  /** Each run when there was more than one (s from the session's creation). */
  attempts?: {
    governor: string | null;
    start: number | null;
    end: number | null;
    error?: string;
  }[];
  inputs: {
    id: number;
    spec?: Record<string, unknown>;
    producer: number | null;
    size: number | null;
  }[];
  outputs: {
    id: number;
    spec?: Record<string, unknown>;
    size: number | null;
    consumers: number[];
  }[];
  transfers: Transfer[];
}

export interface GovernorRow {
  governor: string;
  cpus: number;
  executors: string[];
  added: string;
  removed?: string;
  error?: string;
  /** With `removed`: it stopped on purpose, not lost. */
  stopped?: boolean;
  state: "connected" | "stalled" | "draining" | "lost" | "stopped";
  stalled_since?: string;
  draining_since?: string;
  /** Times its heartbeat was found overdue. */
  stalls: number;
}

export interface MonitoringPoint {
  time: string;
  cpu: number[];
  mem: number;
  net_rx: number;
  net_tx: number;
}

export interface Monitoring {
  governors: { governor: string; points: MonitoringPoint[] }[];
}

export interface LiveStatus {
  version: string;
  governors: {
    governor_id: string;
    cpus: number;
    assigned_cpus: number;
    tasks: number;
    /** Offered resources and what assigned tasks hold (absent from older servers). */
    resources?: {
      cpus: number;
      memory?: number;
      gpus?: string[];
      custom?: Record<string, number>;
    };
    resources_in_use?: {
      cpus: number;
      memory: number;
      gpus: number[];
      custom: Record<string, number>;
    };
  }[];
  sessions: { session_id: number; tasks_submitted: number; tasks_finished: number }[];
  ready_tasks: number;
}

/** `GET /dashboard/meta` (server/dashboard_routes.ts). */
export interface Meta {
  mode: "live" | "postmortem" | "report";
  version: string;
  source?: string;
  generated?: string;
}

/** `GET /api/v1/sessions/<sid>/tasks/<id>/output` (server/events/task_output.ts). */
export interface TaskOutputView {
  task: number;
  state: string;
  /** The attempt the output is of; null when no attempt printed anything. */
  attempt: number | null;
  attempts: number;
  stdout: string;
  stderr: string;
}

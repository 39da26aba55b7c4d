/**
 * The JSON answers of the event views (docs/events.md), as built by views.ts and read by the
 * dashboard (dashboard/src/types.ts re-exports them: one set of types). Times are RFC 3339
 * strings; offsets (`start`, `end`) are seconds from the session's creation; durations seconds.
 * Self-contained (no imports): the dashboard is type-checked without the project's config.
 */

export type SessionStatus = "open" | "finished" | "failed" | "closed" | "lost";

/** `GET /api/v1/sessions` (each). */
export interface SessionRow {
  session: number;
  name: string;
  client: number | null;
  status: SessionStatus;
  created: string;
  closed?: string;
  /** seconds from created to closed (or to the session's last event while open) */
  duration: number;
  tasks_total: number;
  tasks_finished: number;
  tasks_failed: number;
  /** 0 once the session ended. */
  tasks_running: number;
  /** Tasks that had not finished when the session ended (they never will); 0 while open. */
  tasks_cancelled: number;
  /** Recovery (issue 12): finished tasks run again because an output was lost with a governor, */
  tasks_rerun: number;
  /** failed attempts run again (`max_retries`), and attempts cut short by a lost governor/input. */
  tasks_retried: number;
  attempts_lost: number;
  error?: string;
}

/** `GET /api/v1/sessions/<sid>/summary` */
export interface SessionSummary extends SessionRow {
  objects_total: number;
  /** Output bytes of the finished tasks. */
  bytes: number;
  governors: string[];
  task_groups: number;
  first_start?: string;
  last_end?: string;
  /** `[t, unfinished submitted tasks]`, t seconds from `created`. */
  progress: [number, number][];
}

/** `GET /api/v1/sessions/<sid>/task_groups` (each): tasks grouped by name (else task type). */
export interface TaskGroup {
  name: string;
  task_type: string;
  count: number;
  finished: number;
  failed: number;
  running: number;
  /** Not finished when the session ended; 0 while open. */
  cancelled: number;
  duration_mean: number;
  duration_max: number;
  duration_total: number;
  /** Largest peak resident memory (bytes) measured of a task of the group; absent: none. */
  peak_memory_max?: number;
}

export interface StreamTask {
  id: number;
  name: string;
  governor: string;
  /** The cpu lane of the governor the task ran on. */
  cpu: number;
  start: number;
  end: number | null;
  failed: boolean;
  /** It had not finished when its session ended (it never will); `end` is the session's end. */
  cancelled?: true;
  /** Every cpu slot of a task on more than one (`cpu` is the first); absent: `cpu` only. */
  slots?: number[];
  /** cpus the task uses (lanes cpu..cpu+cpus-1); not sent by this server (see `slots`). */
  cpus?: number;
}

/** `GET /api/v1/sessions/<sid>/task_stream` */
export interface TaskStream {
  start: string;
  end: string;
  /** `lanes`: rows of that governor: its cpus (more only for slots of an older log's tasks). */
  governors: { governor: string; cpus: number; lanes: number }[];
  tasks: StreamTask[];
  /** More tasks overlap the window than `limit`: the longest are sent. */
  truncated: boolean;
}

/** `GET /api/v1/sessions/<sid>/transfers` (each). */
export interface Transfer {
  /** The object's id within the session. */
  object: number;
  from: string;
  to: string;
  bytes: number;
  start: number;
  duration: number;
}

export interface GraphGroup {
  name: string;
  task_type: string;
  count: number;
  finished: number;
  failed: number;
  cancelled: number;
}

export interface GraphTask {
  id: number;
  name: string;
  /** The tasks producing this task's inputs. */
  inputs: number[];
  state: TaskState;
}

/** `GET /api/v1/sessions/<sid>/task_graph[?tasks=1]` */
export interface TaskGraph {
  groups: GraphGroup[];
  edges: { from: string; to: string; count: number; bytes: number }[];
  /** With `?tasks=1` and at most 2,000 tasks. */
  tasks?: GraphTask[];
}

/** `cancelled`: not finished when its session ended (failed, closed or lost). */
export type TaskState = "waiting" | "running" | "finished" | "failed" | "cancelled";

/** `GET /api/v1/sessions/<sid>/tasks/<id>` */
export interface TaskDetail {
  id: number;
  name: string;
  task_type: string;
  state: TaskState;
  /** The task's spec as submitted (ClientSubmit `tasks[i]`). */
  spec?: Record<string, unknown>;
  info: Record<string, unknown>;
  governor: string | null;
  start: number | null;
  end: number | null;
  error?: string;
  debug?: string;
  /**
   * Each run when there was more than one, the current or last one last (s from `created`);
   * `error`: why it ended (absent for the one that finished the task, or one still running).
   */
  attempts?: TaskAttemptRow[];
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

/** `GET /api/v1/governors` (each). */
export interface TaskAttemptRow {
  governor: string | null;
  start: number | null;
  end: number | null;
  error?: string;
}

/** `connected`, `stalled` (heartbeat overdue), `draining`, `lost`, or `stopped` (in order). */
export type GovernorState = "connected" | "stalled" | "draining" | "lost" | "stopped";

export interface GovernorRow {
  governor: string;
  cpus: number;
  executors: string[];
  added: string;
  removed?: string;
  /** Why it left. */
  error?: string;
  /** With `removed`: it stopped on purpose (rain stop, drain, the server stopping), not lost. */
  stopped?: boolean;
  state: GovernorState;
  /** Since when it is stalled (while it is), since when it drains. */
  stalled_since?: string;
  draining_since?: string;
  /** Times its heartbeat was found overdue. */
  stalls: number;
}

export interface MonitoringPoint {
  time: string;
  cpu: number[];
  mem: number;
  /** bytes/s */
  net_rx: number;
  net_tx: number;
}

/** `GET /api/v1/monitoring` */
export interface Monitoring {
  governors: { governor: string; points: MonitoringPoint[] }[];
}

/**
 * Events of the event log (docs/events.md): what the reactor reports at each state change.
 *
 * The reactor calls `EventSink.push()` with a plain object holding references to what it has at
 * hand (a submit plan, a governor message's info); nothing is serialized on the hot path. The
 * event log (log.ts) turns them into JSON rows later (rows.ts), in batches.
 */
import type { TaskInfo } from "../../common/attributes.ts";
import type { ClientId, GovernorId, Id, SessionId } from "../../common/ids.ts";
import type { DataTransfer, MonitoringMessage, TaskOutput } from "../../common/messages.ts";
import type { SubmitPlan } from "../submit.ts";

/** Why a session ended (reference §4). */
export type CloseReason = "ClientClose" | "Error" | "ServerLost";

/** Every event type stored in `events.event_type`. */
export const EVENT_TYPES = [
  "ServerStart",
  "GovernorNew",
  "GovernorRemoved",
  "ClientNew",
  "ClientRemoved",
  "SessionNew",
  "SessionClosed",
  "ClientSubmit",
  "ClientUnkeep",
  "TaskStarted",
  "TaskFinished",
  "Monitoring",
  "DataTransfer",
  "GovernorStalled",
  "GovernorDrain",
  "ObjectLost",
  "TaskRequeued",
  "TaskRerun",
  "TaskOutput",
] as const;
export type EventType = typeof EVENT_TYPES[number];

/**
 * A pending event: `time` is `Date.now()` when it happened. Fields reference live objects that
 * are never mutated after the push (infos and plans are replaced, not changed, by the reactor).
 */
export type PendingEvent =
  | {
    type: "ServerStart";
    time: number;
    version: string;
    pid: number;
    listen: string;
    http_listen: string;
  }
  | {
    type: "GovernorNew";
    time: number;
    governor: GovernorId;
    cpus: number;
    executors: string[];
  }
  | {
    type: "GovernorRemoved";
    time: number;
    governor: GovernorId;
    error: string;
    /** It stopped on purpose (rain stop, drain, SIGINT, the server stopping): not lost. */
    orderly?: boolean;
  }
  | { type: "ClientNew" | "ClientRemoved"; time: number; client: ClientId }
  | {
    type: "SessionNew";
    time: number;
    session: SessionId;
    client: ClientId | null;
    spec: Record<string, unknown>;
  }
  | {
    type: "SessionClosed";
    time: number;
    session: SessionId;
    reason: CloseReason;
    message: string;
  }
  | { type: "ClientSubmit"; time: number; session: SessionId; plan: SubmitPlan }
  | { type: "ClientUnkeep"; time: number; session: SessionId; objects: number[] }
  | {
    type: "TaskStarted";
    time: number;
    session: SessionId;
    task: number;
    governor: GovernorId;
    start_time: string;
    /** The governor's cpu slots it runs on (absent: not reported). */
    slots?: readonly number[];
  }
  | {
    type: "TaskFinished";
    time: number;
    session: SessionId;
    task: number;
    info: Readonly<TaskInfo>;
    /** Sizes of the outputs, in spec order (absent for a failure). */
    outputs?: { id: Id; size: number }[];
  }
  | { type: "Monitoring"; time: number; governor: GovernorId; sample: MonitoringMessage }
  | { type: "DataTransfer"; time: number; to: GovernorId; transfer: DataTransfer }
  | { type: "GovernorStalled"; time: number; governor: GovernorId; stalled: boolean }
  | { type: "GovernorDrain"; time: number; governor: GovernorId }
  | { type: "ObjectLost"; time: number; session: SessionId; object: number }
  | {
    type: "TaskRequeued";
    time: number;
    session: SessionId;
    task: number;
    attempt: number;
    crashes: number;
    reason: string;
    /** The attempt had started (it ran, and ends here); false for a task only queued. */
    started: boolean;
  }
  | {
    type: "TaskOutput";
    time: number;
    session: SessionId;
    task: number;
    attempt: number;
    /** As the governor capped it (task_output.ts); one row per attempt that printed something. */
    output: TaskOutput;
  }
  | {
    type: "TaskRerun";
    time: number;
    session: SessionId;
    task: number;
    attempt: number;
    /** The lost object it is run again for. */
    object: number;
  };

/** How a TaskRequeued `reason` of a retry after the task's own failure starts (`retry N of M`). */
export const RETRY_PREFIX = "retry ";

export function isRetryReason(reason: string): boolean {
  return reason.startsWith(RETRY_PREFIX);
}

/** The TaskRequeued `reason` of a failed task run again by `rerun_failed` (it had failed). */
export const RERUN_FAILED_REASON = "rerun_failed: run again after it failed";

/** Where the reactor reports events. `push` must be O(1) and cheap. */
export interface EventSink {
  push(event: PendingEvent): void;
}

/** A sink keeping everything in an array (tests). */
export class ArraySink implements EventSink {
  readonly events: PendingEvent[] = [];
  push(event: PendingEvent): void {
    this.events.push(event);
  }
  ofType<T extends EventType>(type: T): Extract<PendingEvent, { type: T }>[] {
    return this.events.filter((e) => e.type === type) as Extract<PendingEvent, { type: T }>[];
  }
}

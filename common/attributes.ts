/**
 * Specs (what the user asked for) and infos (what happened) of tasks and data objects.
 * Transmitted as JSON; empty values may be omitted. See docs/protocol.md.
 */
import type { GovernorId, Id } from "./ids.ts";
import type { ResourceRequest } from "./resources.ts";

export type DataType = "blob" | "dir";

export type JsonValue = null | boolean | number | string | JsonValue[] | {
  [key: string]: JsonValue;
};
export type UserAttributes = Record<string, JsonValue>;

export interface TaskInput {
  id: Id;
  label?: string;
}

export interface TaskSpec {
  id: Id;
  /** `"<executor>/<method>"`, e.g. `"buildin/concat"` or `"py/"` */
  task_type: string;
  config?: JsonValue;
  inputs: TaskInput[];
  outputs: Id[];
  /** cpus, and optionally memory (bytes), gpus (count or fraction ≤ 1), custom amounts. */
  resources: ResourceRequest;
  name?: string;
  user?: UserAttributes;
  /** Retries and limits (docs/policies.md); absent: Rain 0.4 (one attempt, no limit). */
  policy?: TaskPolicy;
}

/** What to do when a task's own execution fails or runs too long (docs/policies.md). */
export interface TaskPolicy {
  /** Attempts after the first when the task itself fails; default 0. */
  max_retries?: number;
  /**
   * Retry only failures matching one entry: an exit code (programs), an exception class name
   * (Python tasks; the class or any base), or `"time_limit"`. Absent: every failure.
   */
  retry_on?: (number | string)[];
  /** Seconds an attempt may run; it is then killed and counts as a failure. */
  time_limit?: number;
  /** Losses of the governor running the task it survives (default 5). */
  crash_limit?: number;
}

/** One run of a task that did not finish it (`TaskInfo.attempts`), or the last one. */
export interface TaskAttempt {
  governor?: GovernorId;
  start_time?: string;
  duration?: number;
  /** Why it ended; absent for the attempt that finished the task. */
  error?: string;
}

export interface TaskInfo {
  /** Non-empty means the task failed. */
  error?: string;
  /** RFC 3339 */
  start_time?: string;
  /** seconds */
  duration?: number;
  governor?: GovernorId;
  /** Peak resident memory (bytes) of the task's processes, measured by the governor. */
  peak_memory?: number;
  debug?: string;
  user?: UserAttributes;
  /** The exit code of a program that failed. */
  exit_code?: number;
  /** Class names of the exception a Python task raised, most specific first (its MRO). */
  exception_types?: string[];
  /** The attempt was killed at its `policy.time_limit`. */
  time_limit_exceeded?: boolean;
  /** Every attempt, in order, when there was more than one (absent: one attempt). */
  attempts?: TaskAttempt[];
}

export interface ObjectSpec {
  id: Id;
  label?: string;
  content_type?: string;
  data_type: DataType;
  user?: UserAttributes;
}

export interface ObjectInfo {
  error?: string;
  /** bytes; approximate for directories */
  size?: number;
  /** Content type set at run time; a sub-type of the spec's. */
  content_type?: string;
  debug?: string;
  user?: UserAttributes;
}

/** Task states as reported to clients (`rain.client.rpc.common.TaskState`). */
export type TaskState = "notAssigned" | "ready" | "assigned" | "running" | "finished" | "failed";

/** Object states as reported to clients (`rain.client.rpc.common.DataObjectState`). */
export type ObjectState = "unfinished" | "finished" | "removed";

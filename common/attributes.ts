/**
 * Specs (what the user asked for) and infos (what happened) of tasks and data objects.
 * Transmitted as JSON; empty values may be omitted. See docs/protocol.md.
 */
import type { GovernorId, Id } from "./ids.ts";

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
  resources: { cpus: number };
  name?: string;
  user?: UserAttributes;
}

export interface TaskInfo {
  /** Non-empty means the task failed. */
  error?: string;
  /** RFC 3339 */
  start_time?: string;
  /** seconds */
  duration?: number;
  governor?: GovernorId;
  debug?: string;
  user?: UserAttributes;
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

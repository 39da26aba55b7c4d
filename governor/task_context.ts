/**
 * What a task implementation gets, and the shape of the registry of task implementations.
 * A task function stores each output under the matching id of `task.spec.outputs` and returns
 * the stored outputs in that order (synchronously when it can: that keeps trivial tasks cheap).
 */
import type { JsonValue, ObjectInfo, TaskInfo } from "../common/attributes.ts";
import type { AssignedTask, TaskOutput } from "../common/messages.ts";
import type { ResourceAllocation } from "../common/resources.ts";
import type { ObjectStore, StoredObject } from "./object_store.ts";
import type { ProgramSpawner } from "./sandbox.ts";

export interface TaskContext {
  readonly task: AssignedTask;
  /** `task.spec.config`. */
  readonly config: JsonValue | undefined;
  /** The stored inputs, in `task.spec.inputs` order. */
  readonly inputs: StoredObject[];
  readonly store: ObjectStore;
  /** Fires when the task must stop (its session was closed, the governor is stopping). */
  readonly signal: AbortSignal;
  /** Id of this governor (for messages). */
  readonly governorId: string;
  /** What the task was given (cpus, and gpu ids, memory, custom when it asked for them). */
  readonly resources: ResourceAllocation;
  /** 1 (absent) for the task's first run, then 2, 3… (retries, re-runs); `RAIN_TASK_ATTEMPT`. */
  readonly attempt?: number;
  /** Peak resident bytes of the task's processes, set by tasks that measured it. */
  peakMemory?: number;
  /**
   * Task info set by the task (`debug`, `user`): reported with its result or its failure.
   * Executor tasks set it; built-ins leave it unset.
   */
  info?: Pick<TaskInfo, "debug" | "user">;
  /** What the task printed (not mapped to an output), capped (task_output.ts); set on success and failure. */
  output?: TaskOutput;
  /** Extra info per output (`user`, `debug`), in output order; set by executor tasks. */
  outputInfos?: (Pick<ObjectInfo, "debug" | "user"> | undefined)[];
  /**
   * Starts the programs of `buildin/run` when the governor restricts them (`--allow-run`): Deno
   * then checks each program (governor/permissions.ts). Unset: `new Deno.Command(...).spawn()`.
   */
  spawn?: ProgramSpawner;
}

export type TaskOutputs = StoredObject[] | Promise<StoredObject[]>;

export type TaskFn = (ctx: TaskContext) => TaskOutputs;

/** Reads a string field of a config object, or throws naming the field. */
export function configString(ctx: TaskContext, field: string): string {
  const c = ctx.config;
  const v = typeof c === "object" && c !== null && !Array.isArray(c) ? c[field] : undefined;
  if (typeof v !== "string") throw new Error(`config field '${field}' must be a string`);
  return v;
}

/** Reads an absolute path from `config.path`, or throws. */
export function configAbsolutePath(ctx: TaskContext): string {
  const path = configString(ctx, "path");
  if (!path.startsWith("/")) throw new Error(`path '${path}' must be absolute`);
  return path;
}

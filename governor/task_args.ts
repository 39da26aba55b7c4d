/**
 * A task's n-th input and output, checked: the server validates the counts of built-in tasks
 * (common/builtin_tasks.ts), so a missing one is a protocol error, reported as one.
 */
import type { Id } from "../common/ids.ts";
import type { StoredObject } from "./object_store.ts";
import type { TaskContext } from "./task_context.ts";

/** The stored input `i`; throws if the task has fewer inputs. */
export function inputAt(ctx: TaskContext, i: number): StoredObject {
  const input = ctx.inputs[i];
  if (input === undefined) throw new Error(`the task has no input ${i}`);
  return input;
}

/** The id of output `i`; throws if the task has fewer outputs. */
export function outputAt(ctx: TaskContext, i: number): Id {
  const id = ctx.task.spec.outputs[i];
  if (id === undefined) throw new Error(`the task has no output ${i}`);
  return id;
}

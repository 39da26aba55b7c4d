/**
 * `buildin/sleep`: waits `config.seconds` (abortable), then outputs its input unchanged: same
 * data and data type (shared bytes / hard links, no copy), and the input's content type.
 */
import type { TaskContext } from "../task_context.ts";
import type { StoredObject } from "../object_store.ts";
import { inputAt, outputAt } from "../task_args.ts";

export async function sleep(ctx: TaskContext): Promise<StoredObject[]> {
  const c = ctx.config;
  const seconds = typeof c === "object" && c !== null && !Array.isArray(c) ? c.seconds : undefined;
  if (typeof seconds !== "number" || !(seconds >= 0) || !Number.isFinite(seconds)) {
    throw new Error("config must be {seconds: number >= 0}");
  }
  if (seconds > 0) await abortableDelay(seconds * 1000, ctx.signal);
  const input = inputAt(ctx, 0);
  const contentType = input.contentType ?? ctx.task.inputs[0]?.spec.content_type;
  return [await ctx.store.clone(input, outputAt(ctx, 0), contentType)];
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it is aborted. */
export function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

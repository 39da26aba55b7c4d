/**
 * `buildin/concat`: concatenates blob inputs into one blob (no content type). In-memory inputs
 * whose total fits in memory are joined synchronously; a single input is shared (memory) or
 * hard-linked (file); otherwise the inputs are streamed one after another into a file.
 */
import { formatId } from "../../common/ids.ts";
import { MEMORY_LIMIT, type StoredObject } from "../object_store.ts";
import type { TaskContext, TaskOutputs } from "../task_context.ts";
import { inputAt, outputAt } from "../task_args.ts";

export function concat(ctx: TaskContext): TaskOutputs {
  const { inputs, store } = ctx;
  const out = outputAt(ctx, 0);
  let total = 0;
  let inMemory = true;
  for (const input of inputs) {
    if (input.dataType !== "blob") {
      throw new Error(`input ${formatId(input.id)} is a directory; concat needs blobs`);
    }
    total += input.size;
    if (input.data === undefined) inMemory = false;
  }
  if (inputs.length === 1) {
    const only = inputAt(ctx, 0);
    return only.data !== undefined ? [store.putMemory(out, only.data)] : clone(ctx, only);
  }
  if (inMemory && total <= MEMORY_LIMIT) {
    const data = new Uint8Array(total);
    let offset = 0;
    for (const input of inputs) {
      data.set(input.data!, offset);
      offset += input.size;
    }
    return [store.putMemory(out, data)];
  }
  return streamed(ctx, total);
}

async function clone(ctx: TaskContext, input: StoredObject): Promise<StoredObject[]> {
  return [await ctx.store.clone(input, outputAt(ctx, 0), undefined)];
}

async function streamed(ctx: TaskContext, total: number): Promise<StoredObject[]> {
  const { inputs, store, signal } = ctx;
  let i = 0;
  let current: ReadableStreamDefaultReader<Uint8Array> | undefined;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        signal.throwIfAborted();
        if (current === undefined) {
          if (i >= inputs.length) {
            controller.close();
            return;
          }
          current = (await store.openStream(inputAt(ctx, i++))).getReader();
        }
        const { value, done } = await current.read();
        if (done) {
          current = undefined;
          continue;
        }
        controller.enqueue(value);
        return;
      }
    },
    cancel(reason) {
      return current?.cancel(reason);
    },
  });
  return [await store.putStream(outputAt(ctx, 0), "blob", stream, undefined, total)];
}

import { assert, assertEquals, assertRejects } from "../test_assert.ts";
import { packDirectory } from "../tar.ts";
import {
  describeTree,
  enc,
  makeContext,
  makeSampleTree,
  makeTask,
  newId,
  tempDir,
  tempStore,
} from "../test_util.ts";
import { sleep } from "./sleep.ts";

Deno.test("sleep waits, then passes its blob through with its content type", async () => {
  await using t = await tempStore();
  const a = t.store.putMemory(newId(), enc.encode("data"), "json");
  const task = makeTask("buildin/sleep", { seconds: 0.05 }, [a], ["blob"]);
  const t0 = performance.now();
  const [out] = await sleep(makeContext(t.store, task, [a]));
  assert(performance.now() - t0 >= 45);
  assertEquals(out!.data, enc.encode("data"));
  assertEquals(out!.contentType, "json");
  assertEquals(out!.id, task.spec.outputs[0]);
});

Deno.test("sleep takes the spec's content type when the input has none at run time", async () => {
  await using t = await tempStore();
  const a = t.store.putMemory(newId(), enc.encode("x"));
  const task = makeTask("buildin/sleep", { seconds: 0 }, [a], ["blob"]);
  task.inputs[0]!.spec.content_type = "text";
  const [out] = await sleep(makeContext(t.store, task, [a]));
  assertEquals(out!.contentType, "text");
});

Deno.test("sleep passes a directory through", async () => {
  await using t = await tempStore();
  await using src = await tempDir();
  await makeSampleTree(src.path);
  const dir = await t.store.putStream(newId(), "dir", packDirectory(src.path));
  const task = makeTask("buildin/sleep", { seconds: 0 }, [dir], ["dir"]);
  const [out] = await sleep(makeContext(t.store, task, [dir]));
  assertEquals(out!.dataType, "dir");
  assertEquals(await describeTree(out!.path!), await describeTree(src.path));
});

Deno.test("sleep is aborted at once", async () => {
  await using t = await tempStore();
  const a = t.store.putMemory(newId(), enc.encode("x"));
  const task = makeTask("buildin/sleep", { seconds: 30 }, [a], ["blob"]);
  const ac = new AbortController();
  const t0 = performance.now();
  const p = sleep(makeContext(t.store, task, [a], ac.signal));
  setTimeout(() => ac.abort(new Error("session closed")), 10);
  await assertRejects(() => p, Error, "session closed");
  // Far below the 30 s asked for: the abort ended the sleep.
  assert(performance.now() - t0 < 15_000);
  assert(!t.store.has(task.spec.outputs[0]!));
});

Deno.test("sleep with a bad config fails", async () => {
  await using t = await tempStore();
  const a = t.store.putMemory(newId(), enc.encode("x"));
  const task = makeTask("buildin/sleep", { seconds: "soon" }, [a], ["blob"]);
  await assertRejects(() => sleep(makeContext(t.store, task, [a])), Error, "seconds");
});

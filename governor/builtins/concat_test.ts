import { assert, assertEquals, assertRejects } from "../test_assert.ts";
import { MEMORY_LIMIT } from "../object_store.ts";
import { packDirectory } from "../tar.ts";
import { enc, makeContext, makeTask, newId, tempDir, tempStore } from "../test_util.ts";
import { concat } from "./concat.ts";

Deno.test("concat of small in-memory blobs is synchronous", async () => {
  await using t = await tempStore();
  const a = t.store.putMemory(newId(), enc.encode("Hello "), "text");
  const b = t.store.putMemory(newId(), enc.encode("world"));
  const task = makeTask("buildin/concat", undefined, [a, b], ["blob"]);
  const out = concat(makeContext(t.store, task, [a, b]));
  assert(Array.isArray(out), "no promise for the in-memory path");
  assertEquals(out[0]!.data, enc.encode("Hello world"));
  assertEquals(out[0]!.id, task.spec.outputs[0]);
  assertEquals(out[0]!.contentType, undefined);
  assert(t.store.get(task.spec.outputs[0]!) === out[0]);
});

Deno.test("concat of no inputs is an empty blob; one input is shared, not copied", async () => {
  await using t = await tempStore();
  const none = makeTask("buildin/concat", undefined, [], ["blob"]);
  const [empty] = await concat(makeContext(t.store, none, []));
  assertEquals(empty!.size, 0);
  const a = t.store.putMemory(newId(), enc.encode("x"), "text");
  const one = makeTask("buildin/concat", undefined, [a], ["blob"]);
  const [out] = await concat(makeContext(t.store, one, [a]));
  assert(out!.data === a.data);
  assertEquals(out!.contentType, undefined, "concat leaves the content type unset");
});

Deno.test("concat of large blobs streams into a file", async () => {
  await using t = await tempStore();
  const big = new Uint8Array(MEMORY_LIMIT + 100).fill(7);
  const a = await t.store.putBlob(newId(), big);
  const b = t.store.putMemory(newId(), enc.encode("tail"));
  const c = await t.store.putBlob(newId(), big);
  const task = makeTask("buildin/concat", undefined, [a, b, c], ["blob"]);
  const [out] = await concat(makeContext(t.store, task, [a, b, c]));
  assert(out!.path !== undefined);
  assertEquals(out!.size, 2 * big.length + 4);
  const data = await Deno.readFile(out!.path);
  assertEquals(data.subarray(big.length, big.length + 4), enc.encode("tail"));
  assertEquals(data[data.length - 1], 7);
});

Deno.test("concat refuses a directory input", async () => {
  await using t = await tempStore();
  await using d = await tempDir();
  const dir = await t.store.putStream(newId(), "dir", packDirectory(d.path));
  const task = makeTask("buildin/concat", undefined, [dir], ["blob"]);
  await assertRejects(
    async () => await concat(makeContext(t.store, task, [dir])),
    Error,
    "is a directory",
  );
});

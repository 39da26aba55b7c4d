import { assert, assertEquals, assertRejects } from "../test_assert.ts";
import { join } from "node:path";
import { MEMORY_LIMIT } from "../object_store.ts";
import {
  describeTree,
  enc,
  makeContext,
  makeSampleTree,
  makeTask,
  SAMPLE_TREE_SIZE,
  tempDir,
  tempStore,
  treeModes,
} from "../test_util.ts";
import { open, openDir } from "./open.ts";

Deno.test("open copies a small file into memory and a large one into a read-only file", async () => {
  await using t = await tempStore();
  await using d = await tempDir();
  await Deno.writeTextFile(join(d.path, "small"), "hello");
  const big = new Uint8Array(MEMORY_LIMIT * 3).fill(9);
  await Deno.writeFile(join(d.path, "big"), big);

  const t1 = makeTask("buildin/open", { path: join(d.path, "small") }, [], ["blob"]);
  const [small] = await open(makeContext(t.store, t1, []));
  assertEquals(small!.data, enc.encode("hello"));

  const t2 = makeTask("buildin/open", { path: join(d.path, "big") }, [], ["blob"]);
  const [large] = await open(makeContext(t.store, t2, []));
  assert(large!.path !== undefined);
  assertEquals(large!.size, big.length);
  assertEquals((await Deno.stat(large!.path)).mode! & 0o777, 0o444);
  // A copy: changing the source later does not change the object.
  await Deno.writeTextFile(join(d.path, "big"), "changed");
  assertEquals(await Deno.readFile(large!.path), big);
});

Deno.test("open errors name the path", async () => {
  await using t = await tempStore();
  await using d = await tempDir();
  const cases: [unknown, string][] = [
    [{ path: join(d.path, "nope") }, `cannot open '${join(d.path, "nope")}': no such file`],
    [{ path: d.path }, `cannot open '${d.path}': is a directory`],
    [{ path: "relative/x" }, "path 'relative/x' must be absolute"],
    [{}, "config field 'path'"],
  ];
  for (const [config, message] of cases) {
    const task = makeTask("buildin/open", config as never, [], ["blob"]);
    await assertRejects(() => open(makeContext(t.store, task, [])), Error, message);
  }
});

Deno.test("open_dir copies a tree with empty dirs and symlinks, read-only", async () => {
  await using t = await tempStore();
  await using d = await tempDir();
  await makeSampleTree(d.path);
  const task = makeTask("buildin/open_dir", { path: d.path }, [], ["dir"]);
  const [out] = await openDir(makeContext(t.store, task, []));
  assertEquals(out!.dataType, "dir");
  assertEquals(out!.size, SAMPLE_TREE_SIZE);
  assertEquals(await describeTree(out!.path!), await describeTree(d.path));
  const modes = await treeModes(out!.path!);
  assertEquals(modes.get("a.txt"), 0o444);
  assertEquals(modes.get("run.sh"), 0o555);
  assertEquals(modes.get("sub/empty"), 0o555);
  // The source is untouched and writable.
  assertEquals((await Deno.stat(join(d.path, "a.txt"))).mode! & 0o200, 0o200);
});

Deno.test("open_dir errors name the path", async () => {
  await using t = await tempStore();
  await using d = await tempDir();
  await Deno.writeTextFile(join(d.path, "f"), "x");
  const missing = join(d.path, "missing");
  const t1 = makeTask("buildin/open_dir", { path: missing }, [], ["dir"]);
  await assertRejects(() => openDir(makeContext(t.store, t1, [])), Error, `'${missing}'`);
  const file = join(d.path, "f");
  const t2 = makeTask("buildin/open_dir", { path: file }, [], ["dir"]);
  await assertRejects(
    () => openDir(makeContext(t.store, t2, [])),
    Error,
    `cannot open '${file}': not a directory`,
  );
  const t3 = makeTask("buildin/open_dir", { path: "data/in" }, [], ["dir"]);
  await assertRejects(
    () => openDir(makeContext(t.store, t3, [])),
    Error,
    "path 'data/in' must be absolute",
  );
});

import { assertEquals, assertRejects } from "../test_assert.ts";
import { MEMORY_LIMIT } from "../object_store.ts";
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
  treeModes,
} from "../test_util.ts";
import { makeDirectory } from "./make_directory.ts";

Deno.test("make_directory places blobs and directories at relative paths", async () => {
  await using t = await tempStore();
  await using src = await tempDir();
  await makeSampleTree(src.path);
  const a = t.store.putMemory(newId(), enc.encode("A"));
  const big = await t.store.putBlob(newId(), new Uint8Array(MEMORY_LIMIT + 1).fill(65));
  const dir = await t.store.putStream(newId(), "dir", packDirectory(src.path));
  const inputs = [a, big, dir];
  const task = makeTask(
    "buildin/make_directory",
    { paths: ["a.txt", "deep/er/big.bin", "sub/tree/"] },
    inputs,
    ["dir"],
  );
  const [out] = await makeDirectory(makeContext(t.store, task, inputs));
  assertEquals(out!.dataType, "dir");
  assertEquals(out!.size, 1 + big.size + dir.size);
  const tree = await describeTree(out!.path!);
  const expectedSub = (await describeTree(src.path)).map((l) => "sub/tree/" + l);
  assertEquals(
    tree.filter((l) => l.startsWith("sub/tree/") && l !== "sub/tree/ dir"),
    expectedSub,
  );
  assertEquals(tree.includes("a.txt file A"), true);
  assertEquals(tree.includes("deep/er/ dir"), true);
  const modes = await treeModes(out!.path!);
  assertEquals(modes.get("a.txt"), 0o444);
  assertEquals(modes.get("deep/er"), 0o555);
  assertEquals((await Deno.stat(out!.path!)).mode! & 0o777, 0o555);
});

Deno.test("make_directory errors name the path", async () => {
  await using t = await tempStore();
  const a = t.store.putMemory(newId(), enc.encode("A"));
  const b = t.store.putMemory(newId(), enc.encode("B"));
  const cases: [string[], string][] = [
    [["x", "x"], "path 'x'"],
    [["x", "x/y"], "path 'x/y'"],
    [["/abs", "y"], "path '/abs' must be relative"],
    [["../up", "y"], "path '../up' must not contain '..'"],
    [["x"], "1 paths for 2 inputs"],
  ];
  for (const [paths, message] of cases) {
    const task = makeTask("buildin/make_directory", { paths }, [a, b], ["dir"]);
    await assertRejects(() => makeDirectory(makeContext(t.store, task, [a, b])), Error, message);
    assertEquals(t.store.has(task.spec.outputs[0]!), false);
  }
  assertEquals([...Deno.readDirSync(t.store.tmpDir)].length, 0, "no temp leftovers");
});

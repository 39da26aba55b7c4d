import { assert, assertEquals, assertRejects } from "../test_assert.ts";
import { join } from "node:path";
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
} from "../test_util.ts";
import { sliceDirectory } from "./slice_directory.ts";

async function sampleDir(t: Awaited<ReturnType<typeof tempStore>>, src: string) {
  await makeSampleTree(src);
  await Deno.writeFile(join(src, "sub/big.bin"), new Uint8Array(MEMORY_LIMIT + 3).fill(1));
  await Deno.symlink("/etc", join(src, "escape"));
  return await t.store.putStream(newId(), "dir", packDirectory(src));
}

Deno.test("slice_directory gives a file as a blob and a subdirectory as a dir", async () => {
  await using t = await tempStore();
  await using src = await tempDir();
  const dir = await sampleDir(t, src.path);

  const t1 = makeTask("buildin/slice_directory", { path: "sub/b.txt" }, [dir], ["blob"]);
  const [file] = await sliceDirectory(makeContext(t.store, t1, [dir]));
  assertEquals(file!.data, enc.encode("bravo!"));

  const t2 = makeTask("buildin/slice_directory", { path: "sub/big.bin" }, [dir], ["blob"]);
  const [big] = await sliceDirectory(makeContext(t.store, t2, [dir]));
  assert(big!.path !== undefined);
  assertEquals(big!.size, MEMORY_LIMIT + 3);

  const t3 = makeTask("buildin/slice_directory", { path: "sub/" }, [dir], ["dir"]);
  const [sub] = await sliceDirectory(makeContext(t.store, t3, [dir]));
  assertEquals(await describeTree(sub!.path!), await describeTree(join(src.path, "sub")));
  assertEquals(sub!.size, 6 + MEMORY_LIMIT + 3);

  const t4 = makeTask("buildin/slice_directory", { path: "link" }, [dir], ["blob"]);
  const [viaLink] = await sliceDirectory(makeContext(t.store, t4, [dir]));
  assertEquals(viaLink!.data, enc.encode("bravo!"));
});

Deno.test("slice_directory errors name the path", async () => {
  await using t = await tempStore();
  await using src = await tempDir();
  const dir = await sampleDir(t, src.path);
  const cases: [string, "blob" | "dir", string][] = [
    ["nope.txt", "blob", "path 'nope.txt' in the directory: no such file"],
    ["sub", "blob", "path 'sub' in the directory is a directory"],
    ["a.txt/", "dir", "path 'a.txt/' in the directory"],
    ["escape/", "dir", "path 'escape/' in the directory: points outside"],
    ["../x", "blob", "must not contain '..'"],
  ];
  for (const [path, type, message] of cases) {
    const task = makeTask("buildin/slice_directory", { path }, [dir], [type]);
    await assertRejects(() => sliceDirectory(makeContext(t.store, task, [dir])), Error, message);
  }
});

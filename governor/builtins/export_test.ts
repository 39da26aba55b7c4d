import { assertEquals, assertRejects } from "../test_assert.ts";
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
  treeModes,
} from "../test_util.ts";
import { exportTask } from "./export.ts";

Deno.test("export writes blobs (memory and file) and overwrites like cp", async () => {
  await using t = await tempStore();
  await using d = await tempDir();
  const small = t.store.putMemory(newId(), enc.encode("small"));
  const bigData = new Uint8Array(MEMORY_LIMIT + 7).fill(3);
  const big = await t.store.putBlob(newId(), bigData);
  const target = join(d.path, "out.bin");
  await Deno.writeTextFile(target, "old contents that are longer");
  const t1 = makeTask("buildin/export", { path: target }, [small], []);
  assertEquals(await exportTask(makeContext(t.store, t1, [small])), []);
  assertEquals(await Deno.readTextFile(target), "small");
  const t2 = makeTask("buildin/export", { path: target }, [big], []);
  await exportTask(makeContext(t.store, t2, [big]));
  assertEquals(await Deno.readFile(target), bigData);
  assertEquals((await Deno.stat(target)).mode! & 0o200, 0o200, "exported file is writable");
});

Deno.test("export writes a directory as a writable tree", async () => {
  await using t = await tempStore();
  await using src = await tempDir();
  await using d = await tempDir();
  await makeSampleTree(src.path);
  const dir = await t.store.putStream(newId(), "dir", packDirectory(src.path));
  const target = join(d.path, "tree");
  const task = makeTask("buildin/export", { path: target }, [dir], []);
  await exportTask(makeContext(t.store, task, [dir]));
  assertEquals(await describeTree(target), await describeTree(src.path));
  const modes = await treeModes(target);
  assertEquals(modes.get("a.txt"), 0o644);
  assertEquals(modes.get("run.sh"), 0o755);
  assertEquals(modes.get("sub/empty"), 0o755);
  // Exporting again merges and overwrites.
  await exportTask(makeContext(t.store, task, [dir]));
  assertEquals(await describeTree(target), await describeTree(src.path));
});

Deno.test("export errors name the path", async () => {
  await using t = await tempStore();
  await using d = await tempDir();
  const blob = t.store.putMemory(newId(), enc.encode("x"));
  const noParent = join(d.path, "missing/dir/f");
  const t1 = makeTask("buildin/export", { path: noParent }, [blob], []);
  await assertRejects(
    () => exportTask(makeContext(t.store, t1, [blob])),
    Error,
    `cannot export to '${noParent}'`,
  );
  const t2 = makeTask("buildin/export", { path: d.path }, [blob], []);
  await assertRejects(
    () => exportTask(makeContext(t.store, t2, [blob])),
    Error,
    `cannot export to '${d.path}': is a directory`,
  );
  const t3 = makeTask("buildin/export", { path: "rel" }, [blob], []);
  await assertRejects(
    () => exportTask(makeContext(t.store, t3, [blob])),
    Error,
    "path 'rel' must be absolute",
  );
});

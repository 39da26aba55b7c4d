import { assert, assertEquals, assertRejects } from "./test_assert.ts";
import { join } from "node:path";
import type { Id } from "../common/ids.ts";
import { MEMORY_LIMIT, SessionClosedError } from "./object_store.ts";
import { packDirectory } from "./tar.ts";
import {
  describeTree,
  makeSampleTree,
  newId,
  readAll,
  SAMPLE_TREE_SIZE,
  tempDir,
  tempStore,
  treeModes,
} from "./test_util.ts";

function bytes(n: number, seed = 1): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

Deno.test("small blobs stay in memory, larger ones become read-only files", async () => {
  await using t = await tempStore();
  const small = await t.store.putBlob(newId(), bytes(MEMORY_LIMIT));
  assert(small.data !== undefined && small.path === undefined);
  assertEquals(small.size, MEMORY_LIMIT);

  const bigData = bytes(MEMORY_LIMIT + 1);
  const big = await t.store.putBlob(newId(), bigData);
  assert(big.data === undefined && big.path !== undefined);
  assert(big.path.startsWith(t.store.dataDir));
  assertEquals((await Deno.stat(big.path)).mode! & 0o777, 0o444);
  assertEquals(await t.store.readBytes(big), bigData);
  assertEquals(await readAll(await t.store.openStream(big)), bigData);
  assertEquals(t.store.count, 2);
});

Deno.test("putStream spills to a file once past the limit, keeps small streams in memory", async () => {
  await using t = await tempStore();
  const chunks = [bytes(100_000, 1), bytes(100_000, 2), bytes(100_000, 3)];
  const big = await t.store.putStream(newId(), "blob", ReadableStream.from(chunks));
  assert(big.path !== undefined);
  assertEquals(big.size, 300_000);
  const all = await t.store.readBytes(big);
  assertEquals(all.subarray(200_000), chunks[2]);

  const small = await t.store.putStream(
    newId(),
    "blob",
    ReadableStream.from([bytes(10), bytes(5)]),
  );
  assert(small.data !== undefined);
  assertEquals(small.size, 15);

  // A size hint above the limit goes to a file straight away.
  const hinted = await t.store.putStream(
    newId(),
    "blob",
    ReadableStream.from([bytes(10)]),
    "x",
    1e6,
  );
  assert(hinted.path !== undefined);
  assertEquals(hinted.contentType, "x");
});

Deno.test("a failed stream leaves no object and no temp file", async () => {
  await using t = await tempStore();
  const id = newId();
  const broken = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(bytes(MEMORY_LIMIT + 10));
    },
    pull(c) {
      c.error(new Error("network broke"));
    },
  });
  await assertRejects(() => t.store.putStream(id, "blob", broken), Error, "network broke");
  assert(!t.store.has(id));
  assertEquals([...Deno.readDirSync(t.store.tmpDir)].length, 0);
});

Deno.test("delete list: removal after the timeout, revive, batched report", async () => {
  const reports: Id[][] = [];
  let reportedTwice: () => void;
  const secondReport = new Promise<void>((resolve) => reportedTwice = resolve);
  await using t = await tempStore(0.05, (ids) => {
    if (reports.push(ids) === 2) reportedTwice();
  });
  const a = await t.store.putBlob(newId(), bytes(10));
  const b = await t.store.putBlob(newId(), bytes(MEMORY_LIMIT + 5));
  const c = await t.store.putBlob(newId(), bytes(10));
  const missing = newId();
  t.store.delete([a.id, b.id, c.id, missing]);
  assertEquals(reports, [[missing]], "an object not held is reported at once");
  assertEquals(t.store.deleteListIds(), [a.id, b.id, c.id]);
  assert(t.store.revive(c.id));
  assert(!t.store.revive(c.id));
  assert(t.store.has(a.id), "still held while on the list");
  await secondReport;
  assertEquals(reports, [[missing], [a.id, b.id]], "one batch for both");
  assert(!t.store.has(a.id) && !t.store.has(b.id) && t.store.has(c.id));
  await t.store.removalsSettled();
  await assertRejects(() => Deno.stat(b.path!), Deno.errors.NotFound);
  assertEquals(t.store.deleteListIds(), []);
});

Deno.test("delete list with timeout 0 removes at once", async () => {
  const reports: Id[][] = [];
  await using t = await tempStore(0, (ids) => reports.push(ids));
  const a = await t.store.putBlob(newId(), bytes(10));
  const b = await t.store.putBlob(newId(), bytes(10));
  t.store.delete([a.id, b.id]);
  assertEquals(reports, [[a.id, b.id]]);
  assertEquals(t.store.count, 0);
});

Deno.test("directory: tar round trip with an empty dir, a symlink and a >100-char name", async () => {
  await using src = await tempDir();
  const long = await makeSampleTree(src.path);
  assert(long.length > 100);
  await using t1 = await tempStore();
  await using t2 = await tempStore();
  const stored = await t1.store.putStream(newId(), "dir", packDirectory(src.path));
  assertEquals(stored.dataType, "dir");
  assertEquals(stored.size, SAMPLE_TREE_SIZE);
  assertEquals(await describeTree(stored.path!), await describeTree(src.path));

  // Stored directories are read-only: files 0444 (0555 if executable), dirs 0555.
  const modes = await treeModes(stored.path!);
  assertEquals(modes.get("a.txt"), 0o444);
  assertEquals(modes.get("run.sh"), 0o555);
  assertEquals(modes.get("sub"), 0o555);
  assertEquals(modes.get("sub/empty"), 0o555);
  assertEquals((await Deno.stat(stored.path!)).mode! & 0o777, 0o555);

  // And back out as tar, into another store.
  const again = await t2.store.putStream(stored.id, "dir", await t1.store.openStream(stored));
  assertEquals(await describeTree(again.path!), await describeTree(src.path));
  assertEquals(again.size, SAMPLE_TREE_SIZE);

  // An empty directory, also from an empty body.
  await using empty = await tempDir();
  const e1 = await t1.store.putStream(newId(), "dir", packDirectory(empty.path));
  assertEquals(await describeTree(e1.path!), []);
  const e2 = await t1.store.putBytes(newId(), "dir", new Uint8Array(0));
  assertEquals(e2.size, 0);
});

Deno.test("extraction refuses entries escaping the directory", async () => {
  const { packTar } = await import("modern-tar");
  await using t = await tempStore();
  for (
    const entries of [
      [{ header: { name: "../evil", size: 1, type: "file" as const }, body: "x" }],
      [{ header: { name: "/abs", size: 1, type: "file" as const }, body: "x" }],
      [
        { header: { name: "l", size: 0, type: "symlink" as const, linkname: "/tmp" } },
        { header: { name: "l/x", size: 1, type: "file" as const }, body: "x" },
      ],
    ]
  ) {
    const tar = await packTar(entries);
    const id = newId();
    await assertRejects(() => t.store.putBytes(id, "dir", tar), Error, "bad directory archive");
    assert(!t.store.has(id));
  }
  // A truncated archive is an error too.
  await using src = await tempDir();
  await makeSampleTree(src.path);
  const whole = await readAll(packDirectory(src.path));
  await assertRejects(
    () => t.store.putBytes(newId(), "dir", whole.subarray(0, whole.length - 1536)),
    Error,
    "truncated",
  );
});

Deno.test("clone shares memory and hard-links files", async () => {
  await using t = await tempStore();
  const mem = await t.store.putBlob(newId(), bytes(10));
  const memClone = await t.store.clone(mem, newId(), "text");
  assert(memClone.data === mem.data);
  assertEquals(memClone.contentType, "text");
  const file = await t.store.putBlob(newId(), bytes(MEMORY_LIMIT * 2));
  const fileClone = await t.store.clone(file, newId(), undefined);
  assertEquals((await Deno.stat(fileClone.path!)).ino, (await Deno.stat(file.path!)).ino);
  await using src = await tempDir();
  await makeSampleTree(src.path);
  const dir = await t.store.putStream(newId(), "dir", packDirectory(src.path));
  const dirClone = await t.store.clone(dir, newId(), undefined);
  assertEquals(await describeTree(dirClone.path!), await describeTree(src.path));
  assertEquals(dirClone.size, dir.size);
});

Deno.test("dropSession forgets a session's objects and refuses later writes", async () => {
  await using t = await tempStore(10);
  const other = await t.store.putBlob(newId(2), bytes(10));
  const file = await t.store.putBlob(newId(1), bytes(MEMORY_LIMIT + 1));
  await t.store.putBlob(newId(1), bytes(3));
  t.store.delete([file.id]);
  t.store.dropSession(1);
  assertEquals(t.store.count, 1);
  assert(t.store.has(other.id));
  assertEquals(t.store.deleteListIds(), []);
  await assertRejects(() => t.store.putBlob(newId(1), bytes(3)), SessionClosedError);
  await assertRejects(
    () => t.store.putBlob(newId(1), bytes(MEMORY_LIMIT + 1)),
    SessionClosedError,
  );
  await t.store.removalsSettled();
  await assertRejects(() => Deno.stat(join(t.store.dataDir, "1")), Deno.errors.NotFound);
  assertEquals([...Deno.readDirSync(t.store.tmpDir)].length, 0);
});

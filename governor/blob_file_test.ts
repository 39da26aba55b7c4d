import { deepStrictEqual as assertEquals, rejects } from "node:assert/strict";
import { join } from "node:path";
import { type ReadInto, writeBlobFile } from "./blob_file.ts";

/** A reader of `data` answering at most `step` bytes per read (a socket's uneven reads). */
function readerOf(data: Uint8Array, step: number, failAt = Infinity): ReadInto {
  let at = 0;
  return (into) => {
    if (at >= failAt) return Promise.reject(new Error("connection reset"));
    if (at >= data.length) return Promise.resolve(null);
    const n = Math.min(step, into.length, data.length - at);
    into.set(data.subarray(at, at + n));
    at += n;
    return Promise.resolve(n);
  };
}

function pattern(length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 7 + (i >> 8)) & 0xff);
}

Deno.test("writeBlobFile writes exactly the bytes read, through both buffers in turn", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (
      const [length, step, buffer] of [[0, 1, 16], [5, 2, 16], [1000, 3, 64], [4096, 4096, 64]]
    ) {
      const data = pattern(length!);
      const path = join(dir, `blob-${length}`);
      await writeBlobFile(readerOf(data, step!), length!, path, buffer);
      assertEquals(await Deno.readFile(path), data);
      assertEquals((await Deno.stat(path)).mode! & 0o777, 0o444);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeBlobFile removes its file when the body ends short, runs long or breaks", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const data = pattern(300);
    const path = join(dir, "blob");
    await rejects(writeBlobFile(readerOf(data, 7), 301, path, 64), /ended 1 bytes short/);
    await rejects(writeBlobFile(readerOf(data, 7), 299, path, 64), /longer than the 299 bytes/);
    await rejects(writeBlobFile(readerOf(data, 7, 140), 300, path, 64), /connection reset/);
    assertEquals([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

import { deepStrictEqual as assertEquals, rejects } from "node:assert/strict";
import { copyInTurns, type ReadInto } from "./copy_in_turns.ts";

/** A reader of `data` answering at most `step` bytes per read (a socket's uneven reads). */
function readerOf(data: Uint8Array, step: number): ReadInto {
  let at = 0;
  return (into) => {
    if (at >= data.length) return Promise.resolve(null);
    const n = Math.min(step, into.length, data.length - at);
    into.set(data.subarray(at, at + n));
    at += n;
    return Promise.resolve(n);
  };
}

Deno.test("copyInTurns copies everything, in writes of a filled buffer, up to its limit", async () => {
  const data = Uint8Array.from({ length: 1000 }, (_, i) => i & 0xff);
  const writes: number[] = [];
  const out: number[] = [];
  const write = (bytes: Uint8Array) => {
    writes.push(bytes.length);
    out.push(...bytes); // copied now: the buffer is filled again after the write resolves
    return Promise.resolve();
  };
  assertEquals(await copyInTurns(readerOf(data, 7), write, { bufferBytes: 64 }), 1000);
  assertEquals(Uint8Array.from(out), data);
  assertEquals(writes.slice(0, 3), [64, 64, 64]);
  writes.length = out.length = 0;
  const fill = { bufferBytes: 64, fillBytes: 20, limit: 300 };
  assertEquals(await copyInTurns(readerOf(data, 7), write, fill), 300);
  assertEquals(Uint8Array.from(out), data.subarray(0, 300));
  assertEquals(writes[0], 21); // reads of 7 until at least 20
});

Deno.test("copyInTurns rejects with a failed write, after the read in progress", async () => {
  const data = new Uint8Array(500);
  let writes = 0;
  const write = () => ++writes === 2 ? Promise.reject(new Error("peer gone")) : Promise.resolve();
  await rejects(copyInTurns(readerOf(data, 50), write, { bufferBytes: 100 }), /peer gone/);
});

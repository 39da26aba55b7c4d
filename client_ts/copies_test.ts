/**
 * The JSR package's copies of repository code stay the same as the originals: the package
 * depends on nothing outside its folder, so it carries its own shell-split, framing reader and
 * size parser.
 * (Wire types and constants: schema_test.ts.)
 */
import assert from "node:assert/strict";
import * as Repo from "../common/framing.ts";
import * as Mine from "./framing.ts";
import { shellSplit as repoShellSplit } from "../cli/shlex.ts";
import { shellSplit } from "./shlex.ts";
import { parseSize as repoParseSize } from "../common/resources.ts";
import { parseSize } from "./task.ts";

const here = (path: string) => new URL(path, import.meta.url);

Deno.test("client_ts/shlex.ts is cli/shlex.ts", async () => {
  const copy = await Deno.readTextFile(here("./shlex.ts"));
  const original = await Deno.readTextFile(here("../cli/shlex.ts"));
  assert.equal(copy, original, "copy cli/shlex.ts to client_ts/shlex.ts");
  assert.deepEqual(shellSplit(`a 'b c' "d \\"e"`), repoShellSplit(`a 'b c' "d \\"e"`));
});

/** `bytes` as a stream of `size`-byte chunks (headers and data split across reads). */
function chunked(bytes: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(offset, offset += size));
    },
  });
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) out.set(p, (offset += p.length) - p.length);
  return out;
}

/** What a reader makes of a framed body: two headers with data after each, then the end. */
async function readBody(
  reader: Mine.ByteReader | Repo.ExactReader,
): Promise<unknown[]> {
  const first = await reader.header<unknown>();
  const data = await reader.read(5);
  const second = await reader.header<unknown>();
  const rest = await reader.read(3);
  return [first, [...data], second, [...rest], await reader.atEnd()];
}

Deno.test("client_ts/framing.ts frames and reads like common/framing.ts", async () => {
  const header = { tasks: [{ id: [1, 2], task_type: "buildin/concat" }], note: "ünï" };
  assert.deepEqual(Mine.encodeHeader(header), Repo.encodeHeader(header));
  assert.equal(Mine.SUBMIT_CONTENT_TYPE, Repo.SUBMIT_CONTENT_TYPE);
  assert.equal(Mine.OBJECT_CONTENT_TYPE, Repo.OBJECT_CONTENT_TYPE);

  const body = concat(
    Repo.encodeHeader(header),
    new Uint8Array([1, 2, 3, 4, 5]),
    Repo.encodeHeader({ data_type: "blob" }),
    new Uint8Array([6, 7, 8]),
  );
  for (const size of [1, 3, 7, body.length]) {
    const mine = await readBody(new Mine.ByteReader(chunked(body, size)));
    const repo = await readBody(new Repo.ExactReader(chunked(body, size)));
    assert.deepEqual(mine, repo, `chunks of ${size} bytes`);
    assert.deepEqual(mine[0], header);
  }

  // Both refuse a body that ends early and a header above the same size limit.
  const short = body.subarray(0, 10);
  await assert.rejects(() => new Mine.ByteReader(chunked(short, 4)).header(), /ended early/);
  await assert.rejects(() => new Repo.ExactReader(chunked(short, 4)).header(), /ended early/);
  const huge = new Uint8Array(4);
  new DataView(huge.buffer).setUint32(0, Repo.MAX_HEADER_BYTES + 1);
  await assert.rejects(() => new Mine.ByteReader(chunked(huge, 4)).header(), /too large/);
  await assert.rejects(() => new Repo.ExactReader(chunked(huge, 4)).header(), /too large/);
});

Deno.test("client_ts parseSize reads sizes as common/resources.ts does", () => {
  for (const size of ["0", "1000", "1.5g", "512MB", "4GiB", " 2 kib ", "3TB", "7b"]) {
    assert.equal(parseSize(size), repoParseSize(size), size);
  }
  for (const bad of ["", "lots", "1.2.3", "-1", "4 GiBs"]) {
    assert.throws(() => repoParseSize(bad));
    assert.throws(() => parseSize(bad));
  }
});

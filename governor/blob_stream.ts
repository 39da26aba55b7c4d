/**
 * Blob bytes read from a stream for the object store: kept in memory while small, spilled to a
 * read-only temp file once larger (`ObjectStore.putStream`).
 */
import { removeTree } from "./fs_util.ts";
import { joinBytes } from "../common/bytes.ts";

/** Bytes per write of a blob spilled to a file (`putStream`). */
const WRITE_BYTES = 1 << 20;

/** A blob read from a stream: its bytes in memory, or the temp file they were written to. */
export type ReadBlob =
  | { data: Uint8Array; size: number; tmp?: undefined }
  | { tmp: string; size: number };

/**
 * Reads blob bytes from `stream`: kept in memory while at most `memoryLimit` bytes, written to
 * a new read-only file at `tempPath()` once larger (at once when `sizeHint` is larger).
 */
export async function readBlobStream(
  stream: ReadableStream<Uint8Array>,
  memoryLimit: number,
  tempPath: () => string,
  sizeHint?: number,
): Promise<ReadBlob> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let tmp: string | undefined;
  // Written with the file's own writes (a WritableStream costs a promise chain per chunk),
  // gathered into writes of WRITE_BYTES: a network stream's chunks are 64 KiB at most, and a
  // write per chunk costs more than the copy.
  let file: Deno.FsFile | undefined;
  const gathered = new Uint8Array(WRITE_BYTES);
  let filled = 0;
  const flush = async () => {
    let written = 0;
    while (written < filled) written += await file!.write(gathered.subarray(written, filled));
    filled = 0;
  };
  const write = async (bytes: Uint8Array) => {
    if (bytes.length >= WRITE_BYTES) {
      await flush();
      let written = 0;
      while (written < bytes.length) written += await file!.write(bytes.subarray(written));
      return;
    }
    if (filled + bytes.length > WRITE_BYTES) await flush();
    gathered.set(bytes, filled);
    filled += bytes.length;
  };
  const spill = async () => {
    tmp = tempPath();
    file = await Deno.open(tmp, { write: true, createNew: true, mode: 0o444 });
    for (const c of chunks) await write(c);
    chunks.length = 0;
  };
  try {
    if (sizeHint !== undefined && sizeHint > memoryLimit) await spill();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      total += value.length;
      if (file) {
        await write(value);
      } else {
        chunks.push(value);
        if (total > memoryLimit) await spill();
      }
    }
    if (file) await flush();
    file?.close();
    file = undefined;
  } catch (e) {
    reader.cancel().catch(() => {});
    try {
      file?.close();
    } catch { /* closed */ }
    if (tmp) await removeTree(tmp).catch(() => {});
    throw e;
  }
  if (tmp === undefined) {
    const data = joinBytes(chunks, total);
    return { data, size: total };
  }
  return { tmp, size: total };
}

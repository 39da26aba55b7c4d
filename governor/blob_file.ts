/**
 * A large blob written to a new read-only file straight from a reader (`readInto`, e.g. a raw
 * socket: governor/raw_get.ts), for governor-to-governor transfers (issues 15, 16).
 *
 * Two buffers take turns: while one is written to the file (Deno runs file writes off the main
 * thread), the next is read from the socket, so receiving and writing overlap instead of
 * adding up. No stream and no chunk per read: each byte is copied once, socket to buffer.
 */
import { removeTree } from "./fs_util.ts";

/** Bytes of each of the two buffers: large writes that still fit the CPU cache (4 MiB measured slower). */
export const BLOB_FILE_BUFFER_BYTES = 1 << 20;

/** Reads the next bytes into `into`; null at the end. */
export type ReadInto = (into: Uint8Array) => Promise<number | null>;

/**
 * Writes `length` bytes from `readInto` to a new read-only file at `path`. Rejects (and removes
 * the file) if the reader ends short, sends more or fails.
 */
export async function writeBlobFile(
  readInto: ReadInto,
  length: number,
  path: string,
  bufferBytes = BLOB_FILE_BUFFER_BYTES,
): Promise<void> {
  const file = await Deno.open(path, { write: true, createNew: true, mode: 0o444 });
  const size = Math.max(1, Math.min(bufferBytes, length));
  const buffers = [new Uint8Array(size), new Uint8Array(length > size ? size : 0)];
  let writing: Promise<void> = Promise.resolve();
  try {
    let left = length;
    for (let turn = 0; left > 0; turn ^= 1) {
      const buffer = buffers[turn]!;
      const want = Math.min(buffer.length, left);
      let filled = 0;
      while (filled < want) {
        const n = await readInto(buffer.subarray(filled, want));
        if (n === null) throw new Error(`the body ended ${left - filled} bytes short`);
        filled += n;
      }
      left -= filled;
      // The other buffer's write ends before that buffer is read into (the next turn).
      await writing;
      writing = writeAll(file, buffer.subarray(0, filled));
      // Handled by the next `await writing`; a rejection waiting for it must not end the process.
      writing.catch(() => {});
    }
    await writing;
    if (await readInto(buffers[0]!.subarray(0, 1)) !== null) {
      throw new Error(`the body is longer than the ${length} bytes announced`);
    }
    file.close();
  } catch (e) {
    await writing.catch(() => {});
    try {
      file.close();
    } catch { /* closed */ }
    await removeTree(path).catch(() => {});
    throw e;
  }
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await file.write(bytes.subarray(written));
}

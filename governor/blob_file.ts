/**
 * A large blob written to a new read-only file straight from a reader (`readInto`, e.g. a raw
 * socket: governor/raw_get.ts), for governor-to-governor transfers (issues 15, 16): read into two
 * buffers taking turns with the file writes (common/copy_in_turns.ts; Deno runs file writes off
 * the main thread), so receiving and writing overlap instead of adding up.
 */
import { copyInTurns, type ReadInto } from "../common/copy_in_turns.ts";
import { removeTree } from "./fs_util.ts";

export type { ReadInto };

/** Bytes of each of the two buffers: large writes that still fit the CPU cache (4 MiB measured slower). */
export const BLOB_FILE_BUFFER_BYTES = 1 << 20;

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
  try {
    const copied = await copyInTurns(readInto, (bytes) => writeAll(file, bytes), {
      bufferBytes,
      limit: length,
    });
    if (copied < length) throw new Error(`the body ended ${length - copied} bytes short`);
    if (await readInto(new Uint8Array(1)) !== null) {
      throw new Error(`the body is longer than the ${length} bytes announced`);
    }
    file.close();
  } catch (e) {
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

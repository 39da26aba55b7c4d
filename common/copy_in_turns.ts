/**
 * Copying bytes from a reader to a writer through two buffers that take turns: one is filled
 * (socket reads return what has arrived, often 64 KiB: a buffer takes several) while the other is
 * written, so reading and writing overlap instead of adding up. No stream and no chunk per read:
 * each byte is copied once, into a buffer. Used for direct object sends (server/direct_fetch.ts)
 * and for large blobs received from peers (governor/blob_file.ts).
 */

/** Reads the next bytes into `into`; null at the end. */
export type ReadInto = (into: Uint8Array) => Promise<number | null>;

export interface CopyOptions {
  /** Bytes of each buffer. */
  bufferBytes: number;
  /** How full a buffer is made before it is written (at most `bufferBytes`; default: full). */
  fillBytes?: number;
  /** Bytes to copy at most (default: until `read` returns null). */
  limit?: number;
}

/**
 * Copies from `read` to `write` until `read` ends or `limit` bytes are copied; resolves with the
 * count. A failed write rejects (after the read in progress), as does a failed read (after the
 * write in flight).
 */
export async function copyInTurns(
  read: ReadInto,
  write: (bytes: Uint8Array) => Promise<void>,
  options: CopyOptions,
): Promise<number> {
  const limit = options.limit ?? Infinity;
  const size = Math.max(1, Math.min(options.bufferBytes, limit));
  const fill = Math.min(options.fillBytes ?? size, size);
  let filling = new Uint8Array(size);
  // One turn copies it all when the limit is within a fill: no second buffer then.
  let spare = new Uint8Array(limit <= fill ? 0 : size);
  let writing: Promise<void> = Promise.resolve();
  let copied = 0;
  let ended = false;
  try {
    while (!ended && copied < limit) {
      const want = Math.min(filling.length, limit - copied);
      let filled = 0;
      while (filled < Math.min(fill, want)) {
        const n = await read(filling.subarray(filled, want));
        if (n === null) {
          ended = true;
          break;
        }
        filled += n;
      }
      // The other buffer's write ends before that buffer is filled (the next turn).
      await writing;
      if (filled === 0) break;
      writing = write(filling.subarray(0, filled));
      // Handled at once: a writer gone while the next buffer is read must not be an unhandled
      // rejection (that ends the process); the next `await writing` still throws it.
      writing.catch(() => {});
      copied += filled;
      [filling, spare] = [spare, filling];
    }
  } finally {
    await writing.catch(() => {}); // a failed read ends the copy: the write in flight first
  }
  await writing;
  return copied;
}

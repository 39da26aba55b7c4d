/**
 * A log file that cannot grow without bound (issue 15: a chatty executor wrote 200 MB): the
 * first `headBytes` go to the file as they come, then only the last `tailBytes` are kept (in
 * memory) and appended at `close()` after a line saying how much was dropped.
 */
export const LOG_HEAD_BYTES = 1024 * 1024;
export const LOG_TAIL_BYTES = 1024 * 1024;

export class CappedLog {
  readonly #file: Deno.FsFile;
  readonly #headBytes: number;
  readonly #tailBytes: number;
  #written = 0;
  /** Bytes after the head, oldest first; trimmed to about `tailBytes`. */
  #tail: Uint8Array[] = [];
  #tailLength = 0;
  #dropped = 0;

  constructor(file: Deno.FsFile, headBytes = LOG_HEAD_BYTES, tailBytes = LOG_TAIL_BYTES) {
    this.#file = file;
    this.#headBytes = headBytes;
    this.#tailBytes = tailBytes;
  }

  /** Bytes not kept so far. */
  get dropped(): number {
    return this.#dropped;
  }

  async write(chunk: Uint8Array): Promise<void> {
    const room = Math.max(0, this.#headBytes - this.#written);
    if (room > 0) {
      const head = chunk.subarray(0, room);
      await writeAll(this.#file, head);
      this.#written += head.length;
      chunk = chunk.subarray(head.length);
    }
    if (chunk.length === 0) return;
    this.#tail.push(chunk.slice());
    this.#tailLength += chunk.length;
    while (this.#tailLength > this.#tailBytes) {
      const first = this.#tail[0]!;
      const excess = this.#tailLength - this.#tailBytes;
      if (first.length <= excess) {
        this.#tail.shift();
        this.#tailLength -= first.length;
        this.#dropped += first.length;
      } else {
        this.#tail[0] = first.subarray(excess);
        this.#tailLength -= excess;
        this.#dropped += excess;
      }
    }
  }

  /** Appends the kept tail (after a note if anything was dropped) and closes the file. */
  async close(): Promise<void> {
    try {
      if (this.#dropped > 0) {
        await writeAll(
          this.#file,
          new TextEncoder().encode(
            `\n[rain: ${this.#dropped} bytes dropped here; the log keeps its first ` +
              `${this.#headBytes} and last ${this.#tailBytes} bytes]\n`,
          ),
        );
      }
      for (const part of this.#tail) await writeAll(this.#file, part);
    } finally {
      this.#file.close();
    }
  }
}

async function writeAll(file: Deno.FsFile, data: Uint8Array): Promise<void> {
  let written = 0;
  while (written < data.length) written += await file.write(data.subarray(written));
}

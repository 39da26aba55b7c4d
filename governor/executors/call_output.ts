/**
 * An executor call's output files, kept small while the call runs (issue 17). The executor
 * appends to them (docs/executors.md); the governor looks at them every OUTPUT_CHECK_MS, and a
 * file past OUTPUT_FILE_LIMIT is emptied once its head (the first time) and its tail are kept in
 * memory. When the call is over, `text()` gives what `readCapped` gives of a file never emptied:
 * the first and last bytes, with a line saying how many were dropped between.
 *
 * Bytes the task writes in the instant between a check's read and its truncation are lost (not
 * counted either); a task that writes faster than the disk fills during OUTPUT_CHECK_MS still
 * overshoots the limit by that much, no more.
 */
import {
  droppedNote,
  OUTPUT_HEAD_BYTES,
  OUTPUT_TAIL_BYTES,
  readCapped,
  readRange,
} from "../task_output.ts";

/** Bytes a call's output file may hold before the governor empties it. */
export const OUTPUT_FILE_LIMIT = 1024 * 1024;
/** How often a running call's output files are looked at (ms). */
export const OUTPUT_CHECK_MS = 250;

const decoder = new TextDecoder();

export class TrimmedOutputFile {
  readonly path: string;
  readonly #limit: number;
  /** The file's first bytes, kept when it was first emptied. */
  #head: Uint8Array | undefined;
  /** Its last bytes when it was last emptied. */
  #tail: Uint8Array = new Uint8Array(0);
  /** Bytes emptied from the file in all. */
  #emptied = 0;

  constructor(path: string, limit = OUTPUT_FILE_LIMIT) {
    this.path = path;
    this.#limit = limit;
  }

  /** Empties the file when it is past the limit (its head and tail kept). */
  check(): void {
    let file: Deno.FsFile;
    try {
      file = Deno.openSync(this.path, { read: true, write: true });
    } catch {
      return; // not created yet, or gone
    }
    try {
      const size = file.statSync().size;
      if (size <= this.#limit) return;
      this.#head ??= readRange(file, 0, OUTPUT_HEAD_BYTES);
      this.#tail = readRange(file, size - OUTPUT_TAIL_BYTES, OUTPUT_TAIL_BYTES);
      file.truncateSync(0);
      this.#emptied += size;
    } finally {
      file.close();
    }
  }

  /** The call's capped output ("" when it printed nothing). */
  text(): string {
    if (this.#head === undefined) return readCapped(this.path);
    let rest: Uint8Array = new Uint8Array(0);
    let size = 0;
    try {
      using file = Deno.openSync(this.path, { read: true });
      size = file.statSync().size;
      rest = readRange(file, Math.max(0, size - OUTPUT_TAIL_BYTES), OUTPUT_TAIL_BYTES);
    } catch {
      // gone: what was kept is all there is
    }
    const joined = new Uint8Array(this.#tail.length + rest.length);
    joined.set(this.#tail);
    joined.set(rest, this.#tail.length);
    const tail = joined.subarray(Math.max(0, joined.length - OUTPUT_TAIL_BYTES));
    const dropped = this.#emptied + size - this.#head.length - tail.length;
    return decoder.decode(this.#head) + droppedNote(dropped) + decoder.decode(tail);
  }
}

/** Both output files of a call, checked every OUTPUT_CHECK_MS until `stop()`. */
export class CallOutputFiles {
  readonly stdout: TrimmedOutputFile;
  readonly stderr: TrimmedOutputFile;
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(files: { stdout: string; stderr: string }, limit = OUTPUT_FILE_LIMIT) {
    this.stdout = new TrimmedOutputFile(files.stdout, limit);
    this.stderr = new TrimmedOutputFile(files.stderr, limit);
    this.#timer = setInterval(() => {
      this.stdout.check();
      this.stderr.check();
    }, OUTPUT_CHECK_MS);
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

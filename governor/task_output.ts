/**
 * Per-task output (issue 17): what a task printed and did not map to an output, capped so that a
 * chatty task cannot flood the server, the event log or a client. Each stream keeps its first
 * OUTPUT_HEAD_BYTES and last OUTPUT_TAIL_BYTES, with one line between saying how much was dropped.
 *
 * Programs' pipes are read through an `OutputCapture`; executors write a call's output to files
 * the governor names in the call (docs/executors.md), read back here with `readCapped` (only the
 * head and the tail of a large file are read).
 */
import { dirname, join } from "node:path";
import type { TaskOutput } from "../common/messages.ts";
import { Logger } from "../common/log.ts";
import { joinBytes } from "../common/bytes.ts";
import { errorMessage } from "./fs_util.ts";

const log = new Logger("governor");

export const OUTPUT_HEAD_BYTES = 32 * 1024;
export const OUTPUT_TAIL_BYTES = 32 * 1024;

/** The line put where bytes were dropped. */
export function droppedNote(dropped: number): string {
  return `\n[rain: ${dropped} bytes dropped here; the first ${OUTPUT_HEAD_BYTES} and last ` +
    `${OUTPUT_TAIL_BYTES} bytes are kept]\n`;
}

const decoder = new TextDecoder();

/** A stream's bytes as they come, kept capped (head, tail, count of the gap). */
export class OutputCapture {
  #head: Uint8Array[] = [];
  #headLength = 0;
  #tail: Uint8Array[] = [];
  #tailLength = 0;
  #dropped = 0;

  /** Bytes seen in all. */
  get size(): number {
    return this.#headLength + this.#tailLength + this.#dropped;
  }

  push(chunk: Uint8Array): void {
    const room = OUTPUT_HEAD_BYTES - this.#headLength;
    if (room > 0) {
      const head = chunk.subarray(0, room);
      this.#head.push(head.slice());
      this.#headLength += head.length;
      chunk = chunk.subarray(head.length);
    }
    if (chunk.length === 0) return;
    this.#tail.push(chunk.slice());
    this.#tailLength += chunk.length;
    while (this.#tailLength > OUTPUT_TAIL_BYTES) {
      const first = this.#tail[0]!;
      const excess = this.#tailLength - OUTPUT_TAIL_BYTES;
      const cut = Math.min(first.length, excess);
      if (cut === first.length) this.#tail.shift();
      else this.#tail[0] = first.subarray(cut);
      this.#tailLength -= cut;
      this.#dropped += cut;
    }
  }

  /** The kept text ("" when nothing came). */
  text(): string {
    const head = decoder.decode(joinBytes(this.#head, this.#headLength));
    if (this.#tailLength === 0) return head;
    const tail = decoder.decode(joinBytes(this.#tail, this.#tailLength));
    return this.#dropped > 0 ? head + droppedNote(this.#dropped) + tail : head + tail;
  }
}

/** Reads a whole stream into a capture; a broken pipe ends it (the process is gone). */
export async function captureStream(stream: ReadableStream<Uint8Array>): Promise<OutputCapture> {
  const capture = new OutputCapture();
  const reader = stream.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      capture.push(value);
    }
  } catch {
    // the pipe broke
  }
  return capture;
}

/**
 * The capped text of a file ("" when it is missing or empty): only its head and tail are read.
 * Synchronous: it runs after every executor call, the file is local and at most 64 KiB is read,
 * and the common case (nothing printed) is one stat.
 */
export function readCapped(path: string): string {
  let size: number;
  try {
    size = Deno.statSync(path).size;
  } catch {
    return "";
  }
  if (size === 0) return "";
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true });
  } catch {
    return "";
  }
  try {
    if (size <= OUTPUT_HEAD_BYTES + OUTPUT_TAIL_BYTES) {
      return decoder.decode(readExactly(file, size));
    }
    const head = readExactly(file, OUTPUT_HEAD_BYTES);
    file.seekSync(size - OUTPUT_TAIL_BYTES, Deno.SeekMode.Start);
    const tail = readExactly(file, OUTPUT_TAIL_BYTES);
    const dropped = size - OUTPUT_HEAD_BYTES - OUTPUT_TAIL_BYTES;
    return decoder.decode(head) + droppedNote(dropped) + decoder.decode(tail);
  } finally {
    file.close();
  }
}

/** Up to `n` bytes of the file from `offset` (fewer at its end). */
export function readRange(file: Deno.FsFile, offset: number, n: number): Uint8Array {
  file.seekSync(offset, Deno.SeekMode.Start);
  return readExactly(file, n);
}

function readExactly(file: Deno.FsFile, n: number): Uint8Array {
  const buf = new Uint8Array(n);
  let filled = 0;
  while (filled < n) {
    const got = file.readSync(buf.subarray(filled));
    if (got === null) break;
    filled += got;
  }
  return buf.subarray(0, filled);
}

/** `{stdout, stderr}` without the empty ones; undefined when both are empty. */
export function taskOutput(stdout: string, stderr: string): TaskOutput | undefined {
  if (stdout === "" && stderr === "") return undefined;
  const out: TaskOutput = {};
  if (stdout !== "") out.stdout = stdout;
  if (stderr !== "") out.stderr = stderr;
  return out;
}

/**
 * Keeps a task's output in the governor's log directory, `<dir>/<session>/<task>.stdout` and
 * `.stderr` (a later attempt replaces an earlier one's); a failure to write is only logged.
 */
export async function saveTaskOutput(
  dir: string,
  task: readonly [number, number],
  output: TaskOutput,
): Promise<void> {
  const base = join(dir, String(task[0]), String(task[1]));
  try {
    await Deno.mkdir(dirname(base), { recursive: true });
    for (const stream of ["stdout", "stderr"] as const) {
      const text = output[stream];
      if (text !== undefined) await Deno.writeTextFile(`${base}.${stream}`, text);
      else await Deno.remove(`${base}.${stream}`).catch(() => {});
    }
  } catch (e) {
    log.warn(`cannot keep the output of task ${task[0]}/${task[1]} in ${dir}: ${errorMessage(e)}`);
  }
}

/**
 * The per-task output files of the governor's `<dir>/<session>/<task>.stdout|.stderr`: kept while
 * their session is open, removed once it is closed and its tasks are over (the event log holds
 * the same output, so a long-lived governor does not fill its log directory).
 */
export class TaskOutputFiles {
  readonly dir: string;
  #sessions = new Map<number, { running: number; closed: boolean; saves: Promise<void> }>();
  #removals = new Set<Promise<void>>();

  constructor(dir: string) {
    this.dir = dir;
  }

  #entry(session: number) {
    let entry = this.#sessions.get(session);
    if (entry === undefined) {
      this.#sessions.set(session, entry = { running: 0, closed: false, saves: Promise.resolve() });
    }
    return entry;
  }

  /** A task of the session started (its files go only after it ended). */
  started(session: number): void {
    this.#entry(session).running++;
  }

  ended(session: number): void {
    const entry = this.#entry(session);
    if (--entry.running === 0 && entry.closed) this.#remove(session);
  }

  /** Keeps the output of a task (of a session not closed: that one's files are going). */
  save(task: readonly [number, number], output: TaskOutput): void {
    const entry = this.#entry(task[0]);
    if (entry.closed) return;
    entry.saves = entry.saves.then(() => saveTaskOutput(this.dir, task, output));
  }

  closeSession(session: number): void {
    const entry = this.#entry(session);
    entry.closed = true;
    if (entry.running === 0) this.#remove(session);
  }

  #remove(session: number): void {
    const entry = this.#sessions.get(session)!;
    this.#sessions.delete(session);
    const path = join(this.dir, String(session));
    const removal = entry.saves
      .then(() => Deno.remove(path, { recursive: true }))
      .catch((e) => {
        if (!(e instanceof Deno.errors.NotFound)) {
          log.warn(`cannot remove the task output of session ${session}: ${errorMessage(e)}`);
        }
      })
      .finally(() => this.#removals.delete(removal));
    this.#removals.add(removal);
  }

  /** Settles when the saves and removals started so far are done. */
  async settled(): Promise<void> {
    await Promise.all([...this.#sessions.values()].map((e) => e.saves));
    await Promise.all(this.#removals);
  }
}

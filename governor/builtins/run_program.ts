/**
 * Runs one external program for `buildin/run`: spawns it in its working directory with the
 * governor's environment (plus its process tag), feeds a stored object to its standard input,
 * captures its standard output (in memory while small, else streamed into a file), keeps its
 * standard error and an unmapped standard output capped as the task's output (task_output.ts),
 * and waits for it.
 *
 * - Abort (session closed, governor stopping): the program and everything it started are killed
 *   at once (SIGKILL, `killTagged`).
 * - When the program has exited but something it started still holds its output pipes, those
 *   leftovers are killed: a task is over when its program exits.
 * - Failures throw one message: the program not found or not executable, a non-zero exit code,
 *   a signal — with the tail of the standard error.
 */
import { errorMessage, removeTree } from "../fs_util.ts";
import { settlesWithin } from "../../common/timeout.ts";
import { MEMORY_LIMIT, type ObjectStore, type StoredObject } from "../object_store.ts";
import { killTagged, newProcessTag, PROCESS_TAG_ENV } from "../tagged_processes.ts";
import type { ProgramSpawner, SandboxChild } from "../sandbox.ts";
import { PeakMemorySampler } from "../peak_memory.ts";
import type { TaskOutput } from "../../common/messages.ts";
import { captureStream, taskOutput } from "../task_output.ts";
import { joinBytes } from "../../common/bytes.ts";

/** Bytes of standard error kept for the error message (the end of it). */
export const STDERR_TAIL = 8 * 1024;

/** How long pipes may stay open after the program exited before leftovers are killed (ms). */
const LEFTOVER_GRACE_MS = 100;

export interface ProgramOptions {
  args: string[];
  cwd: string;
  store: ObjectStore;
  signal: AbortSignal;
  /** Fed to the standard input (otherwise /dev/null). */
  stdin?: StoredObject;
  /** Capture the standard output (otherwise discarded). */
  captureStdout: boolean;
  /** Starts the program when the governor restricts programs (`--allow-run`, permissions.ts). */
  spawn?: ProgramSpawner;
  /** Added to the governor's environment (the task's resources, see common/resources.ts). */
  env?: Record<string, string>;
  /** Told the peak resident bytes of the program's process tree (tasks over 100 ms). */
  onPeakMemory?: (bytes: number) => void;
  /** Told what the program printed (stderr, and stdout when not captured), once it exited. */
  onOutput?: (output: TaskOutput | undefined) => void;
}

/** A captured standard output: bytes in memory, or a file under the store's temp directory. */
export type CapturedOutput =
  | { data: Uint8Array; size: number; file?: undefined }
  | { file: string; size: number; data?: undefined };

export interface ProgramResult {
  stdout?: CapturedOutput;
}

/** Runs the program; resolves when it exited successfully, throws a message otherwise. */
export async function runProgram(o: ProgramOptions): Promise<ProgramResult> {
  const program = o.args[0];
  if (program === undefined) throw new Error("no program to run (args is empty)");
  const tag = newProcessTag();
  let child: Deno.ChildProcess | SandboxChild;
  try {
    const options: Deno.CommandOptions = {
      args: o.args.slice(1),
      cwd: o.cwd,
      env: { ...o.env, [PROCESS_TAG_ENV]: tag },
      stdin: o.stdin ? "piped" : "null",
      stdout: o.captureStdout || o.onOutput ? "piped" : "null",
      stderr: "piped",
    };
    child = o.spawn ? await o.spawn(program, options) : new Deno.Command(program, options).spawn();
  } catch (e) {
    throw new Error(spawnError(program, e));
  }
  const onAbort = () => {
    try {
      child.kill("SIGKILL");
    } catch {
      // already exited
    }
    killTagged(tag);
  };
  o.signal.addEventListener("abort", onAbort, { once: true });
  const sampler = o.onPeakMemory ? new PeakMemorySampler(child.pid) : undefined;
  try {
    const fed = o.stdin ? feed(o.store, o.stdin, child.stdin) : undefined;
    const stderr = captureStream(child.stderr);
    const stdout = o.captureStdout ? capture(o.store, child.stdout) : undefined;
    const printed = !o.captureStdout && o.onOutput ? captureStream(child.stdout) : undefined;
    // Done when the program has exited and its pipes are closed (standard input fed or refused).
    let pipesClosed = false;
    const pipes = Promise.all([stderr, stdout, fed, printed]).finally(() => pipesClosed = true);
    pipes.catch(() => {});
    const status = await child.status;
    const peak = await sampler?.stop();
    if (peak !== undefined) o.onPeakMemory!(peak);
    if (!pipesClosed && !await settlesWithin(pipes, LEFTOVER_GRACE_MS)) await killTagged(tag);
    let captured: CapturedOutput | undefined;
    let stderrText: string;
    try {
      const [stderrCapture, stdoutCaptured, , printedCapture] = await pipes;
      captured = stdoutCaptured;
      stderrText = stderrCapture.text();
      o.onOutput?.(taskOutput(printedCapture?.text() ?? "", stderrText));
    } finally {
      await fed;
    }
    if (o.signal.aborted) {
      await discard(captured);
      throw o.signal.reason;
    }
    if (!status.success) {
      await discard(captured);
      const how = status.signal
        ? `was killed by signal ${status.signal}`
        : `exited with code ${status.code}`;
      throw Object.assign(
        new Error(
          `program ${how}: ${commandLine(o.args)}` +
            (stderrText ? `\nstderr:\n${lastBytes(stderrText)}` : ""),
        ),
        // Read by the task runner: `info.exit_code` (`policy.retry_on`), or a signal the
        // governor may be going down with.
        status.signal ? { signal: status.signal } : { exitCode: status.code },
      );
    }
    return { stdout: captured };
  } finally {
    void sampler?.stop();
    o.signal.removeEventListener("abort", onAbort);
  }
}

function spawnError(program: string, e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return `program '${program}' not found`;
  if (e instanceof Deno.errors.PermissionDenied) {
    return `program '${program}' cannot be executed: permission denied`;
  }
  return `cannot start program '${program}': ${errorMessage(e)}`;
}

/** The command line for messages: arguments quoted where needed, at most 300 characters. */
export function commandLine(args: string[]): string {
  const text = args.map((a) => /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`)
    .join(" ");
  return text.length > 300 ? text.slice(0, 297) + "..." : text;
}

/** Writes the object to the program's standard input; a program not reading it is fine. */
async function feed(
  store: ObjectStore,
  obj: StoredObject,
  stdin: WritableStream<Uint8Array>,
): Promise<void> {
  try {
    if (obj.data !== undefined) {
      const writer = stdin.getWriter();
      await writer.write(obj.data);
      await writer.close();
    } else {
      await (await store.openStream(obj)).pipeTo(stdin);
    }
  } catch {
    // the program closed its standard input (or exited) before reading everything
    await stdin.abort().catch(() => {});
  }
}

/** The end of a text for an error message: its last STDERR_TAIL characters ("..." first when cut). */
function lastBytes(text: string): string {
  text = text.trimEnd();
  return text.length > STDERR_TAIL ? "..." + text.slice(text.length - STDERR_TAIL) : text;
}

/** Reads the standard output: kept in memory up to MEMORY_LIMIT, then written to a file. */
async function capture(
  store: ObjectStore,
  stream: ReadableStream<Uint8Array>,
): Promise<CapturedOutput> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  let file: string | undefined;
  let writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  const reader = stream.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      size += value.length;
      if (writer !== undefined) {
        await writer.write(value);
        continue;
      }
      chunks.push(value);
      if (size > MEMORY_LIMIT) {
        file = store.tempPath();
        const f = await Deno.open(file, { write: true, createNew: true, mode: 0o444 });
        writer = f.writable.getWriter();
        for (const c of chunks) await writer.write(c);
        chunks.length = 0;
      }
    }
    if (writer !== undefined) await writer.close();
  } catch (e) {
    reader.cancel().catch(() => {});
    if (writer !== undefined) await writer.abort().catch(() => {});
    if (file !== undefined) await removeTree(file).catch(() => {});
    throw e;
  }
  if (file !== undefined) return { file, size };
  return { data: joinBytes(chunks, size), size };
}

/** Removes a captured output that will not become an object. */
export async function discard(captured: CapturedOutput | undefined): Promise<void> {
  if (captured?.file !== undefined) await removeTree(captured.file).catch(() => {});
}

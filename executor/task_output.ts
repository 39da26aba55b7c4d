/**
 * A call's output to the files the governor named (`call.output`, issue 17). Deno cannot point
 * its file descriptors elsewhere, so what a task prints through `console.*` and
 * `Deno.stdout`/`Deno.stderr` is written to the files for the call instead; programs it starts
 * with inherited stdio still write to the executor's own output (give them `"piped"`).
 */
import { format } from "node:util";

type Write = (p: Uint8Array) => number;
type WriteAsync = (p: Uint8Array) => Promise<number>;

const STDOUT_METHODS = ["log", "info", "debug"] as const;
const STDERR_METHODS = ["warn", "error", "trace"] as const;

const encoder = new TextEncoder();

/** Redirects the task's printing to `files`; the returned function puts everything back. */
export function redirectOutput(files: { stdout: string; stderr: string } | undefined): () => void {
  if (files === undefined) return () => {};
  // Appending: the governor may empty the files while the call runs (output past its limit).
  const open = (path: string) => Deno.openSync(path, { append: true, create: true, mode: 0o600 });
  const out = open(files.stdout);
  const err = open(files.stderr);
  const writeAll = (file: Deno.FsFile) => (p: Uint8Array): number => {
    let done = 0;
    while (done < p.length) done += file.writeSync(p.subarray(done));
    return p.length;
  };
  const toOut = writeAll(out);
  const toErr = writeAll(err);
  const saved = {
    console: Object.fromEntries(
      [...STDOUT_METHODS, ...STDERR_METHODS].map((m) => [m, console[m]]),
    ),
    stdoutSync: Deno.stdout.writeSync,
    stdoutAsync: Deno.stdout.write,
    stderrSync: Deno.stderr.writeSync,
    stderrAsync: Deno.stderr.write,
  };
  const line = (write: Write) => (...args: unknown[]) =>
    void write(encoder.encode(format(...args) + "\n"));
  for (const m of STDOUT_METHODS) console[m] = line(toOut);
  for (const m of STDERR_METHODS) console[m] = line(toErr);
  console.trace = (...args: unknown[]) => {
    const stack = new Error().stack?.split("\n").slice(2).join("\n") ?? "";
    toErr(encoder.encode(`Trace: ${format(...args)}\n${stack}\n`));
  };
  const stdout = Deno.stdout as { writeSync: Write; write: WriteAsync };
  const stderr = Deno.stderr as { writeSync: Write; write: WriteAsync };
  stdout.writeSync = toOut;
  stdout.write = (p) => Promise.resolve(toOut(p));
  stderr.writeSync = toErr;
  stderr.write = (p) => Promise.resolve(toErr(p));
  return () => {
    Object.assign(console, saved.console);
    stdout.writeSync = saved.stdoutSync;
    stdout.write = saved.stdoutAsync;
    stderr.writeSync = saved.stderrSync;
    stderr.write = saved.stderrAsync;
    out.close();
    err.close();
  };
}

/** `rain start`'s wait until every started process is ready, and what it reports when not. */
import { type Address } from "./address.ts";
import { type Spawned } from "./process.ts";
import { describeRemoteExit, type RemoteSpec } from "./remote.ts";
import { TIMED_OUT, withTimeout } from "../common/timeout.ts";

/** How long, after a process failed, other remote starts may take to settle (ms). */
const REMOTE_SETTLE_MS = 2000;

/**
 * Waits until every started process has written its ready file. Answers `undefined` when all are
 * ready, else what went wrong (a process died, the deadline passed, the user interrupted).
 */
export async function waitReady(
  started: Spawned[],
  deadline: number,
  timeout: number,
  interrupted: () => boolean,
): Promise<string | undefined> {
  for (;;) {
    let exited = started.filter((s) => s.exit !== undefined);
    if (exited.length > 0) {
      // Remote starts run in parallel: let the others settle a moment, so that one report names
      // every host that failed.
      const settle = Math.min(deadline, Date.now() + REMOTE_SETTLE_MS);
      const unsettled = () =>
        started.some((s) =>
          s.exit === undefined && (s.plan as Partial<RemoteSpec>).host !== undefined &&
          !isReady(s.plan.readyFile)
        );
      while (Date.now() < settle && unsettled()) await new Promise((r) => setTimeout(r, 50));
      exited = started.filter((s) => s.exit !== undefined);
      const lines = await Promise.all(exited.map(async (s) => {
        const remote = s.plan as Partial<RemoteSpec>;
        const why = remote.host !== undefined
          ? describeRemoteExit(remote.launcher!, remote.host, s.exit!)
          : describeExit(s.exit!);
        return `${s.plan.name} (pid ${s.pid}) exited during start (${why})` +
          await logTail(s.plan.logFile);
      }));
      return lines.join("\nrain: ");
    }
    for (const s of started) s.ready ||= isReady(s.plan.readyFile);
    const pending = started.filter((s) => !s.ready);
    if (pending.length === 0) return undefined;
    if (interrupted()) return "interrupted";
    if (Date.now() > deadline) {
      const tails = await Promise.all(pending.map((s) => logTail(s.plan.logFile)));
      return pending.map((s, i) =>
        `${s.plan.name} (pid ${s.pid}) was not ready within ${timeout} s ` +
        `(set RAIN_START_TIMEOUT to wait longer)${tails[i]}`
      ).join("\nrain: ");
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

function describeExit(status: Deno.CommandStatus): string {
  return status.signal ? `killed by ${status.signal}` : `exit code ${status.code}`;
}

/** A ready file holds `ready` (a remote governor's is its launcher's stdout: empty at first). */
function isReady(path: string): boolean {
  try {
    return Deno.readTextFileSync(path).startsWith("ready");
  } catch {
    return false;
  }
}

/** The last lines of a log file, indented, prefixed by a line naming the file. */
export async function logTail(path: string, lines = 20): Promise<string> {
  let text: string;
  try {
    const file = await Deno.open(path);
    try {
      const size = (await file.stat()).size;
      const start = Math.max(0, size - 8192);
      await file.seek(start, Deno.SeekMode.Start);
      const buf = new Uint8Array(size - start);
      let off = 0;
      while (off < buf.length) {
        const n = await file.read(buf.subarray(off));
        if (n === null) break;
        off += n;
      }
      text = new TextDecoder().decode(buf.subarray(0, off));
    } finally {
      file.close();
    }
  } catch {
    return `; no log at ${path}`;
  }
  const tail = text.split("\n").filter((l) => l.trim() !== "").slice(-lines);
  if (tail.length === 0) return `; its log ${path} is empty`;
  return `; last lines of ${path}:\n${tail.map((l) => `    ${l}`).join("\n")}`;
}

/** True when something accepts TCP connections at `a`. */
export async function answers(a: Address, timeoutMs = 1000): Promise<boolean> {
  const connecting = Deno.connect({ hostname: a.host, port: a.port });
  try {
    const conn = await withTimeout(connecting, timeoutMs);
    if (conn !== TIMED_OUT) {
      conn.close();
      return true;
    }
  } catch {
    // refused or unreachable
  }
  connecting.then((c) => c.close(), () => {});
  return false;
}

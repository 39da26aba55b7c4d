/** Background processes of `rain start`: started detached, stopped by process group. */
import { settlesWithin } from "../common/timeout.ts";

export interface ProcessSpec {
  name: string;
  argv: string[];
  /** stdout and stderr go here (truncated first). */
  logFile: string;
  readyFile: string;
  /** Extra environment variables (e.g. the cluster secret: not visible in `ps`). */
  env?: Record<string, string>;
}

export interface Spawned {
  plan: ProcessSpec;
  child: Deno.ChildProcess;
  pid: number;
  startedAt: number;
  /** Set once the process has exited. */
  exit?: Deno.CommandStatus;
  ready: boolean;
}

/**
 * Starts `spec.argv` in a new session (so it is its own process group and outlives `rain start`),
 * stdin from /dev/null, stdout and stderr into `spec.logFile`. `/bin/sh` applies the redirection
 * and then `exec`s the program, so the pid is the program's own.
 */
export function spawnDetached(spec: ProcessSpec): Spawned {
  const child = new Deno.Command("/bin/sh", {
    args: ["-c", 'exec "$@" >"$0" 2>&1 </dev/null', spec.logFile, ...spec.argv],
    detached: true,
    env: spec.env,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  return tracked(spec, child);
}

/** A just-spawned child as a `Spawned`, whose `exit` is set when it ends. */
export function tracked(spec: ProcessSpec, child: Deno.ChildProcess): Spawned {
  const spawned: Spawned = {
    plan: spec,
    child,
    pid: child.pid,
    startedAt: Date.now(),
    ready: false,
  };
  child.status.then((status) => spawned.exit = status);
  return spawned;
}

/** Governors first, then the server (so governors do not see their server vanish first). */
export function shutdownOrder(started: Spawned[]): Spawned[] {
  return [...started].reverse();
}

/**
 * Stops processes we started: SIGINT to each one's process group (an orderly stop: a governor
 * cleans its work directory, which SIGTERM leaves as it is), then SIGKILL to those still running
 * after `graceMs`. Resolves when all have exited.
 */
export async function stopAll(processes: Spawned[], graceMs = 5000): Promise<void> {
  const running = processes.filter((p) => p.exit === undefined);
  for (const p of running) signalGroup(p.pid, "SIGINT");
  const exited = Promise.all(running.map((p) => p.child.status));
  if (!await settlesWithin(exited, graceMs)) {
    for (const p of running) if (p.exit === undefined) signalGroup(p.pid, "SIGKILL");
    await exited;
  }
  // Whatever else is left in the groups (children of the process) gets no grace.
  for (const p of running) signalGroup(p.pid, "SIGKILL");
}

/** Signals the process group led by `pid` (our detached child); ignores vanished groups. */
function signalGroup(pid: number, signal: Deno.Signal): void {
  try {
    Deno.kill(-pid, signal);
  } catch {
    try {
      Deno.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/**
 * Killing every process a program started, however deep, whatever its process group.
 *
 * Each program the governor starts gets a unique tag in its environment (`RAIN_PROCESS_TAG`);
 * its descendants inherit it. Killing a tag sends SIGKILL to every process whose
 * `/proc/<pid>/environ` carries it, and scans again until a pass finds none (a process forked
 * during a pass is caught by the next one). Kills requested in the same turn share one scan, so
 * closing a session with many running programs costs one pass over /proc.
 *
 * Why not a process group per program: `Deno.Command` cannot start a child in a new process
 * group (its `detached` does not), and running every program through setsid(1) costs one more
 * exec per task, which measured at about half the spawn rate. Tags cost nothing per task; the
 * price is paid only when something must be killed. A process that empties its own environment
 * escapes, as a process calling setsid() would escape a process-group kill.
 */
import { Logger } from "../common/log.ts";
import { errorMessage } from "./fs_util.ts";

const log = new Logger("governor.processes");

/** The environment variable that carries a program's tag. */
export const PROCESS_TAG_ENV = "RAIN_PROCESS_TAG";

/** Prefix of every tag given out by this governor process: `<random>.<pid>.` */
export const TAG_PREFIX = `${crypto.randomUUID().slice(0, 8)}.${Deno.pid}.`;

/** Passes over /proc per kill request, at most (each pass after one that killed something). */
const MAX_PASSES = 8;

let counter = 0;

/** A new tag, unique in this governor process. */
export function newProcessTag(): string {
  return TAG_PREFIX + ++counter;
}

let pending = new Set<string>();
let scanning: Promise<void> | undefined;

/**
 * SIGKILLs every process tagged `tag` (the program itself and all its descendants). Settles
 * when none is left that the scan could see.
 */
export function killTagged(tag: string): Promise<void> {
  pending.add(tag);
  scanning ??= scanPending().finally(() => scanning = undefined);
  return scanning;
}

async function scanPending(): Promise<void> {
  await Promise.resolve(); // gather the kills requested in this turn
  while (pending.size) {
    const tags = pending;
    pending = new Set();
    try {
      for (let pass = 0; pass < MAX_PASSES; pass++) {
        if (await killMatching((tag) => tags.has(tag)) === 0) break;
      }
    } catch (e) {
      log.warn(`cannot scan processes: ${errorMessage(e)}`);
    }
  }
}

const MARKER = `${PROCESS_TAG_ENV}=`;
const decoder = new TextDecoder();

/** The value of the tag variable in an `environ` block, if any. */
export function tagOf(environ: Uint8Array): string | undefined {
  const text = decoder.decode(environ);
  let at: number;
  if (text.startsWith(MARKER)) {
    at = MARKER.length;
  } else {
    const i = text.indexOf("\0" + MARKER);
    if (i < 0) return undefined;
    at = i + 1 + MARKER.length;
  }
  const end = text.indexOf("\0", at);
  return text.slice(at, end < 0 ? text.length : end);
}

/** One pass: SIGKILLs every process whose tag matches; returns how many were signalled. */
export async function killMatching(match: (tag: string) => boolean): Promise<number> {
  const pids: number[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    const pid = Number(entry.name);
    if (Number.isInteger(pid) && pid > 0 && pid !== Deno.pid) pids.push(pid);
  }
  let killed = 0;
  await Promise.all(pids.map(async (pid) => {
    let environ: Uint8Array;
    try {
      environ = await Deno.readFile(`/proc/${pid}/environ`);
    } catch {
      return; // gone, or not ours
    }
    const tag = tagOf(environ);
    if (tag === undefined || !match(tag)) return;
    try {
      Deno.kill(pid, "SIGKILL");
      killed++;
    } catch {
      // exited meanwhile
    }
  }));
  return killed;
}

/**
 * Work directories of dead governors (issue 15): a governor killed with SIGKILL leaves its work
 * dir, and default names hold the pid, so nobody reuses it. A starting governor removes every
 * sibling of its own work dir that is a governor work dir (holds `governor.pid`) whose lock
 * nobody holds (the flock dies with its process) and whose recorded pid is not alive.
 */
import { dirname, join } from "node:path";
import { Logger } from "../common/log.ts";
import { errorMessage, removeTree } from "./fs_util.ts";

const log = new Logger("governor");

export const LOCK_FILE = "governor.pid";

/** A lock file without a pid younger than this belongs to a governor starting up. */
export const STARTING_GRACE_MS = 60_000;

/** True when process `pid` may exist (Linux /proc; elsewhere always true: keep the dir). */
function alive(pid: number): boolean {
  try {
    Deno.statSync("/proc/self");
  } catch {
    return true;
  }
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

/** Removes dead governors' work dirs beside `workDir`; resolves with the paths removed. */
export async function reclaimDeadWorkDirs(workDir: string): Promise<string[]> {
  const parent = dirname(workDir);
  const removed: string[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(parent));
  } catch {
    return removed;
  }
  for (const entry of entries) {
    const dir = join(parent, entry.name);
    if (!entry.isDirectory || dir === workDir) continue;
    const lockPath = join(dir, LOCK_FILE);
    let lock: Deno.FsFile;
    try {
      lock = await Deno.open(lockPath, { read: true, write: true });
    } catch {
      continue; // not a governor work dir (or not ours to touch)
    }
    try {
      if (!(await lock.tryLock(true))) continue; // a live governor holds it
      const text = (await Deno.readTextFile(lockPath)).trim();
      if (!/^\d+$/.test(text)) {
        // No pid yet: a governor starting beside us, between creating its lock file and
        // locking it; only a file left like that for long is a dead governor's.
        const written = (await lock.stat()).mtime?.getTime() ?? Date.now();
        if (Date.now() - written < STARTING_GRACE_MS) continue;
      } else if (Number(text) !== Deno.pid && alive(Number(text))) continue;
      await removeTree(dir);
      removed.push(dir);
    } catch (e) {
      log.warn(`cannot reclaim the work dir ${dir} of a dead governor: ${errorMessage(e)}`);
    } finally {
      lock.close();
    }
  }
  if (removed.length > 0) {
    log.info(`reclaimed ${removed.length} work dir(s) of dead governors: ${removed.join(", ")}`);
  }
  return removed;
}

/**
 * Working directories of `buildin/run` programs, under the store's temp directory (the same file
 * system as the stored objects, so inputs can be hard-linked and outputs renamed).
 *
 * Every program gets an empty directory of its own. Creating and removing a directory are the
 * slowest file-system calls of a trivial task (on ext4 they wait for the journal: together
 * ~250 µs, more than the rest of the governor's work for it), so a directory that a program
 * leaves empty — most of them: outputs are moved out, the inputs the governor placed are removed
 * — is recycled: it is checked to be still an empty, private (0755) directory and handed to the
 * next program. Anything else is removed in the background.
 */
import { join } from "node:path";
import { Logger } from "../../common/log.ts";
import { errorMessage, removeTree } from "../fs_util.ts";
import type { ObjectStore } from "../object_store.ts";

const log = new Logger("governor.run");

/** Empty directories kept for reuse, at most, per store. */
const POOL_LIMIT = 64;

const pools = new WeakMap<ObjectStore, string[]>();
const removals = new WeakMap<ObjectStore, Set<Promise<void>>>();

/** An empty working directory for one program. */
export function acquireWorkDir(store: ObjectStore): string {
  const pool = pools.get(store);
  const dir = pool?.pop();
  if (dir !== undefined) return dir;
  const path = store.tempPath();
  Deno.mkdirSync(path, { mode: 0o755 });
  return path;
}

/**
 * Gives a working directory back once its program is over. `placed` are the entries the
 * governor put there (the inputs' top-level names): they are removed first, and a directory left
 * empty is recycled; anything else is removed whole. Done in the background (`workDirsRemoved`
 * waits for it).
 */
export function releaseWorkDir(store: ObjectStore, dir: string, placed: string[] = []): void {
  if (placed.length === 0) {
    if (!recycle(store, dir)) track(store, remove(dir));
    return;
  }
  track(
    store,
    Promise.all(placed.map((name) => removeTree(join(dir, name)))).then(
      () => recycle(store, dir) ? undefined : remove(dir),
      () => remove(dir),
    ),
  );
}

/** Puts an empty, private directory in the pool; false if it is not one (or the pool is full). */
function recycle(store: ObjectStore, dir: string): boolean {
  let pool = pools.get(store);
  if (pool === undefined) pools.set(store, pool = []);
  if (pool.length >= POOL_LIMIT || !reusable(dir)) return false;
  pool.push(dir);
  return true;
}

function remove(dir: string): Promise<void> {
  return removeTree(dir).catch((e) => log.warn(`cannot remove ${dir}: ${errorMessage(e)}`));
}

function track(store: ObjectStore, work: Promise<void>): void {
  let pending = removals.get(store);
  if (pending === undefined) removals.set(store, pending = new Set());
  const tracked: Promise<void> = work.finally(() => pending.delete(tracked));
  pending.add(tracked);
}

/** Settles when the working directories being removed are gone. */
export async function workDirsRemoved(store: ObjectStore): Promise<void> {
  await Promise.all(removals.get(store) ?? []);
}

/** The empty directories kept for reuse (for inspection). */
export function pooledWorkDirs(store: ObjectStore): readonly string[] {
  return pools.get(store) ?? [];
}

function reusable(dir: string): boolean {
  try {
    const info = Deno.lstatSync(dir);
    if (!info.isDirectory || ((info.mode ?? 0) & 0o7777) !== 0o755) return false;
    const entries = Deno.readDirSync(dir);
    const empty = entries.next().done === true;
    entries.return?.();
    return empty;
  } catch {
    return false;
  }
}

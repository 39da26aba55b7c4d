/**
 * The server's spool of constants (`rain-server-constants-*` in the temp dir). Each holds an
 * `owner` file (`<pid>`) locked with flock while its server lives, so that the next server
 * removes the spools of servers that died without doing so (SIGKILL, a crash).
 */
import { join } from "node:path";
import { Logger } from "../common/log.ts";

const log = new Logger("server");
const PREFIX = "rain-server-constants-";
const OWNER = "owner";

export interface Spool {
  readonly dir: string;
  /** Removes the spool (idempotent; synchronous so that exit paths can use it). */
  removeSync(): void;
}

/** Removes stale spools, then creates and locks this server's. */
export async function createSpool(tempDir = defaultTempDir()): Promise<Spool> {
  await removeStaleSpools(tempDir);
  const dir = await Deno.makeTempDir({ dir: tempDir, prefix: PREFIX });
  const owner = await Deno.open(join(dir, OWNER), { write: true, create: true });
  await owner.lock(true);
  await owner.write(new TextEncoder().encode(`${Deno.pid}\n`));
  let removed = false;
  return {
    dir,
    removeSync() {
      if (removed) return;
      removed = true;
      try {
        owner.close();
      } catch { /* closed */ }
      try {
        Deno.removeSync(dir, { recursive: true });
      } catch { /* gone */ }
    },
  };
}

/** Spools whose owner lock is free: their server is gone. Resolves with the dirs removed. */
export async function removeStaleSpools(tempDir = defaultTempDir()): Promise<string[]> {
  const removed: string[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(tempDir));
  } catch {
    return removed;
  }
  for (const entry of entries) {
    if (!entry.isDirectory || !entry.name.startsWith(PREFIX)) continue;
    const dir = join(tempDir, entry.name);
    let owner: Deno.FsFile;
    try {
      owner = await Deno.open(join(dir, OWNER), { write: true });
    } catch {
      continue; // another user's, or of an older version: not touched
    }
    try {
      if (!(await owner.tryLock(true))) continue;
      await Deno.remove(dir, { recursive: true });
      removed.push(dir);
    } catch {
      /* raced with its owner or another server */
    } finally {
      owner.close();
    }
  }
  if (removed.length > 0) log.info(`removed ${removed.length} spool dir(s) of dead servers`);
  return removed;
}

function defaultTempDir(): string {
  return Deno.env.get("TMPDIR") || "/tmp";
}

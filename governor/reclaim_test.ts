import assert from "node:assert/strict";
import { join } from "node:path";
import { LOCK_FILE, reclaimDeadWorkDirs, STARTING_GRACE_MS } from "./reclaim.ts";

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

Deno.test("a starting governor removes only dead governors' work dirs beside its own", async () => {
  const parent = await Deno.makeTempDir({ prefix: "rain-reclaim-" });
  const dir = (name: string, pid?: number) => {
    const path = join(parent, name);
    Deno.mkdirSync(join(path, "data"), { recursive: true });
    Deno.writeTextFileSync(join(path, "data", "object"), "x".repeat(1000));
    if (pid !== undefined) Deno.writeTextFileSync(join(path, LOCK_FILE), `${pid}\n`);
    return path;
  };
  const own = dir("governor-me", Deno.pid);
  const dead = dir("governor-dead", 2 ** 30); // above any pid_max: no such process
  const locked = dir("governor-locked", 2 ** 30);
  const aliveUnlocked = dir("governor-starting", Deno.ppid); // a live pid, lock not taken yet
  const other = dir("not-a-governor");
  const holder = await Deno.open(join(locked, LOCK_FILE), { read: true, write: true });
  await holder.lock(true);
  try {
    assert.deepEqual(await reclaimDeadWorkDirs(own), [dead]);
    assert.equal(await exists(dead), false);
    for (const kept of [own, locked, aliveUnlocked, other]) assert.ok(await exists(kept), kept);
  } finally {
    holder.close();
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("a work dir whose lock file has no pid yet is a starting governor's, unless it is old", async () => {
  const parent = await Deno.makeTempDir({ prefix: "rain-reclaim-" });
  const dir = (name: string) => {
    const path = join(parent, name);
    Deno.mkdirSync(path);
    Deno.writeTextFileSync(join(path, LOCK_FILE), ""); // created, not written yet
    return path;
  };
  const own = join(parent, "governor-me");
  const starting = dir("governor-starting");
  const abandoned = dir("governor-abandoned");
  const old = new Date(Date.now() - STARTING_GRACE_MS - 1000);
  Deno.utimeSync(join(abandoned, LOCK_FILE), old, old);
  try {
    assert.deepEqual(await reclaimDeadWorkDirs(own), [abandoned]);
    assert.ok(await exists(starting));
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

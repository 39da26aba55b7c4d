import assert from "node:assert/strict";
import { join } from "node:path";
import { createSpool, removeStaleSpools } from "./spool.ts";

Deno.test("spools of dead servers are removed; a live server's (locked) is kept", async () => {
  const temp = await Deno.makeTempDir({ prefix: "rain-spool-test-" });
  try {
    const live = await createSpool(temp);
    const dead = join(temp, "rain-server-constants-dead");
    Deno.mkdirSync(dead);
    Deno.writeTextFileSync(join(dead, "owner"), "999999\n");
    Deno.writeTextFileSync(join(dead, "constant"), "x".repeat(1000));
    const foreign = join(temp, "rain-server-constants-old"); // no owner file: not touched
    Deno.mkdirSync(foreign);
    assert.deepEqual(await removeStaleSpools(temp), [dead]);
    assert.ok(Deno.statSync(live.dir).isDirectory);
    assert.ok(Deno.statSync(foreign).isDirectory);
    live.removeSync();
    live.removeSync(); // idempotent
    assert.throws(() => Deno.statSync(live.dir), Deno.errors.NotFound);
  } finally {
    await Deno.remove(temp, { recursive: true });
  }
});

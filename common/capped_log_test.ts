import assert from "node:assert/strict";
import { CappedLog } from "./capped_log.ts";

Deno.test("a capped log keeps its head and tail and says how much it dropped", async () => {
  const path = await Deno.makeTempFile({ prefix: "rain-capped-log-" });
  try {
    const log = new CappedLog(await Deno.open(path, { write: true }), 10, 8);
    const enc = new TextEncoder();
    for (let i = 0; i < 100; i++) await log.write(enc.encode(`line ${i}\n`));
    const total = Array.from({ length: 100 }, (_, i) => `line ${i}\n`).join("");
    assert.equal(log.dropped, total.length - 18);
    await log.close();
    const text = await Deno.readTextFile(path);
    assert.equal(
      text,
      total.slice(0, 10) +
        `\n[rain: ${
          total.length - 18
        } bytes dropped here; the log keeps its first 10 and last 8 bytes]\n` +
        total.slice(-8),
    );
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("a short log is written unchanged", async () => {
  const path = await Deno.makeTempFile({ prefix: "rain-capped-log-" });
  try {
    const log = new CappedLog(await Deno.open(path, { write: true }), 100, 100);
    await log.write(new TextEncoder().encode("hello\n"));
    await log.close();
    assert.equal(await Deno.readTextFile(path), "hello\n");
  } finally {
    await Deno.remove(path);
  }
});

import { assertEquals } from "./test_assert.ts";
import { OrphanReaper } from "./orphan_reaper.ts";

const VICTIM = new URL("./testdata/orphan_victim.ts", import.meta.url).pathname;
const CONFIG = new URL("../deno.json", import.meta.url).pathname;

/** Whether a process is gone (or a zombie nobody reaped yet). */
function dead(pid: number): boolean {
  try {
    return (Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1])!.startsWith("Z");
  } catch {
    return true;
  }
}

Deno.test("orphan reaper: a governor killed with SIGKILL takes its programs along", async () => {
  const governor = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-check", "--config", CONFIG, VICTIM],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = governor.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  const pids = text.trim().split(" ").map(Number);
  assertEquals(pids.length, 2, text);
  assertEquals(pids.some(dead), false);
  governor.kill("SIGKILL");
  await governor.status;
  await reader.cancel();
  for (let i = 0; i < 400 && !pids.every(dead); i++) await new Promise((r) => setTimeout(r, 25));
  assertEquals(pids.map(dead), [true, true], "sh and its background sleep were killed");
});

Deno.test("orphan reaper: a normal stop lets it exit at once", async () => {
  const reaper = OrphanReaper.start()!;
  const pid = reaper.pid;
  await reaper.stop();
  assertEquals(dead(pid), true);
});

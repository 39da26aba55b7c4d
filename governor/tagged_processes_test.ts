import { assertEquals, waitUntil } from "./test_assert.ts";
import {
  killTagged,
  newProcessTag,
  PROCESS_TAG_ENV,
  TAG_PREFIX,
  tagOf,
} from "./tagged_processes.ts";

const enc = new TextEncoder();

Deno.test("tagOf finds the tag anywhere in an environ block", () => {
  assertEquals(tagOf(enc.encode(`${PROCESS_TAG_ENV}=a.1.2\0HOME=/root\0`)), "a.1.2");
  assertEquals(tagOf(enc.encode(`HOME=/root\0${PROCESS_TAG_ENV}=b.3\0`)), "b.3");
  assertEquals(tagOf(enc.encode(`HOME=/root\0${PROCESS_TAG_ENV}=c.4`)), "c.4");
  assertEquals(tagOf(enc.encode(`HOME=/root\0X${PROCESS_TAG_ENV}=no\0`)), undefined);
  assertEquals(tagOf(new Uint8Array(0)), undefined);
});

Deno.test("tags are unique and carry the governor's prefix", () => {
  const a = newProcessTag();
  const b = newProcessTag();
  assertEquals([a.startsWith(TAG_PREFIX), b.startsWith(TAG_PREFIX), a !== b], [true, true, true]);
});

Deno.test("killTagged kills a process tree of one tag and spares other tags", async () => {
  const spawn = (tag: string) =>
    new Deno.Command("sh", {
      args: ["-c", "sleep 100 & echo $!; wait $!"],
      env: { [PROCESS_TAG_ENV]: tag },
      stdout: "piped",
    }).spawn();
  const victim = spawn(newProcessTag());
  const bystander = spawn(newProcessTag());
  const firstLine = async (child: Deno.ChildProcess) => {
    const reader = child.stdout.getReader();
    const { value } = await reader.read();
    reader.releaseLock();
    return Number(new TextDecoder().decode(value).trim());
  };
  const victimSleep = await firstLine(victim);
  const bystanderSleep = await firstLine(bystander);
  const victimTag = tagOf(Deno.readFileSync(`/proc/${victim.pid}/environ`))!;
  await killTagged(victimTag);
  // Both processes of the tree get SIGKILL in one pass, in no fixed order: when `sleep` dies
  // first, `sh` may return from `wait` and exit 137 before its own signal lands. Either way the
  // program did not finish normally, and no process of the tree is left (checked below).
  const victimStatus = await victim.status;
  assertEquals(victimStatus.success, false, `victim exited with ${JSON.stringify(victimStatus)}`);
  const alive = (pid: number) => {
    try {
      return !(Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1])!.startsWith("Z");
    } catch {
      return false;
    }
  };
  // SIGKILL is delivered at once but the process leaves /proc (or turns zombie) a moment later.
  await waitUntil(() => !alive(victimSleep), "the victim's sleep to die");
  assertEquals(alive(bystanderSleep), true);
  await killTagged(tagOf(Deno.readFileSync(`/proc/${bystander.pid}/environ`))!);
  await bystander.status;
  await victim.stdout.cancel();
  await bystander.stdout.cancel();
  await waitUntil(() => !alive(bystanderSleep), "the bystander's sleep to die");
});

import { ok as assert } from "node:assert/strict";

Deno.test("server/events/writer.gen.ts is the bundle of the writer's current sources", async () => {
  const check = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../../tools/build_workers.ts", import.meta.url).pathname,
      "--check",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert(check.success, new TextDecoder().decode(check.stderr));
});

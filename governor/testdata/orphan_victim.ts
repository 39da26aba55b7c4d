/**
 * A stand-in governor for orphan_reaper_test.ts: starts the reaper and a tagged program tree
 * (`sh` with a background `sleep`), prints the pids of sh and sleep, then waits to be killed.
 */
import { OrphanReaper } from "../orphan_reaper.ts";
import { newProcessTag, PROCESS_TAG_ENV } from "../tagged_processes.ts";

OrphanReaper.start();
const child = new Deno.Command("sh", {
  args: ["-c", "sleep 100 & echo $$ $!; wait"],
  env: { [PROCESS_TAG_ENV]: newProcessTag() },
  stdout: "piped",
}).spawn();
for await (const chunk of child.stdout) {
  await Deno.stdout.write(chunk);
}

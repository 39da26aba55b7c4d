/**
 * Test helper: runs one governor in its own process, options as JSON in argv[0], the way
 * main.ts does (exit 0 after a clean shutdown, 1 with a one-line error otherwise).
 */
import { runGovernor } from "../mod.ts";

try {
  await runGovernor(JSON.parse(Deno.args[0]));
  Deno.exit(0);
} catch (e) {
  console.error(`rain governor: ${e instanceof Error ? e.message : e}`);
  Deno.exit(1);
}

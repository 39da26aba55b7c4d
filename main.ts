/**
 * The `rain` program: `rain start | stop | server | governor`, see `rain --help` and README.md.
 * Run it with `./rain`, `deno run -A main.ts`, `deno run -A dist/rain.js` (bundled) or `dist/rain`
 * (compiled): `common/self_command.ts` knows how each form re-invokes itself.
 */
import { runCli } from "./cli/main.ts";

export { runCli };

if (import.meta.main) {
  Deno.exit(await runCli(Deno.args));
}

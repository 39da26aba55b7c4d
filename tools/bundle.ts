/**
 * `deno task bundle`: builds dist/rain.js, one self-contained JavaScript file with every module and
 * npm package of `rain` in it, run as `deno run -A dist/rain.js …` (no deno.json, no node_modules
 * needed). It is the shape of the compiled release (`deno task compile`) that can be built and
 * tested on machines where `deno compile` cannot fetch its runtime. Checks the result by running
 * `dist/rain.js --version` from another directory.
 *
 * Keep dist/ one level below the repository root: modules that locate files next to the source
 * tree with `new URL("../x", import.meta.url)` then find the same files from the bundle.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const out = join(root, "dist", "rain.js");
const deno = Deno.execPath();

function run(args: string[], cwd: string): Promise<Deno.CommandOutput> {
  return new Deno.Command(deno, { args, cwd, stdout: "piped", stderr: "piped" }).output();
}

const bundled = await new Deno.Command(deno, {
  args: ["bundle", "--quiet", "--platform", "deno", "--output", out, join(root, "main.ts")],
  cwd: root,
}).output();
if (!bundled.success) {
  console.error("tools/bundle.ts: deno bundle failed");
  Deno.exit(1);
}

const check = await run(
  ["run", "-A", "--no-config", "--unstable-worker-options", out, "--version"],
  Deno.env.get("TMPDIR") ?? "/tmp",
);
const version = new TextDecoder().decode(check.stdout).trim();
if (!check.success || !version.startsWith("rain ")) {
  console.error(`tools/bundle.ts: ${out} does not run: ${new TextDecoder().decode(check.stderr)}`);
  Deno.exit(1);
}
const size = (await Deno.stat(out)).size;
console.log(`${out}: ${(size / 1024).toFixed(0)} KiB, ${version}; run: deno run -A ${out} --help`);

/**
 * `deno task compile`: builds dist/rain, one executable with the Deno runtime, every module and
 * the files rain reads at run time embedded. The release build.
 *
 * `deno compile` needs the matching runtime (`denort`): it downloads it from dl.deno.land unless
 * DENORT_BIN names a denort binary of the same Deno version (2.9.6) and platform. Where
 * dl.deno.land cannot be reached (the development machines and CI of this project), set
 * DENORT_BIN or build the bundle instead (`deno task bundle` → `deno run -A dist/rain.js`).
 *
 * Usage: deno run -A tools/compile.ts [--output PATH] [--target TRIPLE]
 */
import { existsSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { V8_FLAGS } from "../common/self_command.ts";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const { values } = parseArgs({
  args: Deno.args,
  options: { output: { type: "string" }, target: { type: "string" } },
});
const output = values.output ?? join(root, "dist", "rain");

/**
 * Permissions baked into the executable. Explicit instead of `-A` so that the binary cannot load
 * native code (--allow-ffi) or import code from the network (--allow-import):
 * - net:   server and governor listeners, client/governor/server connections, `rain stop`;
 * - read:  config files, log and work directories, objects, `Load`/`LoadDir` tasks;
 * - write: log and work directories, ready files, events.db, `Store` tasks;
 * - run:   `rain start` re-invokes itself, governors run executors and `Execute` programs;
 * - env:   RAIN_* settings, HOME/PATH for started programs;
 * - sys:   host name, cpu count, memory and load for monitoring.
 */
const PERMISSIONS = [
  "--allow-net",
  "--allow-read",
  "--allow-write",
  "--allow-run",
  "--allow-env",
  "--allow-sys",
];

/**
 * Files read at run time, embedded with --include (only those present): the Python package
 * (governors start `python3 -m rain.executor` from it) and executors. (The dashboard needs no
 * files: dashboard/assets.gen.ts holds it as a module.)
 * --self-extracting unpacks them to a real directory on first run, so that programs started by
 * rain (Python executors) can read them; Deno's in-memory file system is visible to Deno only.
 */
const EMBEDDED = ["client_py", "executor"].filter((dir) => {
  const path = join(root, dir);
  return existsSync(path) && [...Deno.readDirSync(path)].length > 0;
});

const args = [
  "compile",
  "--quiet",
  "--config",
  join(root, "deno.json"),
  ...PERMISSIONS,
  `--v8-flags=${V8_FLAGS}`,
  "--unstable-worker-options",
  "--self-extracting",
  ...EMBEDDED.flatMap((dir) => ["--include", join(root, dir)]),
  "--exclude",
  "**/__pycache__",
  ...(values.target ? ["--target", values.target] : []),
  "--output",
  output,
  join(root, "main.ts"),
];

const denort = Deno.env.get("DENORT_BIN");
if (denort !== undefined && !existsSync(denort)) {
  console.error(`tools/compile.ts: DENORT_BIN=${denort} does not exist.`);
  Deno.exit(1);
}

console.log(`deno ${args.map((a) => a.startsWith(root) ? relative(root, a) || "." : a).join(" ")}`);
const result = await new Deno.Command(Deno.execPath(), {
  args,
  cwd: root,
  stdout: "inherit",
  stderr: "piped",
}).output();
const stderr = new TextDecoder().decode(result.stderr);
Deno.stderr.writeSync(result.stderr);
if (!result.success) {
  if (denort === undefined && /dl\.deno\.land|denort|download/i.test(stderr)) {
    console.error(
      "tools/compile.ts: deno compile could not get its runtime (denort) from dl.deno.land, " +
        "which is unreachable from here: set DENORT_BIN to a denort binary of Deno " +
        `${Deno.version.deno} for this platform, or use 'deno task bundle' instead.`,
    );
  } else {
    console.error("tools/compile.ts: deno compile failed (see above).");
  }
  Deno.exit(1);
}
console.log(`${output}: built${denort ? ` with DENORT_BIN=${denort}` : ""}`);

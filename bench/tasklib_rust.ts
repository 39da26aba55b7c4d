/**
 * Rust executor benchmark (tasklib/rust, crate rain_task): prints figures, asserts nothing.
 *
 * Builds the example executor (tasklib/rust/example) in release mode offline with
 * tasklib/rust/cargo_offline.sh (skipped with a message if cargo is missing), then, as
 * bench/executors.ts: one governor (2 cpus, in this process) against a fake server, so only the
 * governor and its executors work. N tasks assigned at once, tasks/s until the last is reported:
 *  (a) `rust/trivial` (no input, writes "x"),
 *  (b) `rust/hello` with a 5-byte input each (sent inline in the call).
 * Executors are started (and warmed up by a first round) before measuring.
 *
 * Usage: deno run -A bench/tasklib_rust.ts [--scale 1.0]   (N = 20,000 x scale)
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { AssignedTask } from "../common/messages.ts";
import { benchGovernor, tasksPerSecond } from "./fake_cluster.ts";

const { values } = parseArgs({ args: Deno.args, options: { scale: { type: "string" } } });
const scale = Number(values.scale ?? "1");
const n = Math.max(100, Math.round(20_000 * scale));
const root = new URL("..", import.meta.url).pathname;
const rustDir = join(root, "tasklib/rust");
const binary = join(rustDir, "target/release/rain_task_example");

const build = await new Deno.Command("bash", {
  args: [join(rustDir, "cargo_offline.sh"), "build", "--release", "-p", "rain_task_example"],
  stdout: "piped",
  stderr: "piped",
}).output();
if (build.code === 127) {
  console.log("Rust executor: skipped (cargo not found)");
  Deno.exit(0);
}
if (!build.success) {
  console.error(new TextDecoder().decode(build.stderr));
  throw new Error("building the Rust example executor failed");
}

const dir = await Deno.makeTempDir({ prefix: "rain-bench-rust-" });
const config = join(dir, "governor.toml");
await Deno.writeTextFile(config, `[executors.rust]\ncommand = ${JSON.stringify([binary])}\n`);
const { conn, close } = await benchGovernor(dir, config);

const input = new TextEncoder().encode("world");
let session = 0;
function round(method: "trivial" | "hello", count: number): Promise<number> {
  session++;
  const tasks: AssignedTask[] = [];
  for (let i = 0; i < count; i++) {
    const id = 10 + 3 * i;
    const withInput = method === "hello";
    tasks.push({
      spec: {
        id: [session, id],
        task_type: `rust/${method}`,
        inputs: withInput ? [{ id: [session, id + 1] }] : [],
        outputs: [[session, id + 2]],
        resources: { cpus: 1 },
      },
      inputs: withInput
        ? [{
          spec: { id: [session, id + 1], data_type: "blob" },
          size: input.length,
          source: { kind: "inline", data: input },
        }]
        : [],
      outputs: [{ id: [session, id + 2], data_type: "blob" }],
    });
  }
  return tasksPerSecond(conn, tasks);
}

try {
  for (const [label, method] of [["(a)", "trivial"], ["(b)", "hello"]] as const) {
    await round(method, 200); // starts and warms the executors
    const rates = [];
    for (let i = 0; i < 3; i++) rates.push(await round(method, n));
    console.log(
      `${label} Rust executor (rain_task, release): ${n} rust/${method} tasks on a 2-cpu ` +
        `governor: ${Math.max(...rates).toFixed(0)} tasks/s (best of 3; governor + executors only)`,
    );
  }
} finally {
  await close();
  await Deno.remove(dir, { recursive: true });
}

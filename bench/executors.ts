/**
 * Executor benchmark: prints figures, asserts nothing.
 *
 * One governor (2 cpus, in this process) against a fake server, so only the governor and its
 * executors work: N trivial tasks assigned at once, tasks/s until the last is reported, for
 *  (a) the Python executor (`/usr/bin/python3 -m rain.executor`, a cloudpickled function that
 *      returns b"x"; the function is sent once, then cached), and
 *  (b) a TypeScript executor (executor/mod.ts, a task returning "x").
 * Executors are started (and warmed up by a first round) before measuring.
 *
 * Usage: deno run -A bench/executors.ts [--scale 1.0]   (N = 20,000 x scale)
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { AssignedTask } from "../common/messages.ts";
import type { Id } from "../common/ids.ts";
import { benchGovernor, tasksPerSecond } from "./fake_cluster.ts";

const { values } = parseArgs({ args: Deno.args, options: { scale: { type: "string" } } });
const scale = Number(values.scale ?? "1");
const n = Math.max(100, Math.round(20_000 * scale));
const root = new URL("..", import.meta.url).pathname;
const python = "/usr/bin/python3";

const pickled = new Deno.Command(python, {
  args: [
    "-c",
    "import sys, cloudpickle; sys.stdout.buffer.write(cloudpickle.dumps(lambda ctx: b'x'))",
  ],
  stdout: "piped",
}).outputSync().stdout;

const tsExecutor = join(await Deno.makeTempDir({ prefix: "rain-bench-exec-" }), "trivial.ts");
await Deno.writeTextFile(
  tsExecutor,
  `import { Executor } from ${JSON.stringify(join(root, "executor/mod.ts"))};\n` +
    `new Executor().task("x", () => "x").run();\n`,
);

const dir = await Deno.makeTempDir({ prefix: "rain-bench-executors-" });
const config = join(dir, "governor.toml");
await Deno.writeTextFile(
  config,
  `[executors.py]\ncommand = ${JSON.stringify([python, "-m", "rain.executor"])}\n` +
    `env = { PYTHONPATH = ${JSON.stringify(join(root, "client_py"))} }\n` +
    `[executors.ts]\ncommand = ${
      JSON.stringify([Deno.execPath(), "run", "-A", "--no-check", tsExecutor])
    }\n`,
);
const { conn, close } = await benchGovernor(dir, config);

let session = 0;
function round(taskType: string, count: number, fn?: Uint8Array): Promise<number> {
  session++;
  const fnId: Id = [session, 1];
  const tasks: AssignedTask[] = [];
  for (let i = 0; i < count; i++) {
    tasks.push({
      spec: {
        id: [session, 10 + 2 * i],
        task_type: taskType,
        inputs: fn ? [{ id: fnId }] : [],
        outputs: [[session, 11 + 2 * i]],
        resources: { cpus: 1 },
      },
      inputs: fn
        ? [{
          spec: { id: fnId, data_type: "blob", content_type: "cloudpickle" },
          size: fn.length,
          source: i === 0 ? { kind: "inline", data: fn } : { kind: "local" },
        }]
        : [],
      outputs: [{ id: [session, 11 + 2 * i], data_type: "blob" }],
    });
  }
  return tasksPerSecond(conn, tasks);
}

try {
  for (
    const [label, type, fn] of [["(a) Python", "py/", pickled], ["(b) TypeScript", "ts/x"]] as [
      string,
      string,
      Uint8Array | undefined,
    ][]
  ) {
    await round(type, 200, fn); // starts and warms the executors
    const rates = [];
    for (let i = 0; i < 3; i++) rates.push(await round(type, n, fn));
    console.log(
      `${label} executor: ${n} trivial tasks on a 2-cpu governor: ` +
        `${Math.max(...rates).toFixed(0)} tasks/s (best of 3; governor + executors only)`,
    );
  }
} finally {
  await close();
  await Deno.remove(dir, { recursive: true });
  await Deno.remove(tsExecutor.replace(/\/[^/]*$/, ""), { recursive: true });
}

/**
 * C++ tasklib benchmark: prints figures, asserts nothing.
 *
 * Builds the tasklib's example executor (tasklib/cpp/example, CMake, Release) in a temporary
 * directory, then runs one governor (2 cpus, in this process) against a fake server, so only
 * the governor and its C++ executors work: N tasks assigned at once, tasks/s until the last is
 * reported, for
 *  (a) `example1/trivial` (no inputs, returns "x"), comparable to bench/executors.ts, and
 *  (b) `example1/hello` with a small inline input.
 * Executors are started (and warmed up by a first round) before measuring. Prints a skip line
 * when cmake, make or g++ is missing.
 *
 * Usage: deno run -A bench/tasklib_cpp.ts [--scale 1.0]   (N = 20,000 x scale)
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { AssignedTask } from "../common/messages.ts";
import { benchGovernor, tasksPerSecond } from "./fake_cluster.ts";

const { values } = parseArgs({ args: Deno.args, options: { scale: { type: "string" } } });
const scale = Number(values.scale ?? "1");
const n = Math.max(100, Math.round(20_000 * scale));
const root = new URL("..", import.meta.url).pathname;

function run(command: string, args: string[], cwd: string): boolean {
  try {
    const out = new Deno.Command(command, { args, cwd, stdout: "piped", stderr: "piped" })
      .outputSync();
    if (!out.success) {
      console.error(new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr));
    }
    return out.success;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

const dir = await Deno.makeTempDir({ prefix: "rain-bench-tasklib-cpp-" });
try {
  const build = join(dir, "build");
  await Deno.mkdir(build);
  if (
    !run("cmake", ["-DCMAKE_BUILD_TYPE=Release", join(root, "tasklib/cpp/example")], build) ||
    !run("make", ["-j2"], build)
  ) {
    console.log("C++ tasklib: skipped (cannot build tasklib/cpp/example: cmake, make, g++?)");
  } else {
    await measure(join(build, "example1"));
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}

/** Cpu time (user + system) used so far by the running processes of `executable`. */
async function cpuSeconds(executable: string): Promise<number> {
  const ticksPerSecond = 100; // USER_HZ on Linux
  let ticks = 0;
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const argv0 = (await Deno.readTextFile(`/proc/${entry.name}/cmdline`)).split("\0")[0];
      if (argv0 !== executable) continue;
      // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
      const stat = await Deno.readTextFile(`/proc/${entry.name}/stat`);
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // the process ended meanwhile
    }
  }
  return ticks / ticksPerSecond;
}

async function measure(executable: string): Promise<void> {
  const config = join(dir, "governor.toml");
  await Deno.writeTextFile(
    config,
    `[executors.example1]\ncommand = ${JSON.stringify([executable])}\n`,
  );
  const { conn, close } = await benchGovernor(dir, config);

  let session = 0;
  const input = new TextEncoder().encode("world");
  function round(method: string, count: number): Promise<number> {
    session++;
    const withInput = method === "hello";
    const tasks: AssignedTask[] = [];
    for (let i = 0; i < count; i++) {
      const inputId: [number, number] = [session, 10 + 3 * i];
      const outputId: [number, number] = [session, 11 + 3 * i];
      tasks.push({
        spec: {
          id: [session, 12 + 3 * i],
          task_type: `example1/${method}`,
          inputs: withInput ? [{ id: inputId }] : [],
          outputs: [outputId],
          resources: { cpus: 1 },
        },
        inputs: withInput
          ? [{
            spec: { id: inputId, data_type: "blob" },
            size: input.length,
            source: { kind: "inline", data: input },
          }]
          : [],
        outputs: [{ id: outputId, data_type: "blob" }],
      });
    }
    return tasksPerSecond(conn, tasks);
  }

  try {
    const methods: [string, string][] = [["(a) trivial", "trivial"], ["(b) hello", "hello"]];
    for (const [label, method] of methods) {
      await round(method, 200); // starts and warms the executors
      const rates = [];
      const cpuBefore = await cpuSeconds(executable);
      for (let i = 0; i < 3; i++) rates.push(await round(method, n));
      const cpuPerTask = (await cpuSeconds(executable) - cpuBefore) / (3 * n) * 1e6;
      console.log(
        `C++ tasklib executor ${label}: ${n} tasks on a 2-cpu governor: ` +
          `${Math.max(...rates).toFixed(0)} tasks/s (best of 3; governor + executors only); ` +
          `the executors used ${cpuPerTask.toFixed(1)} µs of cpu per task`,
      );
    }
  } finally {
    await close();
  }
}

/**
 * The governor's side of `buildin/run`, without server or client: N `true` programs run through
 * the task function (`governor/builtins/run.ts`: working directory, spawn, stderr, cleanup), two
 * at a time, beside N bare `Deno.Command("true")` spawns and `seq N | xargs -P2 -I{} true`, in
 * the same run. Prints programs/s and the governor's cpu time per program; asserts nothing.
 * `deno run -A bench/run_program.ts [--scale 1]`
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { run } from "../governor/builtins/run.ts";
import { makeContext, makeTask, tempStore } from "../governor/test_util.ts";

const { values } = parseArgs({ options: { scale: { type: "string", default: "1" } } });
const n = Math.max(10, Math.round(2000 * Number(values.scale)));

async function measure(name: string, one: () => Promise<unknown>): Promise<void> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let started = 0;
  const worker = async () => {
    while (started++ < n) await one();
  };
  await Promise.all([worker(), worker()]);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  console.log(
    `${name.padEnd(44)} ${(n / seconds).toFixed(0).padStart(6)} programs/s, ` +
      `${((cpu.user + cpu.system) / n).toFixed(0)} µs governor cpu each`,
  );
}

await using t = await tempStore();
const task = makeTask("buildin/run", { args: ["true"], in_paths: [], out_paths: [] }, [], []);
const ctx = makeContext(t.store, task, []);
const bare = async () => {
  const child = new Deno.Command("true", { stdin: "null", stdout: "null", stderr: "piped" })
    .spawn();
  await child.status;
  await child.stderr.bytes();
};

const t0 = performance.now();
await new Deno.Command("sh", { args: ["-c", `seq ${n} | xargs -P2 -I{} true`] }).output();
console.log(
  `${`seq ${n} | xargs -P2 -I{} true`.padEnd(44)} ${
    (n / ((performance.now() - t0) / 1000)).toFixed(0).padStart(6)
  } programs/s`,
);
await measure(`${n} bare Deno.Command("true"), 2 at a time`, bare);
await measure(`${n} buildin/run "true" (run.ts), 2 at a time`, () => Promise.resolve(run(ctx)));

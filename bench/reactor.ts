/**
 * Server-side cost per task, without sockets: validates and applies a submit, then plays a
 * governor finishing every assigned task, batch by batch. `--graph concat` (default): N
 * independent Concat tasks over 2N one-byte constants; `--graph layered`: N Concat tasks in layers
 * of 1,000, each task of a layer taking the outputs of two tasks of the layer before (the first
 * layer two constants each). Prints figures (heap per task after the submit and after the run
 * with `--v8-flags=--expose-gc`); asserts nothing.
 * `deno run -A --v8-flags=--expose-gc bench/reactor.ts [--scale 1] [--graph concat|layered]`
 */
import { encodeHeader } from "../common/framing.ts";
import type { SubmitHeader } from "../common/messages.ts";
import { readSubmit } from "../server/submit_reader.ts";
import { planTasks } from "../server/submit.ts";
import { newReactor } from "../server/test_util.ts";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    scale: { type: "string", default: "1" },
    graph: { type: "string", default: "concat" },
  },
});
const n = Math.round(100_000 * Number(values.scale));
const { reactor, comm } = newReactor();
const governor = reactor.addGovernor("127.0.0.1:1", 2, []);
const session = reactor.newSession(undefined, "bench");
const sid = session.id;

// deno-lint-ignore no-explicit-any
const gc = (globalThis as any).gc as (() => void) | undefined;
/**
 * Heap in use once garbage is collected: after turns, as the values of awaits stay reachable
 * until their turn ends (and a single reading right after a long run is sometimes off).
 */
async function heapInUse(): Promise<number> {
  for (let i = 0; i < 2; i++) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    gc?.();
  }
  return Deno.memoryUsage().heapUsed;
}
const base = await heapInUse();

const WIDTH = 1000;
let header: SubmitHeader | undefined = { tasks: [], objects: [] };
let id = 10;
let constants = 0;
/** Outputs of the layer before (layered graph). */
let previous: number[] = [];
let layer: number[] = [];
for (let i = 0; i < n; i++) {
  let inputs: number[];
  if (values.graph === "layered" && previous.length === WIDTH) {
    const k = i % WIDTH;
    inputs = [previous[k]!, previous[(k + 1) % WIDTH]!];
  } else {
    inputs = [id++, id++];
    constants += 2;
    for (const c of inputs) {
      header!.objects.push({
        spec: { id: [sid, c], data_type: "blob", label: "const" },
        data_size: 1,
      });
    }
  }
  const out = id++, t = id++;
  header!.objects.push({ spec: { id: [sid, out], data_type: "blob", label: "out0" } });
  header!.tasks.push({
    id: [sid, t],
    task_type: "buildin/concat",
    inputs: inputs.map((c) => ({ id: [sid, c] as [number, number] })),
    outputs: [[sid, out]],
    resources: { cpus: 1 },
  });
  layer.push(out);
  if (layer.length === WIDTH) [previous, layer] = [layer, []];
}
const head = encodeHeader(header);
header = undefined; // only the server's copies stay alive
let body: Uint8Array<ArrayBuffer> | undefined = new Uint8Array(head.length + constants);
body.set(head);
body.fill(97, head.length);
await Deno.mkdir("/tmp/rain-bench-spool", { recursive: true });

const bodyBytes = body.length;

let t0 = performance.now();
let read: Partial<Awaited<ReturnType<typeof readSubmit>>> = await readSubmit(
  new Blob([body]).stream(),
  session,
  false,
  "/tmp/rain-bench-spool",
);
body = undefined;
const tRead = performance.now() - t0;
t0 = performance.now();
const tasks = planTasks(session, read.header!, read.objects!);
const tPlan = performance.now() - t0;
t0 = performance.now();
reactor.submit(session, { objects: read.objects!, tasks }, read.constants!);
const tApply = performance.now() - t0;
read = {}; // what the HTTP handler drops once the submit is applied
tasks.length = 0;
const retained = await heapInUse() - base;

t0 = performance.now();
let finished = 0;
while (finished < n) {
  reactor.endTurn();
  const assigned = comm.take("assign_tasks").flatMap((m) => m.message.tasks);
  comm.sent = [];
  for (const task of assigned) {
    reactor.taskFinished(governor, {
      type: "task_finished",
      task: task.spec.id,
      info: { start_time: new Date().toISOString(), duration: 0.0001, governor: governor.id },
      outputs: task.spec.outputs.map((o) => ({ id: o, size: 2, info: {} })),
    });
    finished++;
  }
}
const tRun = performance.now() - t0;
const afterRun = await heapInUse() - base;
const mb = (x: number) => (x / 2 ** 20).toFixed(0);
console.log(`${n} tasks (${values.graph}), submit body ${mb(bodyBytes)} MiB`);
console.log(
  `read ${tRead.toFixed(0)} ms, validate ${tPlan.toFixed(0)} ms, apply ${tApply.toFixed(0)} ms ` +
    `= ${(n / ((tRead + tPlan + tApply) / 1000)).toFixed(0)} tasks/s submitted`,
);
console.log(
  `schedule+finish ${tRun.toFixed(0)} ms = ${
    (n / (tRun / 1000)).toFixed(0)
  } tasks/s through the reactor`,
);
console.log(
  gc
    ? `server state after submit ${mb(retained)} MiB of heap = ${
      (retained / n).toFixed(0)
    } bytes per task`
    : "run with --v8-flags=--expose-gc to see retained memory per task",
);
console.log(
  gc
    ? `server state after the run ${mb(afterRun)} MiB = ${(afterRun / n).toFixed(0)} bytes per task`
    : "",
);
// Read last, so the state stays reachable through every measurement above.
console.log(`the session holds ${session.tasks.size} tasks, ${session.objects.size} objects`);

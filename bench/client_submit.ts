/**
 * TypeScript client cost of a big submit: building N Concat tasks of two constants (bytes) in an
 * offline session, and encoding the submit body in the compact encoding (what `submit()` sends)
 * and in JSON (`submitEncoding: "json"`); then, on a real cluster (one governor of 2 cpus), N
 * tasks end to end (build, submit, waitAll) in each encoding, twice.
 *
 * Prints figures (wall time, and this process's CPU time, which other load on the machine
 * disturbs less); asserts nothing.
 * Usage: deno run -A bench/client_submit.ts [--scale 1.0] [--no-cluster]   (N = 100,000 x scale)
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { encodeCompactSubmit } from "../client_ts/compact.ts";
import { encodeHeader } from "../client_ts/framing.ts";
import { objectState, sessionState, taskState } from "../client_ts/internal.ts";
import { Session } from "../client_ts/session.ts";
import { jsonHeader } from "../client_ts/submit_json.ts";
import { TestCluster } from "../client_ts/test_util.ts";
import { Client } from "../client_ts/client.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { scale: { type: "string", default: "1" }, "no-cluster": { type: "boolean" } },
});
const n = Math.max(100, Math.round(100_000 * Number(values.scale)));
const DATA_A = new Uint8Array([97]);
const DATA_B = new Uint8Array([98]);

interface Cost {
  /** µs per task */
  wall: number;
  /** µs per task */
  cpu: number;
}

/** Runs `fn`; its wall and CPU time in µs per task. */
async function measure(fn: () => unknown): Promise<Cost> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const cpu = process.cpuUsage(cpu0);
  return { wall: (performance.now() - t0) * 1000 / n, cpu: (cpu.user + cpu.system) / n };
}

const us = (x: number) => `${x.toFixed(2)} µs`;
const cost = (c: Cost) => `${us(c.cpu)} CPU per task (${us(c.wall)} wall)`;

function build(session: Session): void {
  for (let i = 0; i < n; i++) session.concat([session.blob(DATA_A), session.blob(DATA_B)]);
}

async function offline(): Promise<void> {
  const session = new Session(undefined, 1);
  console.log(`client: ${n} Concat tasks built: ${cost(await measure(() => build(session)))}`);
  const state = sessionState(session);
  let bytes = 0;
  const compact = await measure(() => {
    bytes = encodeCompactSubmit(
      state.unsubmittedTasks.map(taskState),
      state.unsubmittedObjects.map(objectState),
    ).length;
  });
  console.log(
    `client: compact submit body: ${cost(compact)}, ${(bytes / n).toFixed(0)} bytes/task`,
  );
  const json = await measure(() => {
    bytes = encodeHeader(jsonHeader(state.unsubmittedTasks, state.unsubmittedObjects)).length;
  });
  console.log(`client: json submit body: ${cost(json)}, ${(bytes / n).toFixed(0)} bytes/task`);
}

async function endToEnd(): Promise<void> {
  await using cluster = await TestCluster.start({ governors: [2] });
  // Two rounds: the first one also warms the server up (its decoders are compiled on first use).
  for (
    const [round, encoding] of [[1, "json"], [1, "compact"], [2, "json"], [2, "compact"]] as const
  ) {
    await using client = await Client.connect(cluster.address, {
      secret: cluster.secret(),
      submitEncoding: encoding,
    });
    await using session = await client.newSession({ name: `bench ${encoding}` });
    const t0 = performance.now();
    const built = await measure(() => build(session));
    const submitted = await measure(() => session.submit());
    const ran = await measure(() => session.waitAll());
    const seconds = (performance.now() - t0) / 1000;
    console.log(
      `end to end, round ${round}, ${encoding}: ${n} Concat tasks in ${seconds.toFixed(2)} s ` +
        `(${(n / seconds).toFixed(0)} tasks/s): build ${cost(built)}, submit ${cost(submitted)}, ` +
        `run ${us(ran.wall)} wall per task`,
    );
  }
}

await offline();
if (!values["no-cluster"]) await endToEnd();

/**
 * The server with many governors, simulated (governor/simulated.ts: built-in tasks reported
 * finished without running): a real `rain server` process, and 1 to 1,000 simulated governors of
 * 64 cpus each in this process, over real WebSockets. For each count of governors and each size
 * of graph (independent Concat of two 1-byte constants) it prints the submit time, tasks/s from
 * the submit's answer to `wait_all`'s, the server's cpu per task (from /proc) in each phase and
 * its peak resident memory so far per task of the graph.
 * A second table times the scheduler alone (no sockets): placing and releasing 64 × governors
 * tasks, per task, as governors grow. Prints figures; asserts nothing.
 * `deno run -A bench/many_governors.ts [--scale 1] [--governors 1,100,1000] [--tasks 100000,1000000]`
 * (RAIN_BENCH_PROFILE=DIR: the server's cpu profile goes to DIR).
 */
import { parseArgs } from "node:util";
import process from "node:process";
import { join } from "node:path";
import { encodeHeader, SUBMIT_CONTENT_TYPE } from "../common/framing.ts";
import type { SubmitHeader } from "../common/messages.ts";
import { SimulatedGovernor } from "../governor/simulated.ts";
import { webSocketConnector } from "../governor/server_link.ts";
import { LocalityScheduler } from "../server/scheduler.ts";
import { GovernorState, Session, Task } from "../server/state.ts";

const { values } = parseArgs({
  options: {
    scale: { type: "string", default: "1" },
    governors: { type: "string", default: "1,100,1000" },
    tasks: { type: "string", default: "100000,1000000" },
  },
});
const scale = Number(values.scale);
const governorCounts = values.governors.split(",").map(Number);
const taskCounts = values.tasks.split(",").map((n) => Math.max(100, Math.round(Number(n) * scale)));
const CPUS = 64;
const RUN_LIMIT_MS = 600_000;
const root = new URL("..", import.meta.url).pathname;
const deno = join(root, "node_modules/deno/deno");

/** utime + stime of a process, in seconds (/proc/<pid>/stat, clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Peak resident memory of a process so far, bytes (/proc/<pid>/status VmHWM). */
function peakRss(pid: number): number {
  const kib = /VmHWM:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`))?.[1];
  return Number(kib ?? 0) * 1024;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

interface Server {
  pid: number;
  url: string;
  headers: Record<string, string>;
  port: number;
  stop(): Promise<void>;
}

async function startServer(dir: string): Promise<Server> {
  const port = freePort();
  const secret = crypto.randomUUID();
  const secretFile = join(dir, "secret");
  Deno.writeTextFileSync(secretFile, secret + "\n", { mode: 0o600 });
  const readyFile = join(dir, "ready");
  // RAIN_BENCH_PROFILE=DIR: the server writes a V8 cpu profile there when it stops.
  const profile = Deno.env.get("RAIN_BENCH_PROFILE");
  const child = new Deno.Command(deno, {
    args: [
      "run",
      "-A",
      "--no-check",
      "--quiet",
      ...(profile ? ["--cpu-prof", `--cpu-prof-dir=${profile}`] : []),
      join(root, "main.ts"),
      "server",
      "--listen",
      `127.0.0.1:${port}`,
      "--http-listen",
      `127.0.0.1:${freePort()}`,
      "--logdir",
      join(dir, "logs"),
      "--secret-file",
      secretFile,
      "--ready-file",
      readyFile,
      // A 1M-task JSON submit keeps the server from reading heartbeats for a while.
      "--heartbeat-timeout",
      "600",
    ],
    env: { RAIN_LOG_LEVEL: "warn" },
    stdin: "null",
    stdout: "null",
  }).spawn();
  for (let i = 0; i < 600; i++) {
    try {
      if (Deno.readTextFileSync(readyFile).startsWith("ready")) break;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    pid: child.pid,
    port,
    url: `http://127.0.0.1:${port}/api/v1`,
    headers: { authorization: `Bearer ${secret}` },
    stop: async () => {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

async function call(server: Server, path: string, body: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(server.url + path, {
    method: "POST",
    headers: { ...server.headers, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const answer = await response.json();
  if (!response.ok) throw new Error(`${path}: ${JSON.stringify(answer)}`);
  return answer;
}

/** The submit body of n independent Concat tasks, each of two 1-byte constants. */
function concatBody(sid: number, n: number): Uint8Array<ArrayBuffer> {
  const header: SubmitHeader = { tasks: [], objects: [] };
  let id = 10;
  for (let i = 0; i < n; i++) {
    const a = id++, b = id++, out = id++, t = id++;
    header.objects.push(
      { spec: { id: [sid, a], data_type: "blob" }, data_size: 1 },
      { spec: { id: [sid, b], data_type: "blob" }, data_size: 1 },
      { spec: { id: [sid, out], data_type: "blob" } },
    );
    header.tasks.push({
      id: [sid, t],
      task_type: "buildin/concat",
      inputs: [{ id: [sid, a] }, { id: [sid, b] }],
      outputs: [[sid, out]],
      resources: { cpus: 1 },
    });
  }
  const head = encodeHeader(header);
  const body = new Uint8Array(head.length + 2 * n);
  body.set(head);
  body.fill(97, head.length);
  return body;
}

/** A chain of n Concat tasks, each of the one before's output (the first of a constant). */
function chainBody(sid: number, n: number): Uint8Array<ArrayBuffer> {
  const header: SubmitHeader = {
    tasks: [],
    objects: [{ spec: { id: [sid, 1], data_type: "blob" }, data_size: 1 }],
  };
  for (let i = 0; i < n; i++) {
    const input = i === 0 ? 1 : 2 * i, out = 2 * i + 2;
    header.objects.push({ spec: { id: [sid, out], data_type: "blob" } });
    header.tasks.push({
      id: [sid, 2 * i + 3],
      task_type: "buildin/concat",
      inputs: [{ id: [sid, input] }],
      outputs: [[sid, out]],
      resources: { cpus: 1 },
    });
  }
  const head = encodeHeader(header);
  const body = new Uint8Array(head.length + 1);
  body.set(head);
  return body;
}

/** A session and the submit body of its graph, made before any governor connects. */
interface Graph {
  sid: number;
  n: number;
  body: Uint8Array<ArrayBuffer>;
}

async function prepareGraph(server: Server, n: number): Promise<Graph> {
  const { session_id: sid } = await call(server, "/sessions", { spec: { name: `bench ${n}` } });
  return { sid: sid as number, n, body: concatBody(sid as number, n) };
}

async function runGraph(server: Server, { sid, n, body }: Graph): Promise<string> {
  const cpu0 = cpuSeconds(server.pid);
  const t0 = performance.now();
  const response = await fetch(`${server.url}/sessions/${sid}/submit`, {
    method: "POST",
    headers: { ...server.headers, "content-type": SUBMIT_CONTENT_TYPE },
    body,
  });
  if (!response.ok) throw new Error(`submit: ${await response.text()}`);
  await response.body?.cancel();
  const t1 = performance.now();
  const cpu1 = cpuSeconds(server.pid);
  // Bounded: a bench that does not finish says so and goes on.
  while (!(await call(server, `/sessions/${sid}/wait_all`, { timeout: 10 })).done) {
    if (performance.now() - t1 > RUN_LIMIT_MS) {
      await call(server, `/sessions/${sid}/close`, {});
      return `${String(n).padStart(8)} did not finish within ${RUN_LIMIT_MS / 1000} s`;
    }
  }
  const t2 = performance.now();
  const cpu2 = cpuSeconds(server.pid);
  await call(server, `/sessions/${sid}/close`, {});
  const us = (s: number) => (s * 1e6 / n).toFixed(1).padStart(6);
  return `${String(n).padStart(8)} ${((t1 - t0) / 1000).toFixed(2).padStart(7)} s ` +
    `${us(cpu1 - cpu0)} µs ${(n / ((t2 - t1) / 1000)).toFixed(0).padStart(9)}/s ` +
    `${us(cpu2 - cpu1)} µs ${(peakRss(server.pid) / n).toFixed(0).padStart(6)} B`;
}

console.log(`simulated governors of ${CPUS} cpus; a real server process, its event log on`);
console.log(
  "governors    tasks  submit  cpu/task   run tasks/s  server cpu/task  peak/task  (bench cpu)",
);
for (const count of governorCounts) {
  const dir = Deno.makeTempDirSync({ prefix: "rain-bench-governors-" });
  const server = await startServer(dir);
  try {
    // Bodies first: building one holds up this process, heartbeats and pongs of its governors.
    const graphs = [];
    for (const n of taskCounts) graphs.push(await prepareGraph(server, n));
    const connect = webSocketConnector("127.0.0.1", server.port, server.headers);
    const governors = Array.from(
      { length: count },
      (_, i) => new SimulatedGovernor({ cpus: CPUS, listenHost: "127.0.0.1", listenPort: i + 1 }),
    );
    for (let i = 0; i < count; i += 50) {
      await Promise.all(governors.slice(i, i + 50).map((g) => g.start(connect)));
    }
    for (const graph of graphs.splice(0)) {
      const own0 = process.cpuUsage();
      const row = await runGraph(server, graph);
      const own = process.cpuUsage(own0);
      const ownUs = ((own.user + own.system) / graph.n).toFixed(1);
      console.log(`${String(count).padStart(9)} ${row}   (${ownUs} µs/task)`);
    }
    await Promise.all(governors.map((g) => g.stop()));
  } finally {
    await server.stop();
    Deno.removeSync(dir, { recursive: true });
  }
}

// A chain: each hop is a report to the server and an assignment back, one task at a time.
{
  const dir = Deno.makeTempDirSync({ prefix: "rain-bench-governors-" });
  const server = await startServer(dir);
  try {
    const governor = new SimulatedGovernor({ cpus: CPUS, listenHost: "127.0.0.1", listenPort: 1 });
    await governor.start(webSocketConnector("127.0.0.1", server.port, server.headers));
    const n = Math.max(100, Math.round(1000 * scale));
    const { session_id: sid } = await call(server, "/sessions", { spec: { name: "chain" } });
    const body = chainBody(sid as number, n);
    const cpu0 = cpuSeconds(server.pid);
    const t0 = performance.now();
    const response = await fetch(`${server.url}/sessions/${sid}/submit`, {
      method: "POST",
      headers: { ...server.headers, "content-type": SUBMIT_CONTENT_TYPE },
      body,
    });
    await response.body?.cancel();
    while (!(await call(server, `/sessions/${sid}/wait_all`, { timeout: 10 })).done) { /* again */ }
    const ms = (performance.now() - t0) / n;
    const cpuUs = (cpuSeconds(server.pid) - cpu0) * 1e6 / n;
    console.log(
      `\nchain of ${n} Concats, 1 simulated governor: ${ms.toFixed(3)} ms per hop, ` +
        `server cpu ${cpuUs.toFixed(0)} µs per hop`,
    );
    await governor.stop();
  } finally {
    await server.stop();
    Deno.removeSync(dir, { recursive: true });
  }
}

// The scheduler alone: rounds of one schedule() of 64 tasks per governor, then each released.
console.log("\nscheduler alone (no sockets): place and release 64 tasks per governor, in rounds");
console.log("governors    tasks  µs/task");
const session = new Session(1, undefined, "bench");
for (const count of [1, 10, 100, 1000, 10000]) {
  const scheduler = new LocalityScheduler();
  const governors = Array.from({ length: count }, (_, i) => new GovernorState(`g:${i}`, CPUS, []));
  for (const g of governors) scheduler.governorAdded(g);
  const perRound = count * CPUS;
  const n = Math.max(perRound, Math.round(64_000 * scale));
  let ms = 0;
  for (let round = 0; round * perRound < n; round++) {
    const tasks = Array.from({ length: perRound }, (_, i) => {
      const t = new Task(session, i, "buildin/concat", undefined, [], undefined, [], 1);
      t.state = "ready";
      return t;
    });
    const t0 = performance.now();
    for (const t of tasks) scheduler.taskReady(t);
    for (const { task, governor } of scheduler.schedule()) scheduler.taskReleased(task, governor);
    ms += performance.now() - t0;
  }
  const us = ms * 1000 / n;
  console.log(`${String(count).padStart(9)} ${String(n).padStart(8)} ${us.toFixed(2).padStart(8)}`);
}

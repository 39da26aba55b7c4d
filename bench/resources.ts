/**
 * Packing of multi-resource tasks by the server's scheduler, without sockets: a discrete-event
 * simulation (virtual clock) of a mixed workload — 1-, 2- and 4-cpu tasks, some asking for a
 * gpu or memory — on governors of different shapes. Prints the makespan against the ideal (the
 * largest of: cpu-seconds / cpus, gpu-seconds / gpus, memory-seconds / memory, the longest
 * task) and the ratio; asserts only that nothing was oversubscribed.
 * `deno run -A bench/resources.ts [--tasks 2000] [--seed 1]`
 */
import { parseArgs } from "node:util";
import type { GovernorResources, ResourceRequest } from "../common/resources.ts";
import { LocalityScheduler } from "../server/scheduler.ts";
import { GovernorState, Session, Task } from "../server/state.ts";

const { values } = parseArgs({
  options: { tasks: { type: "string", default: "2000" }, seed: { type: "string", default: "1" } },
});
const taskCount = Number(values.tasks);
let seed = Number(values.seed);
/** Deterministic uniform [0, 1) (mulberry32). */
function random(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

const GIB = 2 ** 30;
const shapes: GovernorResources[] = [
  { cpus: 8, memory: 32 * GIB, gpus: ["0", "1"] },
  { cpus: 8, memory: 32 * GIB, gpus: ["0", "1"] },
  { cpus: 16, memory: 64 * GIB },
  { cpus: 4, memory: 16 * GIB },
];

function workload(): { request: ResourceRequest; seconds: number }[] {
  const out = [];
  for (let i = 0; i < taskCount; i++) {
    const r = random();
    const cpus = r < 0.5 ? 1 : r < 0.8 ? 2 : 4;
    const request: ResourceRequest = { cpus };
    const kind = random();
    if (kind < 0.15) request.gpus = 1;
    else if (kind < 0.2) request.gpus = 0.5;
    if (random() < 0.3) request.memory = Math.round((1 + random() * 11) * GIB);
    out.push({ request, seconds: 1 + random() * 9 * (cpus === 4 ? 2 : 1) });
  }
  return out;
}

function simulate(): { makespan: number; ideal: number; idleCpuShare: number } {
  const scheduler = new LocalityScheduler();
  const governors = shapes.map((r, i) => new GovernorState(`g${i}:1`, r.cpus, [], r));
  governors.forEach((g) => scheduler.governorAdded(g));
  const session = new Session(1, undefined, "bench");
  const jobs = workload();
  const seconds = new Map<Task, number>();
  jobs.forEach((job, i) => {
    const t = new Task(session, i, "buildin/run", undefined, [], undefined, [], job.request.cpus);
    if (job.request.gpus !== undefined || job.request.memory !== undefined) t.request = job.request;
    t.state = "ready";
    seconds.set(t, job.seconds);
    scheduler.taskReady(t);
  });
  // Running tasks by end time (a sorted array is plenty for a few thousand tasks).
  const running: { end: number; task: Task; governor: GovernorState }[] = [];
  let now = 0;
  let busyCpuSeconds = 0;
  let finished = 0;
  while (finished < jobs.length) {
    for (const { task, governor } of scheduler.schedule()) {
      task.state = "running";
      task.governor = governor;
      governor.tasks.add(task);
      if (governor.assignedCpus > governor.cpus) throw new Error("cpus oversubscribed");
      if (governor.pool.memoryUsed > (governor.resources.memory ?? 0)) {
        throw new Error("memory oversubscribed");
      }
      if (governor.pool.gpuUsed.some((u) => u > 10_000)) throw new Error("gpu oversubscribed");
      running.push({ end: now + seconds.get(task)!, task, governor });
    }
    running.sort((a, b) => a.end - b.end);
    const next = running.shift();
    if (!next) throw new Error("nothing runs and tasks are left: a task can never be placed");
    const cpusBusy = governors.reduce((n, g) => n + g.assignedCpus, 0);
    busyCpuSeconds += cpusBusy * (next.end - now);
    now = next.end;
    next.task.state = "finished";
    next.governor.tasks.delete(next.task);
    scheduler.taskFinished(next.task, seconds.get(next.task)!);
    scheduler.taskReleased(next.task, next.governor);
    finished++;
    // Others ending at the same instant.
    while (running.length > 0 && running[0]!.end === now) {
      const same = running.shift()!;
      same.task.state = "finished";
      same.governor.tasks.delete(same.task);
      scheduler.taskReleased(same.task, same.governor);
      finished++;
    }
  }
  const totalCpus = shapes.reduce((n, s) => n + s.cpus, 0);
  const totalGpus = shapes.reduce((n, s) => n + (s.gpus?.length ?? 0), 0);
  const totalMemory = shapes.reduce((n, s) => n + (s.memory ?? 0), 0);
  const cpuSeconds = jobs.reduce((n, j) => n + j.request.cpus * j.seconds, 0);
  const gpuSeconds = jobs.reduce((n, j) => n + (j.request.gpus ?? 0) * j.seconds, 0);
  const memorySeconds = jobs.reduce((n, j) => n + (j.request.memory ?? 0) * j.seconds, 0);
  const ideal = Math.max(
    cpuSeconds / totalCpus,
    gpuSeconds / totalGpus,
    memorySeconds / totalMemory,
    ...jobs.map((j) => j.seconds),
  );
  return { makespan: now, ideal, idleCpuShare: 1 - busyCpuSeconds / (now * totalCpus) };
}

const t0 = performance.now();
const { makespan, ideal, idleCpuShare } = simulate();
const ms = performance.now() - t0;
console.log(
  `${taskCount} tasks (1/2/4 cpus, 20% gpu incl. halves, 30% memory) on ${shapes.length} ` +
    `governors (${shapes.map((s) => `${s.cpus}c/${s.gpus?.length ?? 0}g`).join(", ")}):`,
);
console.log(
  `makespan ${makespan.toFixed(1)} s, ideal (lower bound) ${ideal.toFixed(1)} s, ratio ${
    (makespan / ideal).toFixed(3)
  }; cpus idle ${(idleCpuShare * 100).toFixed(1)}%; scheduling took ${ms.toFixed(0)} ms`,
);

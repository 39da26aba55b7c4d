import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { LocalityScheduler, QUEUE_PER_CPU } from "./scheduler.ts";
import { DataObject, GovernorState, Session, Task } from "./state.ts";

function setup(cpus: number[]) {
  const scheduler = new LocalityScheduler();
  const governors = cpus.map((c, i) => new GovernorState(`g${i}:1`, c, []));
  governors.forEach((g) => scheduler.governorAdded(g));
  const session = new Session(1, undefined, "test");
  let nextId = 10;
  const object = (size: number, at: GovernorState[]) => {
    const obj = new DataObject(session, nextId++, "blob", false);
    obj.size = size;
    obj.state = "finished";
    obj.locations = at;
    return obj;
  };
  const task = (inputs: DataObject[] = [], cpus = 1, name?: string) => {
    const t = new Task(
      session,
      nextId++,
      "buildin/concat",
      undefined,
      inputs,
      undefined,
      [],
      cpus,
      name,
    );
    t.state = "ready";
    scheduler.taskReady(t);
    return t;
  };
  return { scheduler, governors, session, object, task };
}

Deno.test("never assigns more cpus than free to tasks of unknown duration", () => {
  const { scheduler, governors, task } = setup([2, 1]);
  for (let i = 0; i < 10; i++) task();
  const out = scheduler.schedule();
  assertEquals(out.length, 3);
  assertEquals(governors.map((g) => g.assignedCpus), [2, 1]);
  assertEquals(scheduler.schedule().length, 0);
  assertEquals(scheduler.readyCount, 7);
});

Deno.test("places a task where most bytes of its inputs already are", () => {
  const { scheduler, governors, object, task } = setup([4, 4, 4]);
  const big = object(1000, [governors[2]!]);
  const small = object(10, [governors[1]!]);
  const t = task([small, big]);
  const [a] = scheduler.schedule();
  assertEquals(a!.task, t);
  assertEquals(a!.governor, governors[2]);
});

Deno.test("objects present on every governor do not attract", () => {
  const { scheduler, governors, object, task } = setup([1, 4]);
  const everywhere = object(1e9, governors);
  task([everywhere]);
  const [a] = scheduler.schedule();
  assertEquals(a!.governor, governors[1]); // most free cpus wins the tie
});

Deno.test("a governor that can start the task now beats one holding its data but busy", () => {
  const { scheduler, governors, object, task } = setup([1, 1]);
  const data = object(1000, [governors[0]!]);
  governors[0]!.assignedCpus = 1;
  task([data]);
  const [a] = scheduler.schedule();
  assertEquals(a!.governor, governors[1]);
});

Deno.test("tasks with more cpus are placed first; a too-big task does not block others", () => {
  const { scheduler, governors, task } = setup([2]);
  const small = task([], 1);
  const big = task([], 2);
  const huge = task([], 3);
  const out = scheduler.schedule();
  assertEquals(out.map((a) => a.task), [big]);
  governors[0]!.assignedCpus = 0;
  const next = scheduler.schedule();
  assertEquals(next.map((a) => a.task), [small]);
  assertEquals(huge.state, "ready");
});

Deno.test("known-short tasks are queued beyond free cpus, up to the queue limit", () => {
  const { scheduler, governors, task } = setup([2]);
  const first = task([], 1, "tiny");
  scheduler.schedule();
  scheduler.taskFinished(first, 0.001);
  governors[0]!.assignedCpus = 0;
  for (let i = 0; i < 1000; i++) task([], 1, "tiny");
  const out = scheduler.schedule();
  assertEquals(out.length, 2 * (1 + QUEUE_PER_CPU));
});

Deno.test("tasks of closed or failed sessions are dropped", () => {
  const { scheduler, session, task } = setup([2]);
  task();
  task();
  session.error = "boom";
  assertEquals(scheduler.schedule().length, 0);
  assertEquals(scheduler.readyCount, 0);
});

Deno.test("test-mode placement hints attract tasks", () => {
  const { scheduler, governors, object, task } = setup([2, 2, 2]);
  const hinted = object(0, []);
  hinted.size = 5000;
  hinted.testLocations = [governors[1]!];
  task([hinted]);
  assertEquals((scheduler.schedule()[0])!.governor, governors[1]);
});

/** The rule of `LocalityScheduler` by a scan of every governor: what the heap must agree with. */
function pickByScan(
  governors: GovernorState[],
  task: Task,
  short: boolean,
): GovernorState | undefined {
  const localBytes = new Map<GovernorState, number>();
  for (const input of task.inputs) {
    if (input.locations.length === 0 || input.locations.length >= governors.length) continue;
    for (const g of input.locations) localBytes.set(g, (localBytes.get(g) ?? 0) + input.size);
  }
  let best: GovernorState | undefined;
  let bestBytes = -1;
  for (const g of governors) {
    if (task.cpus > g.cpus || g.stalled || g.draining) continue;
    const canStart = g.freeCpus >= task.cpus;
    if (!canStart && !(short && g.assignedCpus + task.cpus <= g.cpus * (1 + QUEUE_PER_CPU))) {
      continue;
    }
    const bytes = localBytes.get(g) ?? 0;
    const bestCanStart = best !== undefined && best.freeCpus >= task.cpus;
    if (
      best === undefined || (canStart && !bestCanStart) ||
      (canStart === bestCanStart &&
        (bytes > bestBytes || (bytes === bestBytes && g.freeCpus > best.freeCpus)))
    ) {
      best = g;
      bestBytes = bytes;
    }
  }
  return best;
}

/** A small deterministic generator (mulberry32), so a failing case can be replayed. */
function random(seed: number): (n: number) => number {
  return (n) => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

Deno.test("placements equal those of a scan of every governor (random clusters)", () => {
  for (let seed = 1; seed <= 300; seed++) {
    const rand = random(seed);
    const cpus = Array.from({ length: 1 + rand(12) }, () => 1 + rand(8));
    const { scheduler, governors, object, task } = setup(cpus);
    for (const g of governors) {
      g.assignedCpus = rand(g.cpus * 3);
      g.stalled = rand(8) === 0;
      g.draining = rand(10) === 0;
    }
    const short = rand(2) === 0;
    const taskCpus = 1 + rand(3);
    if (short) {
      const probe = task([], taskCpus, "short");
      probe.state = "finished"; // dropped by the next schedule, its duration known
      scheduler.taskFinished(probe, 0.001);
    }
    const objects = Array.from({ length: 6 }, () => {
      const at = governors.filter(() => rand(3) === 0);
      return object(rand(1000), at);
    });
    const tasks = Array.from(
      { length: 1 + rand(40) },
      () => task(objects.filter(() => rand(3) === 0), taskCpus, short ? "short" : undefined),
    );
    // The expected placements, applied one by one to a copy of the cluster's load.
    const assigned = governors.map((g) => g.assignedCpus);
    const expected: [Task, GovernorState][] = [];
    for (const t of tasks) {
      const g = pickByScan(governors, t, short);
      if (g === undefined) break;
      g.assignedCpus += t.cpus;
      expected.push([t, g]);
    }
    governors.forEach((g, i) => g.assignedCpus = assigned[i]!);
    const out = scheduler.schedule().map((a): [Task, GovernorState] => [a.task, a.governor]);
    assertEquals(
      out.map(([t, g]) => `${t.id}@${g.id}`),
      expected.map(([t, g]) => `${t.id}@${g.id}`),
    );
  }
});

Deno.test("a placement looks at a few governors, not all of them", () => {
  const { scheduler, governors, task } = setup(Array.from({ length: 1000 }, () => 64));
  let looks = 0;
  for (const g of governors) {
    let stalled = false;
    Object.defineProperty(g, "stalled", {
      get: () => (looks++, stalled),
      set: (v: boolean) => stalled = v,
    });
  }
  for (let i = 0; i < 5000; i++) task();
  assertEquals(scheduler.schedule().length, 5000);
  // Each task takes the governor with the most free cpus: the top of the heap, seen once.
  assertEquals(looks, 5000);
  assertEquals(new Set(governors.map((g) => g.assignedCpus)), new Set([5]));
});

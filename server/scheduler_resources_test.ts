/**
 * The scheduler with memory, gpus and custom resources: never oversubscribed, gpu ids distinct
 * (fractions share a device), big requests neither blocked forever nor blocking small ones.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import type { GovernorResources, ResourceRequest } from "../common/resources.ts";
import { LocalityScheduler, RESERVE_AFTER_BYPASSES } from "./scheduler.ts";
import { GovernorState, Session, Task } from "./state.ts";

function setup(governorResources: GovernorResources[]) {
  const scheduler = new LocalityScheduler();
  const governors = governorResources.map((r, i) => new GovernorState(`g${i}:1`, r.cpus, [], r));
  governors.forEach((g) => scheduler.governorAdded(g));
  const session = new Session(1, undefined, "test");
  let nextId = 10;
  const task = (request: ResourceRequest = { cpus: 1 }) => {
    const t = new Task(
      session,
      nextId++,
      "buildin/run",
      undefined,
      [],
      undefined,
      [],
      request.cpus,
    );
    if (request.memory !== undefined || request.gpus !== undefined || request.custom) {
      t.request = request;
    }
    t.state = "ready";
    scheduler.taskReady(t);
    return t;
  };
  /** Places what fits; marks the assignments as the reactor does. */
  const schedule = () => {
    const out = scheduler.schedule();
    for (const { task, governor } of out) {
      task.state = "assigned";
      task.governor = governor;
      governor.tasks.add(task);
    }
    return out;
  };
  const finish = (t: Task) => {
    t.state = "finished";
    t.governor!.tasks.delete(t);
    scheduler.taskReleased(t, t.governor!);
  };
  return { scheduler, governors, task, schedule, finish };
}

/** Checks every governor's assigned tasks against its capacity. */
function assertNotOversubscribed(governors: GovernorState[]) {
  for (const g of governors) {
    const tasks = [...g.tasks];
    assert(tasks.reduce((n, t) => n + t.cpus, 0) <= g.cpus, `cpus on ${g.id}`);
    const memory = tasks.reduce((n, t) => n + (t.allocation?.memory ?? 0), 0);
    assert(memory <= (g.resources.memory ?? 0), `memory on ${g.id}`);
    const shares = new Map<string, number>();
    for (const t of tasks) {
      for (const id of t.allocation?.gpus ?? []) {
        shares.set(id, (shares.get(id) ?? 0) + (t.allocation!.gpu_share ?? 1));
      }
    }
    for (const [id, share] of shares) {
      assert(share <= 1 + 1e-9, `gpu ${id} on ${g.id} at ${share}`);
      assert(g.resources.gpus?.includes(id), `gpu ${id} is not on ${g.id}`);
    }
    for (const [name, amount] of Object.entries(g.resources.custom ?? {})) {
      const used = tasks.reduce((n, t) => n + (t.allocation?.custom?.[name] ?? 0), 0);
      assert(used <= amount, `${name} on ${g.id}`);
    }
  }
}

Deno.test("gpu tasks get distinct devices and only where there are gpus", () => {
  const { governors, task, schedule, finish } = setup([
    { cpus: 8, gpus: ["0", "1", "2", "3"] },
    { cpus: 8 },
  ]);
  const gpuTasks = Array.from({ length: 8 }, () => task({ cpus: 1, gpus: 1 }));
  const out = schedule();
  assertEquals(out.length, 4);
  assert(out.every((a) => a.governor === governors[0]));
  assertEquals(out.map((a) => a.task.allocation!.gpus![0]).sort(), ["0", "1", "2", "3"]);
  assertNotOversubscribed(governors);
  const freed = gpuTasks[1]!.allocation!.gpus;
  finish(gpuTasks[1]!);
  const [next] = schedule();
  assertEquals(next!.task.allocation!.gpus, freed);
  assertNotOversubscribed(governors);
});

Deno.test("fractional gpus share a device, best fit keeps whole devices free", () => {
  const { governors, task, schedule } = setup([{ cpus: 8, gpus: ["0", "1"] }]);
  task({ cpus: 1, gpus: 0.5 });
  task({ cpus: 1, gpus: 0.25 });
  task({ cpus: 1, gpus: 0.25 });
  const out = schedule();
  assertEquals(out.length, 3);
  // All three fit on one device; the other stays whole for a gpus=1 task.
  assertEquals(new Set(out.map((a) => a.task.allocation!.gpus![0])).size, 1);
  const whole = task({ cpus: 1, gpus: 1 });
  assertEquals(schedule().map((a) => a.task), [whole]);
  task({ cpus: 1, gpus: 0.25 });
  assertEquals(schedule().length, 0);
  assertNotOversubscribed(governors);
});

Deno.test("memory and custom resources are never oversubscribed", () => {
  const { governors, task, schedule, finish } = setup([
    { cpus: 16, memory: 1000, custom: { licence: 2 } },
    { cpus: 16, memory: 500 },
  ]);
  const memoryTasks = Array.from({ length: 6 }, () => task({ cpus: 1, memory: 400 }));
  const licensed = Array.from({ length: 4 }, () => task({ cpus: 1, custom: { licence: 1 } }));
  let running = schedule();
  assertNotOversubscribed(governors);
  assertEquals(running.filter((a) => memoryTasks.includes(a.task)).length, 3); // 2 + 1
  assertEquals(running.filter((a) => licensed.includes(a.task)).length, 2);
  while (running.length > 0) {
    for (const a of running) finish(a.task);
    running = schedule();
    assertNotOversubscribed(governors);
  }
  assert([...memoryTasks, ...licensed].every((t) => t.state === "finished"));
});

Deno.test("a big request does not block smaller ones", () => {
  const { governors, task, schedule } = setup([{ cpus: 4, memory: 100 }]);
  task({ cpus: 2 });
  assertEquals(schedule().length, 1);
  const big = task({ cpus: 4 });
  const small = task({ cpus: 1, memory: 10 });
  assertEquals(schedule().map((a) => a.task), [small]);
  assertEquals(big.state, "ready");
  assertNotOversubscribed(governors);
});

Deno.test("a big request is not starved by a stream of small ones", () => {
  const { governors, task, schedule, finish } = setup([{ cpus: 4 }]);
  let running = Array.from({ length: 4 }, () => task({ cpus: 1 }));
  assertEquals(schedule().length, 4);
  const big = task({ cpus: 4 });
  let rounds = 0;
  // Each round one small task ends and a new one arrives: without a reservation there would
  // always be 1 free cpu and 3 busy, and the big task would wait forever.
  while (big.state === "ready") {
    assert(++rounds <= RESERVE_AFTER_BYPASSES + 8, `big task still waiting after ${rounds}`);
    const done = running.shift();
    if (done) finish(done);
    task({ cpus: 1 });
    for (const a of schedule()) if (a.task !== big) running.push(a.task);
    assertNotOversubscribed(governors);
  }
  assertEquals(big.governor, governors[0]);
  assert(rounds > RESERVE_AFTER_BYPASSES, "small tasks ran first while the big one could not");
  // Once the big task runs, small ones go on.
  finish(big);
  running.forEach(finish);
  running = [];
  assert(schedule().length > 0);
});

Deno.test("packing: multi-resource tasks fill each governor's resources", () => {
  const { governors, task, schedule } = setup([
    { cpus: 4, gpus: ["0"] },
    { cpus: 4, gpus: ["0"] },
  ]);
  for (let i = 0; i < 2; i++) task({ cpus: 2, gpus: 1 });
  for (let i = 0; i < 4; i++) task({ cpus: 1 });
  const out = schedule();
  assertEquals(out.length, 6);
  assertEquals(governors.map((g) => g.assignedCpus), [4, 4]);
  assertNotOversubscribed(governors);
});

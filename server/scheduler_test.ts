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

import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { ArraySink } from "../events/event.ts";
import { Reactor } from "../reactor.ts";
import { LocalityScheduler } from "../scheduler.ts";
import { blobEntry, RecordingComm, submit, taskEntry } from "../test_util.ts";
import { DEFAULT_CRASH_LIMIT } from "./recovery.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

function setup() {
  const comm = new RecordingComm();
  const events = new ArraySink();
  const reactor = new Reactor(comm, new LocalityScheduler(), { events });
  return { reactor, comm, events };
}

type Setup = ReturnType<typeof setup>;

/** Runs the end of turn and returns `task id → governor` of the assignments sent. */
function assigned({ reactor, comm }: Setup): Map<number, string> {
  reactor.endTurn();
  const out = new Map<number, string>();
  for (const { governor, message } of comm.take("assign_tasks")) {
    for (const t of message.tasks) out.set(t.spec.id[1], governor);
  }
  return out;
}

function start({ reactor }: Setup, gov: string, sid: number, task: number) {
  reactor.taskStarted(reactor.governors.get(gov)!, {
    type: "task_started",
    task: [sid, task],
    start_time: new Date().toISOString(),
  });
}

function finish({ reactor }: Setup, gov: string, sid: number, task: number, outputs: number[]) {
  reactor.taskFinished(reactor.governors.get(gov)!, {
    type: "task_finished",
    task: [sid, task],
    info: { governor: gov, duration: 0.001 },
    outputs: outputs.map((o) => ({ id: [sid, o], size: 3, info: {} })),
  });
}

Deno.test("a running task of a lost governor runs elsewhere and counts one crash", () => {
  const t = setup();
  const { reactor } = t;
  reactor.addGovernor("a:1", 1, []);
  const s = reactor.newSession(undefined, "s");
  submit(reactor, s, {
    objects: [blobEntry(s.id, 1, { data: 1 }), blobEntry(s.id, 2, { keep: true })],
    tasks: [taskEntry(s.id, 3, "buildin/concat", [1], [2])],
  }, { 1: bytes("x") });
  assertEquals(assigned(t), new Map([[3, "a:1"]]));
  start(t, "a:1", s.id, 3);
  reactor.addGovernor("b:1", 1, []);
  reactor.removeGovernor(reactor.governors.get("a:1")!, "connection closed");
  assertEquals(s.error, undefined);
  const task = s.tasks.get(3)!;
  assertEquals(task.crashes?.map((c) => c.governor), ["a:1"]);
  assertEquals(assigned(t), new Map([[3, "b:1"]]));
  finish(t, "b:1", s.id, 3, [2]);
  assertEquals(s.unfinishedTasks, 0);
  assertEquals(t.events.ofType("TaskRequeued").map((e) => [e.task, e.attempt, e.crashes]), [
    [3, 2, 1],
  ]);
  // The lost run is an attempt of its own, ended by the loss.
  const [lost, last] = task.info.attempts ?? [];
  assertEquals([lost?.governor, lost?.error], ["a:1", "governor a:1 lost: connection closed"]);
  ok(typeof lost?.start_time === "string" && (lost?.duration ?? -1) >= 0);
  assertEquals([last?.governor, last?.error], ["b:1", undefined]);
  assertEquals(task.info.attempts?.length, 2);
});

Deno.test("a queued task of a lost governor and an orderly stop cost no crash", () => {
  const t = setup();
  const { reactor } = t;
  reactor.addGovernor("a:1", 2, []);
  const s = reactor.newSession(undefined, "s");
  submit(reactor, s, {
    objects: [blobEntry(s.id, 1, { data: 1 }), blobEntry(s.id, 2), blobEntry(s.id, 3)],
    tasks: [
      taskEntry(s.id, 4, "buildin/concat", [1], [2]),
      taskEntry(s.id, 5, "buildin/concat", [1], [3]),
    ],
  }, { 1: bytes("x") });
  assertEquals(assigned(t).size, 2);
  start(t, "a:1", s.id, 4); // 5 stays queued
  reactor.addGovernor("b:1", 2, []);
  reactor.removeGovernor(reactor.governors.get("a:1")!, "the governor stopped", true);
  assertEquals(s.tasks.get(4)!.crashes, undefined);
  assertEquals(s.tasks.get(5)!.crashes, undefined);
  assertEquals(assigned(t), new Map([[4, "b:1"], [5, "b:1"]]));
});

Deno.test("objects only on the lost governor are recomputed from lineage, recursively", async () => {
  const t = setup();
  const { reactor } = t;
  reactor.addGovernor("a:1", 1, []);
  const s = reactor.newSession(undefined, "s");
  // const 1 → t10 → 2 → t11 → 3 (kept) ; 3 → t12 → 4 (kept), submitted later
  submit(reactor, s, {
    objects: [
      blobEntry(s.id, 1, { data: 1 }),
      blobEntry(s.id, 2),
      blobEntry(s.id, 3, { keep: true }),
    ],
    tasks: [
      taskEntry(s.id, 10, "buildin/concat", [1], [2]),
      taskEntry(s.id, 11, "buildin/concat", [2], [3]),
    ],
  }, { 1: bytes("x") });
  assertEquals(assigned(t), new Map([[10, "a:1"]]));
  finish(t, "a:1", s.id, 10, [2]);
  assertEquals(assigned(t), new Map([[11, "a:1"]]));
  finish(t, "a:1", s.id, 11, [3]);
  assertEquals(s.objects.get(2)!.state, "removed"); // no longer needed: its lineage stays
  assertEquals(await reactor.waitAll(s), { kind: "done" });

  reactor.addGovernor("b:1", 1, []);
  reactor.removeGovernor(reactor.governors.get("a:1")!, "connection closed");
  assertEquals(s.error, undefined);
  assertEquals(s.objects.get(3)!.state, "unfinished");
  assertEquals(s.unfinishedTasks, 2);
  // The constant is sent again from the server's copy.
  reactor.endTurn();
  const [rerun] = t.comm.take("assign_tasks");
  assertEquals(rerun!.governor, "b:1");
  assertEquals(rerun!.message.tasks.map((x) => x.spec.id[1]), [10]);
  assertEquals(rerun!.message.tasks[0]!.inputs[0]!.source, { kind: "inline", data: bytes("x") });
  const waiting = reactor.wait(s, [], [3], "all");
  finish(t, "b:1", s.id, 10, [2]);
  assertEquals(assigned(t), new Map([[11, "b:1"]]));
  finish(t, "b:1", s.id, 11, [3]);
  assertEquals(await waiting, { kind: "done" });
  assertEquals(s.objects.get(3)!.locations.map((g) => g.id), ["b:1"]);
  assertEquals(s.objects.get(2)!.state, "removed");
  assertEquals(s.unfinishedTasks, 0);
  assertEquals(s.finishedTasks, 2);
  assertEquals(t.events.ofType("TaskRerun").map((e) => [e.task, e.object]).sort(), [
    [10, 2],
    [11, 3],
  ]);
  assertEquals(t.events.ofType("ObjectLost").map((e) => e.object), [3]);
  // Each producer lists its first run: finished, its output lost with the governor.
  assertEquals(s.tasks.get(11)!.info.attempts?.map((a) => [a.governor, a.error]), [
    ["a:1", "finished, but its output 1/3 was lost (governor a:1 lost: connection closed)"],
    ["b:1", undefined],
  ]);
});

Deno.test("a ready consumer of a lost input waits for its recomputation", () => {
  const t = setup();
  const { reactor } = t;
  reactor.addGovernor("a:1", 1, []);
  const s = reactor.newSession(undefined, "s");
  submit(reactor, s, {
    objects: [
      blobEntry(s.id, 1, { data: 1 }),
      blobEntry(s.id, 2),
      blobEntry(s.id, 3),
      blobEntry(s.id, 4, { keep: true }),
    ],
    tasks: [
      taskEntry(s.id, 10, "buildin/concat", [1], [2]),
      taskEntry(s.id, 11, "buildin/sleep", [1], [3], { seconds: 1 }),
      taskEntry(s.id, 12, "buildin/concat", [2, 3], [4]),
    ],
  }, { 1: bytes("x") });
  assertEquals(assigned(t), new Map([[10, "a:1"]]));
  finish(t, "a:1", s.id, 10, [2]);
  reactor.addGovernor("b:1", 1, []);
  reactor.governors.get("a:1")!.stalled = true; // so t11 goes to b
  assertEquals(assigned(t), new Map([[11, "b:1"]]));
  reactor.governors.get("a:1")!.stalled = false;
  finish(t, "b:1", s.id, 11, [3]); // t12 is ready
  reactor.removeGovernor(reactor.governors.get("a:1")!, "connection closed");
  assertEquals(s.tasks.get(12)!.state, "notAssigned");
  // Only the producer of the lost object runs; t12 follows once it is back (one entry).
  assertEquals(assigned(t), new Map([[10, "b:1"]]));
  finish(t, "b:1", s.id, 10, [2]);
  assertEquals(assigned(t), new Map([[12, "b:1"]]));
  finish(t, "b:1", s.id, 12, [4]);
  assertEquals(assigned(t).size, 0);
  assertEquals(s.unfinishedTasks, 0);
});

Deno.test("a task failing elsewhere because its input's governor was lost runs again", () => {
  const t = setup();
  const { reactor } = t;
  reactor.addGovernor("a:1", 1, []);
  const s = reactor.newSession(undefined, "s");
  submit(reactor, s, {
    objects: [
      blobEntry(s.id, 1, { data: 1 }),
      blobEntry(s.id, 2),
      blobEntry(s.id, 3, { keep: true }),
    ],
    tasks: [
      taskEntry(s.id, 10, "buildin/concat", [1], [2]),
      taskEntry(s.id, 11, "buildin/concat", [2], [3]),
    ],
  }, { 1: bytes("x") });
  assigned(t);
  finish(t, "a:1", s.id, 10, [2]);
  reactor.addGovernor("b:1", 2, []);
  reactor.governors.get("a:1")!.stalled = true; // so t11 goes to b
  assertEquals(assigned(t), new Map([[11, "b:1"]]));
  start(t, "b:1", s.id, 11);
  reactor.removeGovernor(reactor.governors.get("a:1")!, "no heartbeat for 10.0 s");
  reactor.taskFailed(reactor.governors.get("b:1")!, {
    type: "task_failed",
    task: [s.id, 11],
    info: { error: "cannot fetch input 1/2: a:1: connection refused" },
  });
  assertEquals(s.error, undefined);
  assertEquals(assigned(t), new Map([[10, "b:1"]]));
  finish(t, "b:1", s.id, 10, [2]);
  assertEquals(assigned(t), new Map([[11, "b:1"]]));
  finish(t, "b:1", s.id, 11, [3]);
  assertEquals(s.unfinishedTasks, 0);
});

Deno.test("past its crash limit a task fails, listing each loss", async () => {
  const t = setup();
  const { reactor } = t;
  const s = reactor.newSession(undefined, "s");
  submit(reactor, s, {
    objects: [blobEntry(s.id, 1, { data: 1 }), blobEntry(s.id, 2, { keep: true })],
    tasks: [taskEntry(s.id, 3, "buildin/sleep", [1], [2], { seconds: 9 })],
  }, { 1: bytes("x") });
  const done = reactor.waitAll(s);
  for (let i = 0; i <= DEFAULT_CRASH_LIMIT; i++) {
    const id = `g${i}:1`;
    reactor.addGovernor(id, 1, []);
    assertEquals(assigned(t), new Map([[3, id]]));
    start(t, id, s.id, 3);
    reactor.removeGovernor(reactor.governors.get(id)!, "connection closed");
    assertEquals(s.error === undefined, i < DEFAULT_CRASH_LIMIT);
  }
  const outcome = await done;
  ok(outcome.kind === "failed");
  ok(outcome.error.includes(`was running on ${DEFAULT_CRASH_LIMIT + 1} governors that were lost`));
  for (let i = 0; i <= DEFAULT_CRASH_LIMIT; i++) ok(outcome.error.includes(`governor g${i}:1 at `));
  assertEquals(
    s.tasks.get(3)!.info.attempts?.map((a) => a.error),
    [...Array(DEFAULT_CRASH_LIMIT + 1).keys()].map((i) =>
      `governor g${i}:1 lost: connection closed`
    ),
  );
});

Deno.test("a stalled governor gets no new work until it is heard again", () => {
  const t = setup();
  const { reactor } = t;
  const a = reactor.addGovernor("a:1", 4, []);
  const s = reactor.newSession(undefined, "s");
  reactor.setStalled(a, true);
  submit(reactor, s, {
    objects: [blobEntry(s.id, 1, { data: 1 }), blobEntry(s.id, 2)],
    tasks: [taskEntry(s.id, 3, "buildin/concat", [1], [2])],
  }, { 1: bytes("x") });
  assertEquals(assigned(t).size, 0);
  reactor.setStalled(a, false);
  assertEquals(assigned(t), new Map([[3, "a:1"]]));
  assertEquals(t.events.ofType("GovernorStalled").map((e) => e.stalled), [true, false]);
});

Deno.test("a drained governor finishes its tasks, its sole copies move, then it is stopped", async () => {
  const t = setup();
  const { reactor, comm } = t;
  const a = reactor.addGovernor("a:1", 1, []);
  const s = reactor.newSession(undefined, "s");
  submit(reactor, s, {
    objects: [blobEntry(s.id, 1, { data: 1 }), blobEntry(s.id, 2, { keep: true })],
    tasks: [taskEntry(s.id, 3, "buildin/concat", [1], [2])],
  }, { 1: bytes("x") });
  assertEquals(assigned(t), new Map([[3, "a:1"]]));
  reactor.addGovernor("b:1", 1, []);
  reactor.drainGovernor(a);
  await Promise.resolve();
  assertEquals(comm.take("shutdown"), []); // its task runs on
  finish(t, "a:1", s.id, 3, [2]);
  await Promise.resolve();
  reactor.endTurn();
  const [fetch] = comm.take("fetch_objects");
  assertEquals(fetch!.governor, "b:1");
  assertEquals(fetch!.message.objects.map((o) => [o.spec.id, o.source]), [
    [[s.id, 2], { kind: "governors", governors: ["a:1"] }],
  ]);
  assertEquals(comm.take("shutdown"), []);
  reactor.objectsFetched(reactor.governors.get("b:1")!, [[s.id, 2]], []);
  assertEquals(comm.take("shutdown").map((m) => m.governor), ["a:1"]);
  reactor.removeGovernor(a, "the governor stopped", true);
  assertEquals(s.objects.get(2)!.state, "finished");
  assertEquals(s.objects.get(2)!.locations.map((g) => g.id), ["b:1"]);
  assertEquals(t.events.ofType("TaskRerun"), []);
});

Deno.test("crash_limit 0: the first loss while running fails the task, queued tasks are free", async () => {
  const t = setup();
  const { reactor } = t;
  reactor.addGovernor("a:1", 1, []);
  const s = reactor.newSession(undefined, "s");
  submit(reactor, s, {
    objects: [blobEntry(s.id, 1, { data: 1 }), blobEntry(s.id, 2), blobEntry(s.id, 3)],
    tasks: [
      taskEntry(s.id, 4, "buildin/concat", [1], [2]),
      taskEntry(s.id, 5, "buildin/concat", [1], [3]),
    ],
  }, { 1: bytes("x") });
  for (const id of [4, 5]) s.tasks.get(id)!.crashLimit = 0; // spec.policy.crash_limit
  assertEquals(assigned(t), new Map([[4, "a:1"]]));
  reactor.addGovernor("b:1", 1, []);
  assertEquals(assigned(t), new Map([[5, "b:1"]])); // assigned, not started: free to move
  reactor.removeGovernor(reactor.governors.get("b:1")!, "connection closed");
  assertEquals(s.error, undefined);
  assertEquals(s.tasks.get(5)!.state, "ready");
  const done = reactor.waitAll(s);
  start(t, "a:1", s.id, 4);
  reactor.removeGovernor(reactor.governors.get("a:1")!, "connection closed");
  const outcome = await done;
  ok(outcome.kind === "failed" && outcome.error.includes("(crash limit 0):\ngovernor a:1 at "));
});

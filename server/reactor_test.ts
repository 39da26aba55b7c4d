import { deepStrictEqual as assertEquals, ok, rejects, throws } from "node:assert/strict";
import { ApiError } from "./errors.ts";
import { blobEntry, newReactor, submit, taskEntry } from "./test_util.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

function finish(
  reactor: ReturnType<typeof newReactor>["reactor"],
  gov: string,
  sid: number,
  task: number,
  outputs: number[],
  size = 3,
) {
  reactor.taskFinished(reactor.governors.get(gov)!, {
    type: "task_finished",
    task: [sid, task],
    info: { governor: gov, duration: 0.001 },
    outputs: outputs.map((o) => ({ id: [sid, o], size, info: {} })),
  });
}

Deno.test("a concat of two constants is assigned with inline data and finishes", async () => {
  const { reactor, comm } = newReactor();
  reactor.addGovernor("127.0.0.1:1", 2, []);
  const s = reactor.newSession(undefined, "s");
  submit(reactor, s, {
    objects: [
      blobEntry(s.id, 10, { data: 2 }),
      blobEntry(s.id, 11, { data: 1 }),
      blobEntry(s.id, 12, { keep: true }),
    ],
    tasks: [taskEntry(s.id, 13, "buildin/concat", [10, 11], [12])],
  }, { 10: bytes("ab"), 11: bytes("c") });
  reactor.endTurn();
  const [assign] = comm.take("assign_tasks");
  assertEquals(assign!.governor, "127.0.0.1:1");
  const task = assign!.message.tasks[0];
  assertEquals(task!.spec.task_type, "buildin/concat");
  assertEquals(task!.inputs.map((i) => i.source), [
    { kind: "inline", data: bytes("ab") },
    { kind: "inline", data: bytes("c") },
  ]);
  assertEquals(s.tasks.get(13)!.state, "assigned");
  const waiting = reactor.wait(s, [13], [12], "all");
  finish(reactor, "127.0.0.1:1", s.id, 13, [12]);
  assertEquals(await waiting, { kind: "done" });
  reactor.endTurn();
  // Constants are no longer needed; the kept output stays.
  const [del] = comm.take("delete_objects");
  assertEquals(del!.message.objects, [[s.id, 10], [s.id, 11]]);
  assertEquals(s.objects.get(12)!.state, "finished");
  assertEquals(reactor.governors.get("127.0.0.1:1")!.assignedCpus, 0);
  const info = reactor.serverInfo().governors[0];
  assertEquals(info!.objects_to_delete.length, 2);
  reactor.objectsRemoved(reactor.governors.get("127.0.0.1:1")!, [[s.id, 10], [s.id, 11]]);
  assertEquals((reactor.serverInfo().governors[0])!.objects, [[s.id, 12]]);
});

Deno.test("a consumer becomes ready when its input is produced and fetches it from the producer", () => {
  const { reactor, comm } = newReactor();
  reactor.addGovernor("a:1", 1, []);
  reactor.addGovernor("b:1", 1, []);
  const s = reactor.newSession(undefined, "s");
  submit(reactor, s, {
    objects: [
      blobEntry(s.id, 10, { data: 1 }),
      blobEntry(s.id, 11),
      blobEntry(s.id, 12),
      blobEntry(s.id, 13, { data: 1 }),
      blobEntry(s.id, 14),
    ],
    tasks: [
      taskEntry(s.id, 20, "buildin/sleep", [10], [11], { seconds: 0 }),
      taskEntry(s.id, 21, "buildin/sleep", [11], [12], { seconds: 0 }),
      taskEntry(s.id, 22, "buildin/sleep", [13], [14], { seconds: 0 }),
    ],
  }, { 10: bytes("x"), 13: bytes("y") });
  reactor.endTurn();
  const first = comm.take("assign_tasks");
  assertEquals(first.length, 2);
  assertEquals(s.tasks.get(21)!.state, "notAssigned");
  const gov20 = s.tasks.get(20)!.governor!.id;
  // Task 22 keeps the other governor busy, so 21 must run where 20 did not, or wait.
  finish(reactor, gov20, s.id, 20, [11]);
  reactor.endTurn();
  const [next] = comm.take("assign_tasks");
  assertEquals(next!.governor, gov20); // the only free one, and it holds the input
  assertEquals(next!.message.tasks[0]!.inputs[0]!.source, { kind: "local" });
});

Deno.test("input from another governor is fetched from the governors holding it", () => {
  const { reactor, comm } = newReactor();
  reactor.addGovernor("a:1", 1, []);
  const s = reactor.newSession(undefined, "s");
  submit(reactor, s, {
    objects: [blobEntry(s.id, 10, { data: 1 }), blobEntry(s.id, 11, { keep: true })],
    tasks: [taskEntry(s.id, 20, "buildin/sleep", [10], [11], { seconds: 0 })],
  }, { 10: bytes("x") });
  reactor.endTurn();
  comm.take("assign_tasks");
  finish(reactor, "a:1", s.id, 20, [11]);
  reactor.governors.get("a:1")!.assignedCpus = 1; // pretend a is busy
  reactor.addGovernor("b:1", 1, []);
  submit(reactor, s, {
    objects: [blobEntry(s.id, 31)],
    tasks: [taskEntry(s.id, 30, "buildin/sleep", [11], [31], { seconds: 0 })],
  });
  reactor.endTurn();
  const [a] = comm.take("assign_tasks");
  assertEquals(a!.governor, "b:1");
  assertEquals(a!.message.tasks[0]!.inputs[0]!.source, { kind: "governors", governors: ["a:1"] });
});

Deno.test("submit validation rejects bad graphs naming the id, and applies nothing", () => {
  const { reactor } = newReactor();
  const s = reactor.newSession(undefined, "s");
  const other = reactor.newSession(undefined, "other");
  const cases: [unknown, RegExp][] = [
    [{ objects: [blobEntry(other.id, 10, { data: 0 })], tasks: [] }, /belongs to session 2/],
    [
      { objects: [blobEntry(s.id, 10, { data: 0 }), blobEntry(s.id, 10, { data: 0 })], tasks: [] },
      /1\/10 is listed twice/,
    ],
    [{ objects: [blobEntry(s.id, 10)], tasks: [] }, /object 1\/10 has no producer/],
    [
      {
        objects: [blobEntry(s.id, 11)],
        tasks: [taskEntry(s.id, 12, "buildin/concat", [99], [11])],
      },
      /input object 1\/99 is unknown/,
    ],
    [{
      objects: [blobEntry(s.id, 11)],
      tasks: [
        taskEntry(s.id, 12, "buildin/concat", [], [11]),
        taskEntry(s.id, 13, "buildin/concat", [], [11]),
      ],
    }, /object 1\/11 has two producers/],
    [{
      objects: [blobEntry(s.id, 11), blobEntry(s.id, 12)],
      tasks: [
        taskEntry(s.id, 13, "buildin/concat", [12], [11]),
        taskEntry(s.id, 14, "buildin/concat", [11], [12]),
      ],
    }, /dependency cycle/],
    [
      { objects: [blobEntry(s.id, 11)], tasks: [taskEntry(s.id, 12, "nonsense", [], [11])] },
      /task 1\/12: task_type must look like/,
    ],
    [{
      objects: [blobEntry(s.id, 11)],
      tasks: [taskEntry(s.id, 12, "buildin/frobnicate", [], [11])],
    }, /task 1\/12: unknown built-in task type/],
    [{
      objects: [blobEntry(s.id, 11)],
      // A relative path is not a submit error: the task fails when it runs (Rain 0.4).
      tasks: [taskEntry(s.id, 12, "buildin/open", [], [11], { path: 7 })],
    }, /task 1\/12: config must be \{path: string\}/],
    [{
      objects: [blobEntry(s.id, 11)],
      tasks: [taskEntry(s.id, 12, "buildin/concat", [], [11], undefined, 0)],
    }, /resources.cpus must be a positive integer/],
    [{
      objects: [blobEntry(s.id, 11, { data: 1 })],
      tasks: [taskEntry(s.id, 12, "buildin/concat", [], [11])],
    }, /is a constant/],
  ];
  for (const [header, pattern] of cases) {
    throws(
      () => submit(reactor, s, header as never, { 10: bytes(""), 11: bytes("x") }),
      (e: unknown) => {
        ok(e instanceof ApiError, String(e));
        ok(pattern.test(e.message), `${e.message} !~ ${pattern}`);
        return true;
      },
    );
  }
  assertEquals(s.tasks.size + s.objects.size, 0);
});

Deno.test("a consumer listed before its producer is accepted (no cycle), and runs after it", () => {
  const { reactor, comm } = newReactor();
  reactor.addGovernor("127.0.0.1:1", 2, []);
  const s = reactor.newSession(undefined, "s");
  submit(reactor, s, {
    objects: [
      blobEntry(s.id, 10, { data: 1 }),
      blobEntry(s.id, 11),
      blobEntry(s.id, 12, { keep: true }),
    ],
    tasks: [
      taskEntry(s.id, 14, "buildin/concat", [11], [12]),
      taskEntry(s.id, 13, "buildin/concat", [10], [11]),
    ],
  }, { 10: bytes("a") });
  reactor.endTurn();
  const [assign] = comm.take("assign_tasks");
  assertEquals(assign!.message.tasks.map((t) => t.spec.id), [[s.id, 13]]);
});

Deno.test("task outputs of an earlier submit can be reused only when kept and not removed", () => {
  const { reactor } = newReactor();
  reactor.addGovernor("a:1", 1, []);
  const s = reactor.newSession(undefined, "s");
  submit(reactor, s, {
    objects: [blobEntry(s.id, 10, { data: 1 }), blobEntry(s.id, 12, { keep: true })],
    tasks: [taskEntry(s.id, 11, "buildin/concat", [10], [12])],
  }, { 10: bytes("k") });
  reactor.endTurn();
  finish(reactor, "a:1", s.id, 11, [12]);
  submit(reactor, s, {
    objects: [blobEntry(s.id, 21)],
    tasks: [taskEntry(s.id, 20, "buildin/concat", [12], [21])],
  });
  assertEquals(s.tasks.get(20)!.state, "ready");
  reactor.endTurn();
  finish(reactor, "a:1", s.id, 20, [21]);
  assertEquals(s.objects.get(21)!.state, "removed"); // nobody needs it
  throws(
    () =>
      submit(reactor, s, {
        objects: [blobEntry(s.id, 31)],
        tasks: [taskEntry(s.id, 30, "buildin/concat", [21], [31])],
      }),
    /input object 1\/21 was already removed/,
  );
  reactor.unkeep(s, [12]);
  throws(
    () =>
      submit(reactor, s, {
        objects: [blobEntry(s.id, 31)],
        tasks: [taskEntry(s.id, 30, "buildin/concat", [12], [31])],
      }),
    /input object 1\/12 was already removed/,
  );
});

Deno.test("client constants stay usable by later submits until the session closes", () => {
  const { reactor, comm } = newReactor();
  reactor.addGovernor("a:1", 1, []);
  const s = reactor.newSession(undefined, "s");
  submit(reactor, s, {
    objects: [blobEntry(s.id, 10, { data: 1 }), blobEntry(s.id, 12)],
    tasks: [taskEntry(s.id, 11, "buildin/concat", [10], [12])],
  }, { 10: bytes("c") });
  reactor.endTurn();
  finish(reactor, "a:1", s.id, 11, [12]);
  reactor.endTurn();
  const constant = s.objects.get(10)!;
  // The governor's copy goes, the server's data stays.
  assertEquals(constant.state, "finished");
  assertEquals(constant.locations.length, 0);
  assertEquals(comm.take("delete_objects").flatMap((d) => d.message.objects), [
    [s.id, 12],
    [s.id, 10],
  ]);
  submit(reactor, s, {
    objects: [blobEntry(s.id, 21)],
    tasks: [taskEntry(s.id, 20, "buildin/concat", [10], [21])],
  });
  reactor.endTurn();
  const [assign] = comm.take("assign_tasks").slice(-1);
  assertEquals(assign!.message.tasks[0]!.inputs[0]!.source, { kind: "inline", data: bytes("c") });
  // Used again: no longer on the governor's delete list.
  assertEquals((reactor.serverInfo().governors[0])!.objects_to_delete, [[s.id, 12]]);
  reactor.closeSession(s);
  assertEquals(constant.isConstant, false);
});

Deno.test("server info lists each governor's part of the graph", () => {
  const { reactor } = newReactor();
  reactor.addGovernor("a:1", 1, []);
  const s = reactor.newSession(undefined, "s");
  submit(reactor, s, {
    objects: [blobEntry(s.id, 10, { data: 1 }), blobEntry(s.id, 12), blobEntry(s.id, 14)],
    tasks: [
      taskEntry(s.id, 11, "buildin/concat", [10], [12]),
      taskEntry(s.id, 13, "buildin/concat", [12], [14]),
    ],
  }, { 10: bytes("c") });
  reactor.endTurn();
  // Task 11 is assigned: its input is there (inline) and its output will be.
  const info = reactor.serverInfo().governors[0];
  assertEquals(info!.tasks, [[s.id, 11]]);
  assertEquals(info!.objects.sort(), [[s.id, 10], [s.id, 12]]);
});

Deno.test("a failed task fails the session, wakes waiters and stops its work everywhere", async () => {
  const { reactor, comm } = newReactor();
  reactor.addGovernor("a:1", 2, []);
  const s = reactor.newSession(undefined, "s");
  const t = reactor.newSession(undefined, "t");
  submit(reactor, s, {
    objects: [blobEntry(s.id, 10), blobEntry(s.id, 11)],
    tasks: [
      taskEntry(s.id, 12, "buildin/open", [], [10], { path: "/nope" }),
      taskEntry(s.id, 13, "buildin/open", [], [11], { path: "/x" }),
    ],
  });
  reactor.endTurn();
  const all = reactor.waitAll(s);
  const other = reactor.waitAll(t);
  reactor.taskFailed(reactor.governors.get("a:1")!, {
    type: "task_failed",
    task: [s.id, 12],
    info: { error: "no such file '/nope'", debug: "dbg" },
  });
  const outcome = await all;
  ok(
    outcome.kind === "failed" &&
      /Task 1\/12 \(buildin\/open\) failed.*\n.*'\/nope'[\s\S]*dbg/.test(outcome.error),
    JSON.stringify(outcome),
  );
  throws(() => reactor.liveSession(s.id), /'\/nope'/);
  assertEquals(reactor.governors.get("a:1")!.assignedCpus, 0);
  assertEquals(comm.take("close_session").map((m) => m.message.session), [s.id]);
  assertEquals(await other, { kind: "done" }); // other session unaffected
  reactor.closeSession(s);
  throws(() => reactor.session(s.id), /closed/);
});

Deno.test("wait 'some' resolves at the first finished item", async () => {
  const { reactor } = newReactor();
  reactor.addGovernor("a:1", 2, []);
  const s = reactor.newSession(undefined, "s");
  submit(reactor, s, {
    objects: [blobEntry(s.id, 10, { data: 1 }), blobEntry(s.id, 11), blobEntry(s.id, 12)],
    tasks: [
      taskEntry(s.id, 13, "buildin/sleep", [10], [11], { seconds: 1 }),
      taskEntry(s.id, 14, "buildin/sleep", [10], [12], { seconds: 1 }),
    ],
  }, { 10: bytes("x") });
  reactor.endTurn();
  const some = reactor.wait(s, [13, 14], [], "some");
  finish(reactor, "a:1", s.id, 14, [12]);
  assertEquals(await some, { kind: "done" });
  assertEquals(reactor.finishedAmong(s, [13, 14], []), { tasks: [14], objects: [] });
  await rejects(
    Promise.resolve().then(() => reactor.wait(s, [99], [], "all")),
    /1\/99 was not submitted/,
  );
});

Deno.test("losing a governor moves its task to another governor (recovery_test.ts)", () => {
  const { reactor, comm } = newReactor();
  reactor.addGovernor("a:1", 1, []);
  reactor.addGovernor("b:1", 1, []);
  const s = reactor.newSession(undefined, "s");
  submit(reactor, s, {
    objects: [blobEntry(s.id, 10, { data: 1 }), blobEntry(s.id, 11)],
    tasks: [taskEntry(s.id, 12, "buildin/sleep", [10], [11], { seconds: 5 })],
  }, { 10: bytes("x") });
  reactor.endTurn();
  const gov = s.tasks.get(12)!.governor!;
  comm.take("assign_tasks");
  reactor.removeGovernor(gov, "connection closed");
  reactor.endTurn();
  const [again] = comm.take("assign_tasks");
  ok(again !== undefined && again.governor !== gov.id);
  assertEquals(s.error, undefined);
  ok(!reactor.governors.has(gov.id));
});

Deno.test("closing a session frees its cpus at once and tells governors", () => {
  const { reactor, comm } = newReactor();
  reactor.addGovernor("a:1", 1, []);
  const s = reactor.newSession(undefined, "s");
  submit(reactor, s, {
    objects: [blobEntry(s.id, 10)],
    tasks: [taskEntry(s.id, 11, "buildin/open", [], [10], { path: "/x" })],
  });
  reactor.endTurn();
  assertEquals(reactor.governors.get("a:1")!.assignedCpus, 1);
  reactor.closeSession(s);
  assertEquals(reactor.governors.get("a:1")!.assignedCpus, 0);
  assertEquals(comm.take("close_session").length, 1);
  // A late report of the closed session's task is ignored.
  finish(reactor, "a:1", s.id, 11, [10]);
  assertEquals(reactor.governors.get("a:1")!.tasks.size, 0);
});

Deno.test("a client that disconnects has its sessions closed", () => {
  const { reactor } = newReactor();
  const client = reactor.newClient();
  const s1 = reactor.newSession(client, "a");
  const s2 = reactor.newSession(client, "b");
  reactor.removeClient(client);
  ok(s1.closed && s2.closed);
  assertEquals(reactor.sessions.size, 0);
});

Deno.test("constants of one submit share a buffer; each is sent with exactly its bytes", () => {
  const { reactor, comm } = newReactor();
  reactor.addGovernor("a:1", 2, []);
  const s = reactor.newSession(undefined, "t");
  const hinted = blobEntry(s.id, 10, {
    data: 2,
    user: { _testing: { governors: [], size: 1000 } },
  });
  submit(
    reactor,
    s,
    {
      objects: [hinted, blobEntry(s.id, 11, { data: 3 }), blobEntry(s.id, 12)],
      tasks: [taskEntry(s.id, 13, "buildin/concat", [10, 11], [12])],
    },
    { 10: bytes("ab"), 11: bytes("cde") },
    true,
  );
  reactor.endTurn();
  const [assign] = comm.take("assign_tasks");
  const inputs = assign!.message.tasks[0]!.inputs;
  // The size hint (1000) says where to place it, not how many bytes it has.
  assertEquals(inputs.map((i) => i.source), [
    { kind: "inline", data: bytes("ab") },
    { kind: "inline", data: bytes("cde") },
  ]);
  assertEquals(s.objects.get(10)!.constantBlock, s.objects.get(11)!.constantBlock);
});

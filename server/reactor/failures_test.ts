import { deepStrictEqual as assertEquals, match, ok, throws } from "node:assert/strict";
import type { TaskInfo, TaskPolicy } from "../../common/attributes.ts";
import { ArraySink, RERUN_FAILED_REASON } from "../events/event.ts";
import { Reactor } from "../reactor.ts";
import { LocalityScheduler } from "../scheduler.ts";
import { blobEntry, RecordingComm, submit, taskEntry } from "../test_util.ts";
import { checkPolicy, shouldRetry } from "../policy.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

function setup(onFailure: "fail" | "continue" = "fail") {
  const comm = new RecordingComm();
  const reactor = new Reactor(comm, new LocalityScheduler(), { events: new ArraySink() });
  reactor.addGovernor("a:1", 4, []);
  const s = reactor.newSession(undefined, "s", { name: "s", on_failure: onFailure });
  return { reactor, comm, s };
}

type Setup = ReturnType<typeof setup>;

/** Runs the end of turn; `task id → attempt` of the assignments sent. */
function assigned({ reactor, comm }: Setup): Map<number, number> {
  reactor.endTurn();
  const out = new Map<number, number>();
  for (const { message } of comm.take("assign_tasks")) {
    for (const t of message.tasks) out.set(t.spec.id[1], t.attempt ?? 1);
  }
  return out;
}

function fail({ reactor, s }: Setup, task: number, info: TaskInfo) {
  reactor.taskFailed(reactor.governors.get("a:1")!, {
    type: "task_failed",
    task: [s.id, task],
    info: { governor: "a:1", duration: 0.5, ...info },
  });
}

function finish({ reactor, s }: Setup, task: number, outputs: number[]) {
  reactor.taskFinished(reactor.governors.get("a:1")!, {
    type: "task_finished",
    task: [s.id, task],
    info: { governor: "a:1", duration: 0.25 },
    outputs: outputs.map((o) => ({ id: [s.id, o], size: 3, info: {} })),
  });
}

/** One task 2 (input constant 1, output 3 kept) with the policy. */
function oneTask(t: Setup, policy?: TaskPolicy) {
  submit(t.reactor, t.s, {
    objects: [blobEntry(t.s.id, 1, { data: 1 }), blobEntry(t.s.id, 3, { keep: true })],
    tasks: [{ ...taskEntry(t.s.id, 2, "buildin/concat", [1], [3]), policy }],
  }, { 1: bytes("x") });
}

Deno.test("policy: a failed attempt runs again with the next attempt number; info lists both", () => {
  const t = setup();
  oneTask(t, { max_retries: 2 });
  assertEquals(assigned(t), new Map([[2, 1]]));
  fail(t, 2, { error: "boom", exit_code: 1 });
  assertEquals(t.s.error, undefined);
  assertEquals(assigned(t), new Map([[2, 2]]));
  finish(t, 2, [3]);
  const info = t.s.tasks.get(2)!.info;
  assertEquals(info.attempts?.map((a) => a.error), ["boom", undefined]);
  assertEquals(t.s.unfinishedTasks, 0);
});

Deno.test("policy: retries run out, then the session fails naming the attempt", () => {
  const t = setup();
  oneTask(t, { max_retries: 1 });
  assigned(t);
  fail(t, 2, { error: "first" });
  assigned(t);
  fail(t, 2, { error: "second" });
  match(t.s.error ?? "", /attempt 2, after 1 retries\):\nsecond/);
  assertEquals(assigned(t), new Map());
});

Deno.test("policy: retry_on narrows by exit code, exception class and time limit", () => {
  const policy = { max_retries: 3, retry_on: [3, "ConnectionError", "time_limit"] };
  ok(shouldRetry(policy, 0, { exit_code: 3 }));
  ok(!shouldRetry(policy, 0, { exit_code: 4 }));
  ok(shouldRetry(policy, 0, { exception_types: ["ConnectionResetError", "ConnectionError"] }));
  ok(!shouldRetry(policy, 0, { exception_types: ["ValueError", "Exception"] }));
  ok(shouldRetry(policy, 0, { time_limit_exceeded: true }));
  ok(!shouldRetry(policy, 3, { exit_code: 3 }), "no retries left");
  ok(!shouldRetry(undefined, 0, { exit_code: 3 }), "Rain 0.4: no policy, no retry");
  const t = setup();
  oneTask(t, { max_retries: 3, retry_on: [3] });
  assigned(t);
  fail(t, 2, { error: "exit 4", exit_code: 4 });
  match(t.s.error ?? "", /exit 4/);
});

Deno.test("policy: bad values are refused at submit, naming field and value", () => {
  throws(() => checkPolicy({ max_retries: -1 }), /policy.max_retries must be .*got -1/);
  throws(() => checkPolicy({ time_limit: 0 }), /policy.time_limit must be .*got 0/);
  throws(() => checkPolicy({ retry_on: [1.5] }), /retry_on must be .*\[1.5\]/);
  throws(() => checkPolicy({ retries: 1 }), /unknown field 'retries'/);
  const t = setup();
  throws(() => oneTask(t, { max_retries: -1 }), /task \d+\/2: policy.max_retries/);
  assertEquals(t.s.tasks.size, 0);
});

/** Diamond 1 → (2 → 4), (3 → 5) → 6 (→ 7) and an independent 8 → 9; all outputs kept. */
function diamond(t: Setup) {
  const sid = t.s.id;
  submit(t.reactor, t.s, {
    objects: [
      blobEntry(sid, 1, { data: 1 }),
      ...[4, 5, 7, 9].map((id) => blobEntry(sid, id, { keep: true })),
    ],
    tasks: [
      taskEntry(sid, 2, "buildin/concat", [1], [4]),
      taskEntry(sid, 3, "buildin/concat", [1], [5]),
      taskEntry(sid, 6, "buildin/concat", [4, 5], [7]),
      taskEntry(sid, 8, "buildin/concat", [1], [9]),
    ],
  }, { 1: bytes("x") });
}

Deno.test("continue: a failed task fails only its dependents; wait_all summarises; rerun_failed", async () => {
  const t = setup("continue");
  diamond(t);
  assertEquals([...assigned(t).keys()].sort(), [2, 3, 8]);
  const waitAll = t.reactor.waitAll(t.s);
  const waitMerged = t.reactor.wait(t.s, [], [7], "all");
  fail(t, 3, { error: "broken" });
  const merged = await waitMerged;
  assertEquals(merged.kind, "taskFailed");
  match((merged as { error: string }).error, /input object \d+\/5 \(output of task \d+\/3/);
  finish(t, 2, [4]);
  finish(t, 8, [9]);
  assertEquals(t.s.error, undefined);
  const all = await waitAll;
  assertEquals(all.kind, "taskFailed");
  match((all as { error: string }).error, /^2 tasks of session \d+ failed:\n- Task \d+\/3/);
  assertEquals(t.reactor.failedTasks(t.s).map((f) => f.id), [3, 6]);
  assertEquals((await t.reactor.wait(t.s, [], [4, 9], "all")).kind, "done");
  // Inputs of failed tasks stay for a rerun.
  assertEquals(t.s.objects.get(4)!.state, "finished");
  assertEquals(t.reactor.rerunFailed(t.s), [3, 6]);
  assertEquals(t.reactor.failedTasks(t.s), []);
  // Logged for the views (neither attempt had a TaskStarted here); each runs as a new attempt.
  const requeued = (t.reactor.events as ArraySink).ofType("TaskRequeued");
  assertEquals(requeued.map((e) => [e.task, e.attempt, e.reason, e.started]), [
    [3, 2, RERUN_FAILED_REASON, false],
    [6, 2, RERUN_FAILED_REASON, false],
  ]);
  assertEquals([...assigned(t).entries()], [[3, 2]]);
  finish(t, 3, [5]);
  assertEquals([...assigned(t).keys()], [6]);
  finish(t, 6, [7]);
  assertEquals((await t.reactor.waitAll(t.s)).kind, "done");
});

Deno.test("cancel: a running task is killed on its governor, its dependents cancelled", async () => {
  const t = setup("fail");
  diamond(t);
  assigned(t);
  const waitMerged = t.reactor.wait(t.s, [6], [], "all");
  assertEquals(t.reactor.cancelTasks(t.s, [3]), [3, 6]);
  reactorEnd(t);
  assertEquals(t.comm.take("cancel_tasks").map((m) => m.message.tasks), [[[t.s.id, 3]]]);
  const outcome = await waitMerged;
  assertEquals(outcome.kind, "taskFailed");
  match((outcome as { error: string }).error, /was not run: its input .* was cancelled/);
  finish(t, 2, [4]);
  finish(t, 8, [9]);
  // Cancelled tasks are not failures: wait_all ends normally, the session goes on.
  assertEquals((await t.reactor.waitAll(t.s)).kind, "done");
  assertEquals(t.s.error, undefined);
  throws(() => t.reactor.cancelTasks(t.s, [99]), /task \d+\/99 was not submitted/);
});

Deno.test("cancel: what the killed attempt printed is recorded, also after its session closed", () => {
  const t = setup("fail");
  diamond(t);
  assigned(t);
  t.reactor.cancelTasks(t.s, [3]);
  const governor = t.reactor.governors.get("a:1")!;
  const printed = (task: [number, number], stdout: string) =>
    t.reactor.taskOutput(governor, { type: "task_output", task, attempt: 1, output: { stdout } });
  printed([t.s.id, 3], "until the cancel\n");
  // Not a task of the open session, nor a session of this server: dropped.
  printed([t.s.id, 99], "no such task");
  printed([t.s.id + 1, 2], "no such session");
  t.reactor.closeSession(t.s);
  printed([t.s.id, 2], "until the close\n");
  const outputs = (t.reactor.events as ArraySink).ofType("TaskOutput");
  assertEquals(outputs.map((e) => [e.task, e.attempt, e.output.stdout]), [
    [3, 1, "until the cancel\n"],
    [2, 1, "until the close\n"],
  ]);
});

function reactorEnd({ reactor }: Setup) {
  reactor.endTurn();
}

/**
 * The recovery events (issue 12) in the views, live and post-mortem alike (`withLog`): governor
 * states, per-session counts of re-runs, retries and lost attempts, and each task's attempts.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import type { PendingEvent } from "./event.ts";
import { finished, iso, started, T, withLog } from "./test_events.ts";
import type { SubmitPlan } from "../submit.ts";

const plan3: SubmitPlan = {
  objects: [
    { id: 31, dataType: "blob", keep: true },
    { id: 33, dataType: "blob", keep: true },
  ],
  tasks: [
    { id: 30, taskType: "buildin/concat", inputs: [], outputs: [31], cpus: 1, name: "src" },
    { id: 32, taskType: "buildin/concat", inputs: [31], outputs: [33], cpus: 1, name: "use" },
  ],
};

const S = T + 4000; // the session's creation
const requeued = (time: number, task: number, reason: string, attempt: number): PendingEvent => ({
  type: "TaskRequeued",
  time,
  session: 3,
  task,
  attempt,
  crashes: 0,
  reason,
  started: true,
});

const RECOVERY: PendingEvent[] = [
  { type: "GovernorNew", time: S, governor: "g:3", cpus: 1, executors: [] },
  { type: "SessionNew", time: S, session: 3, client: 1, spec: { name: "recover" } },
  { type: "ClientSubmit", time: S + 10, session: 3, plan: plan3 },
  started(S + 100, 3, 30, "g:3", S + 100),
  finished(S + 200, 3, 30, "g:3", S + 100, 0.1, [[31, 4]]),
  started(S + 300, 3, 32, "g:1", S + 300),
  { type: "GovernorStalled", time: S + 400, governor: "g:3", stalled: true },
  { type: "GovernorRemoved", time: S + 1000, governor: "g:3", error: "no heartbeat for 10.0 s" },
  { type: "ObjectLost", time: S + 1000, session: 3, object: 31 },
  requeued(S + 1000, 32, "an input was lost with its governor", 2),
  { type: "TaskRerun", time: S + 1000, session: 3, task: 30, attempt: 2, object: 31 },
  started(S + 1100, 3, 30, "g:1", S + 1100),
  finished(S + 1200, 3, 30, "g:1", S + 1100, 0.1, [[31, 4]]),
  started(S + 1300, 3, 32, "g:1", S + 1300),
  requeued(S + 1400, 32, "retry 1 of 1: boom", 3),
  started(S + 1500, 3, 32, "g:2", S + 1500),
  finished(S + 1600, 3, 32, "g:2", S + 1500, 0.1, [[33, 5]]),
  { type: "GovernorDrain", time: S + 1700, governor: "g:2" },
  { type: "GovernorStalled", time: S + 1800, governor: "g:1", stalled: true },
];

Deno.test("recovery: governor states, session counts and task attempts, live = post-mortem", () =>
  withLog(async (q, push) => {
    // Mid-way: the consumer waits again after its lost attempt, the source runs again.
    for (const e of RECOVERY.slice(0, 11)) await push(e);
    const [, , mid] = await q.sessions();
    assertEquals(
      [mid!.tasks_finished, mid!.tasks_running, mid!.tasks_rerun, mid!.attempts_lost],
      [0, 0, 1, 1],
    );
    assertEquals((await q.task(3, 32)).state, "waiting");
    for (const e of RECOVERY.slice(11)) await push(e);

    const [, , s3] = await q.sessions();
    assertEquals(s3, {
      session: 3,
      name: "recover",
      client: 1,
      status: "finished",
      created: iso(S),
      duration: 1.6,
      tasks_total: 2,
      tasks_finished: 2,
      tasks_failed: 0,
      tasks_cancelled: 0,
      tasks_running: 0,
      tasks_rerun: 1,
      tasks_retried: 1,
      attempts_lost: 1,
    });
    const governors = new Map((await q.governors()).map((g) => [g.governor, g]));
    assertEquals(governors.get("g:3"), {
      governor: "g:3",
      cpus: 1,
      executors: [],
      added: iso(S),
      removed: iso(S + 1000),
      error: "no heartbeat for 10.0 s",
      stopped: false,
      state: "lost",
      stalls: 1,
    });
    assertEquals(
      [governors.get("g:2")!.state, governors.get("g:2")!.draining_since],
      ["draining", iso(S + 1700)],
    );
    assertEquals(
      [governors.get("g:1")!.state, governors.get("g:1")!.stalled_since],
      ["stalled", iso(S + 1800)],
    );

    const use = await q.task(3, 32);
    assertEquals([use.state, use.governor], ["finished", "g:2"]);
    assertEquals(use.attempts, [
      { governor: "g:1", start: 0.3, end: 1, error: "an input was lost with its governor" },
      { governor: "g:1", start: 1.3, end: 1.4, error: "retry 1 of 1: boom" },
      { governor: "g:2", start: 1.5, end: 1.6 },
    ]);
    assertEquals((await q.task(3, 30)).attempts, [
      {
        governor: "g:3",
        start: 0.1,
        end: 0.2,
        error: "finished, but its output 31 was lost with its governor",
      },
      { governor: "g:1", start: 1.1, end: 1.2 },
    ]);
    const groups = await q.taskGroups(3);
    assertEquals(groups.map((g) => [g.name, g.finished, g.running]), [["src", 1, 0], [
      "use",
      1,
      0,
    ]]);
    // A task that ran once has no attempts list.
    assertEquals((await q.task(1, 12)).attempts, undefined);
  }));

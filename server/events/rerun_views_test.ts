/**
 * A task run more than once in an open session (a retry after its own failure, `rerun_failed`)
 * in the views, live and post-mortem alike (`withLog`): the session list, the groups and the
 * task's details agree on what runs, what finished and what failed.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import type { PendingEvent } from "./event.ts";
import { RERUN_FAILED_REASON } from "./event.ts";
import { finished, started, T, withLog } from "./test_events.ts";
import type { SubmitPlan } from "../submit.ts";

const plan: SubmitPlan = {
  objects: [{ id: 41, dataType: "blob", keep: true }, { id: 43, dataType: "blob", keep: true }],
  tasks: [
    { id: 40, taskType: "buildin/concat", inputs: [], outputs: [41], cpus: 1, name: "flaky" },
    { id: 42, taskType: "buildin/concat", inputs: [], outputs: [43], cpus: 1, name: "other" },
  ],
};

const S = T + 5000;
const requeued = (time: number, task: number, reason: string, started: boolean): PendingEvent => ({
  type: "TaskRequeued",
  time,
  session: 4,
  task,
  attempt: 2,
  crashes: 0,
  reason,
  started,
});
const OPEN: PendingEvent[] = [
  { type: "GovernorNew", time: S, governor: "g:4", cpus: 2, executors: [] },
  { type: "SessionNew", time: S, session: 4, client: 1, spec: { name: "again" } },
  { type: "ClientSubmit", time: S + 10, session: 4, plan },
];

async function counts(q: { sessions: () => Promise<{ session: number }[]> }) {
  const row = (await q.sessions()).find((s) => s.session === 4) as unknown as Record<
    string,
    number
  >;
  return [row.tasks_running, row.tasks_finished, row.tasks_failed];
}

Deno.test("a retried task's second attempt: one running task in the list, then none", () =>
  withLog(async (q, push) => {
    for (const e of OPEN) await push(e);
    await push(started(S + 100, 4, 40, "g:4", S + 100));
    await push(requeued(S + 200, 40, "retry 1 of 1: boom", true));
    await push(started(S + 300, 4, 40, "g:4", S + 300));
    // The list is read before any view of the session (its light counts), then after.
    assertEquals(await counts(q), [1, 0, 0]);
    assertEquals((await q.taskGroups(4)).map((g) => g.running), [1, 0]);
    assertEquals(await counts(q), [1, 0, 0]);
    await push(finished(S + 400, 4, 40, "g:4", S + 300, 0.1, [[41, 1]]));
    assertEquals(await counts(q), [0, 1, 0]);
    assertEquals((await q.task(4, 40)).state, "finished");
  }));

Deno.test("a failed task run again by rerun_failed shows as waiting, running, finished", () =>
  withLog(async (q, push) => {
    for (const e of OPEN) await push(e);
    await push(started(S + 100, 4, 40, "g:4", S + 100));
    await push(finished(S + 200, 4, 40, "g:4", S + 100, 0.1, undefined, "boom"));
    // Task 42 failed without starting (as a dependent of a failed task does).
    await push({
      type: "TaskFinished",
      time: S + 200,
      session: 4,
      task: 42,
      info: { error: "its input failed" },
    });
    assertEquals(await counts(q), [0, 0, 2]);
    assertEquals((await q.task(4, 40)).state, "failed");
    await push(requeued(S + 300, 40, RERUN_FAILED_REASON, true));
    await push(requeued(S + 300, 42, RERUN_FAILED_REASON, false));
    assertEquals(await counts(q), [0, 0, 0]);
    assertEquals((await q.task(4, 42)).state, "waiting");
    const waiting = await q.task(4, 40);
    assertEquals([waiting.state, waiting.error], ["waiting", undefined]);
    await push(started(S + 400, 4, 40, "g:4", S + 400));
    assertEquals((await q.task(4, 40)).state, "running");
    assertEquals(await counts(q), [1, 0, 0]);
    await push(finished(S + 500, 4, 40, "g:4", S + 400, 0.1, [[41, 1]]));
    const done = await q.task(4, 40);
    assertEquals([done.state, done.error], ["finished", undefined]);
    assertEquals(done.attempts, [
      { governor: "g:4", start: 0.1, end: 0.2, error: "boom" },
      { governor: "g:4", start: 0.4, end: 0.5 },
    ]);
    assertEquals(await counts(q), [0, 1, 0]);
    assertEquals((await q.taskGroups(4)).map((g) => [g.finished, g.failed]), [[1, 0], [0, 0]]);
  }));

/**
 * What the views say of cpu lanes (the slots governors report), of sessions that ended before
 * all their tasks ran (cancelled, never "running" or "waiting"), and of governors that stopped.
 * Live and post-mortem alike (withLog runs both).
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import type { PendingEvent } from "./event.ts";
import type { SubmitPlan } from "../submit.ts";
import { finished, iso, plan1, started, T, withLog } from "./test_events.ts";

/** Six tasks submitted at once (ids 30..35), no inputs. */
const sixTasks: SubmitPlan = {
  objects: [],
  tasks: Array.from({ length: 6 }, (_, i) => ({
    id: 30 + i,
    taskType: "buildin/concat",
    inputs: [],
    outputs: [],
    cpus: 1,
    name: "c",
  })),
};

function startedOn(
  time: number,
  session: number,
  task: number,
  governor: string,
  slots?: number[],
) {
  return { ...started(time, session, task, governor, time), ...(slots ? { slots } : {}) };
}

Deno.test("task stream: a task's lane is the cpu slot its governor reported", () =>
  withLog(async (q, push) => {
    const events: PendingEvent[] = [
      { type: "SessionNew", time: T + 4000, session: 3, client: 1, spec: { name: "slots" } },
      { type: "ClientSubmit", time: T + 4000, session: 3, plan: sixTasks },
    ];
    // Two cpus of g:1 and tasks shorter than the clocks' millisecond: at the same instant,
    // one ends and the next starts. Greedy packing by time would need a lane per task.
    for (let i = 0; i < 6; i++) {
      const t = T + 4100 + Math.floor(i / 2);
      events.push(startedOn(t, 3, 30 + i, "g:1", [i % 2]));
      events.push(finished(t, 3, 30 + i, "g:1", t, 0.0004));
    }
    for (const e of events) await push(e);
    const stream = await q.taskStream(3);
    assertEquals(stream.governors, [{ governor: "g:1", cpus: 2, lanes: 2 }]);
    assertEquals(stream.tasks.map((t) => [t.id, t.cpu]), [
      [30, 0],
      [31, 1],
      [32, 0],
      [33, 1],
      [34, 0],
      [35, 1],
    ]);
  }));

Deno.test("task stream: without reported slots, lanes never exceed the governor's cpus", () =>
  withLog(async (q, push) => {
    await push({ type: "SessionNew", time: T + 4000, session: 3, client: 1, spec: {} });
    await push({ type: "ClientSubmit", time: T + 4000, session: 3, plan: sixTasks });
    // g:2 has one cpu; its six tasks overlap on the log's millisecond clock.
    for (let i = 0; i < 6; i++) {
      await push(startedOn(T + 4100, 3, 30 + i, "g:2"));
      await push(finished(T + 4100, 3, 30 + i, "g:2", T + 4100, 0.001));
    }
    const stream = await q.taskStream(3);
    assertEquals(stream.governors, [{ governor: "g:2", cpus: 1, lanes: 1 }]);
    assertEquals(new Set(stream.tasks.map((t) => t.cpu)), new Set([0]));
  }));

Deno.test("a session that ended: unfinished tasks are cancelled in every view", () =>
  withLog(async (q, push) => {
    const closed = T + 5000;
    const events: PendingEvent[] = [
      { type: "SessionNew", time: T + 4000, session: 4, client: 1, spec: { name: "broken" } },
      { type: "ClientSubmit", time: T + 4000, session: 4, plan: plan1 },
      startedOn(T + 4100, 4, 12, "g:1", [0]),
      startedOn(T + 4100, 4, 14, "g:1", [1]),
      finished(T + 4200, 4, 12, "g:1", T + 4100, 0.1, undefined, "bad input"),
      // 14 was running and 16 never ran when the failure ended the session.
      { type: "SessionClosed", time: closed, session: 4, reason: "Error", message: "bad input" },
    ];
    for (const e of events) await push(e);
    const row = (await q.sessions()).find((s) => s.session === 4)!;
    const counts = (
      s: typeof row,
    ) => [s.tasks_finished, s.tasks_failed, s.tasks_running, s.tasks_cancelled];
    assertEquals(counts(row), [0, 1, 0, 2]);
    assertEquals(counts(await q.summary(4)), [0, 1, 0, 2]);
    assertEquals(
      (await q.taskGroups(4)).map((g) => [g.name, g.failed, g.running, g.cancelled]),
      [["a", 1, 0, 1], ["b", 0, 0, 1]],
    );
    const stream = await q.taskStream(4);
    assertEquals(stream.tasks.map((t) => [t.id, t.end, t.failed, t.cancelled ?? false]), [
      [12, 0.2, true, false],
      [14, 1, false, true], // ends when the session did
    ]);
    assertEquals(
      (await q.taskGraph(4, true)).tasks!.map((t) => [t.id, t.state]),
      [[12, "failed"], [14, "cancelled"], [16, "cancelled"]],
    );
    assertEquals((await q.taskGraph(4)).groups.map((g) => g.cancelled), [1, 1]);
    assertEquals((await q.task(4, 16)).state, "cancelled");
    assertEquals((await q.task(4, 14)).state, "cancelled");
  }));

Deno.test("the counts of an open session are the same in its summary and its groups", () =>
  withLog(async (q, push) => {
    await push({ type: "SessionNew", time: T + 4000, session: 5, client: 1, spec: {} });
    await push({ type: "ClientSubmit", time: T + 4000, session: 5, plan: plan1 });
    // Task 12 is retried: two attempts, each with its TaskStarted, one TaskFinished.
    await push(startedOn(T + 4100, 5, 12, "g:1", [0]));
    await push(startedOn(T + 4300, 5, 12, "g:1", [1]));
    await push(finished(T + 4400, 5, 12, "g:1", T + 4300, 0.1, [[11, 1]]));
    const summary = await q.summary(5);
    assertEquals([summary.tasks_finished, summary.tasks_running, summary.tasks_cancelled], [
      1,
      0,
      0,
    ]);
    // Live and post-mortem (the details read for the summary are caught up with the log).
    const listed = (await q.sessions()).find((s) => s.session === 5)!;
    assertEquals([listed.tasks_finished, listed.tasks_running], [1, 0], "the list agrees");
    const groups = await q.taskGroups(5);
    assertEquals(groups.map((g) => [g.finished, g.running]), [[1, 0], [0, 0]]);
    // The lane and start of the attempt that finished it.
    assertEquals((await q.taskStream(5)).tasks.map((t) => [t.id, t.cpu, t.start]), [[12, 1, 0.3]]);
  }));

Deno.test("governors that stopped on purpose are not lost", () =>
  withLog(async (q, push) => {
    await push({
      type: "GovernorRemoved",
      time: T + 4000,
      governor: "g:1",
      error: "the server stopped",
      orderly: true,
    });
    await push({
      type: "GovernorRemoved",
      time: T + 4000,
      governor: "g:2",
      error: "connection closed",
    });
    assertEquals((await q.governors()).map((g) => [g.governor, g.removed, g.stopped]), [
      ["g:1", iso(T + 4000), true],
      ["g:2", iso(T + 4000), false],
    ]);
  }));

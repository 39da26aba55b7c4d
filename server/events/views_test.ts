import { deepStrictEqual as assertEquals, ok, rejects } from "node:assert/strict";
import { progressCurve } from "./views.ts";
import { finished, iso, plan2, started, T, withLog } from "./test_events.ts";

Deno.test("session list, summary and task groups", () =>
  withLog(async (q) => {
    const [s1, s2] = await q.sessions();
    assertEquals(s1, {
      session: 1,
      name: "pipe",
      client: 1,
      status: "closed",
      created: iso(T),
      duration: 3,
      tasks_total: 3,
      tasks_finished: 3,
      tasks_failed: 0,
      tasks_running: 0,
      tasks_cancelled: 0,
      tasks_rerun: 0,
      tasks_retried: 0,
      attempts_lost: 0,
      closed: iso(T + 3000),
    });
    assertEquals(s2!.status, "failed");
    assertEquals([s2!.tasks_total, s2!.tasks_finished, s2!.tasks_failed], [1, 0, 1]);
    assertEquals(s2!.error, "failed: x");
    const summary = await q.summary(1);
    assertEquals(summary.objects_total, 4);
    assertEquals(summary.bytes, 16);
    assertEquals(summary.governors, ["g:1", "g:2"]);
    assertEquals(summary.first_start, iso(T + 100));
    assertEquals(summary.last_end, iso(T + 1400));
    assertEquals(summary.progress[0], [0, 0]);
    assertEquals(summary.progress.at(-1), [3, 0]);
    ok(summary.progress.some(([, n]) => n === 3));
    assertEquals(await q.taskGroups(1), [
      {
        name: "a",
        task_type: "buildin/concat",
        count: 2,
        finished: 2,
        failed: 0,
        running: 0,
        cancelled: 0,
        duration_mean: 0.75,
        duration_max: 1,
        duration_total: 1.5,
      },
      {
        name: "b",
        task_type: "buildin/concat",
        count: 1,
        finished: 1,
        failed: 0,
        running: 0,
        cancelled: 0,
        duration_mean: 0.2,
        duration_max: 0.2,
        duration_total: 0.2,
      },
    ]);
    // unnamed tasks are grouped by their type
    assertEquals((await q.taskGroups(2)).map((g) => [g.name, g.failed]), [["buildin/sleep", 1]]);
    await rejects(() => q.summary(99), /not in the event log/);
  }));

Deno.test("task stream: cpu lanes per governor, time windows, truncation", () =>
  withLog(async (q) => {
    const all = await q.taskStream(1);
    assertEquals(all.governors, [
      { governor: "g:1", cpus: 2, lanes: 2 },
      { governor: "g:2", cpus: 1, lanes: 1 },
    ]);
    assertEquals(all.tasks, [
      { id: 12, name: "a", governor: "g:1", cpu: 0, start: 0.1, end: 1.1, failed: false },
      { id: 14, name: "a", governor: "g:1", cpu: 1, start: 0.1, end: 0.6, failed: false },
      { id: 16, name: "b", governor: "g:2", cpu: 0, start: 1.2, end: 1.4, failed: false },
    ]);
    assertEquals(all.truncated, false);
    assertEquals((await q.taskStream(1, 0.7, 2)).tasks.map((t) => t.id), [12, 16]);
    assertEquals((await q.taskStream(1, 1.15, 1.19)).tasks.map((t) => t.id), []);
    const longest = await q.taskStream(1, undefined, undefined, 1);
    assertEquals([longest.truncated, longest.tasks.map((t) => t.id)], [true, [12]]);
    assertEquals(((await q.taskStream(2)).tasks[0])!.failed, true);
  }));

Deno.test("task graph grouped by name, task detail and transfers", () =>
  withLog(async (q) => {
    assertEquals(await q.taskGraph(1), {
      groups: [
        { name: "a", task_type: "buildin/concat", count: 2, finished: 2, failed: 0, cancelled: 0 },
        { name: "b", task_type: "buildin/concat", count: 1, finished: 1, failed: 0, cancelled: 0 },
      ],
      edges: [{ from: "a", to: "b", count: 2, bytes: 8 }],
    });
    assertEquals((await q.taskGraph(1, true)).tasks?.find((t) => t.id === 16)?.inputs, [12, 14]);
    const t = await q.task(1, 16);
    assertEquals([t.name, t.state, t.governor, t.start, t.end], ["b", "finished", "g:2", 1.2, 1.4]);
    assertEquals((t.spec as { name: string }).name, "b");
    assertEquals(t.info, { governor: "g:2", start_time: iso(T + 1200), duration: 0.2 });
    assertEquals(t.inputs.map((i) => [i.id, i.producer, i.size]), [[11, 12, 5], [13, 14, 3]]);
    assertEquals(t.outputs.map((o) => [o.id, o.size, o.consumers]), [[15, 8, []]]);
    assertEquals(t.outputs[0]!.spec, { id: [1, 15], data_type: "blob", label: "out", keep: true });
    assertEquals(t.transfers, [
      { object: 11, from: "g:1", to: "g:2", bytes: 5, start: 1.15, duration: 0.05 },
    ]);
    // a task without inputs and outputs: its spec alone is read back
    const failed = await q.task(2, 20);
    assertEquals([failed.state, failed.error], ["failed", "no such file"]);
    assertEquals((failed.spec as { task_type: string }).task_type, "buildin/sleep");
    assertEquals((await q.transfers(1)).length, 1);
    assertEquals(await q.transfers(1, 2, 3), []);
    await rejects(() => q.task(1, 99), /not in the event log/);
  }));

Deno.test("governors and monitoring series (network rates)", () =>
  withLog(async (q) => {
    assertEquals((await q.governors()).map((g) => [g.governor, g.cpus, g.executors]), [
      ["g:1", 2, []],
      ["g:2", 1, ["py"]],
    ]);
    const m = await q.monitoring();
    assertEquals(m.governors.length, 1);
    const points = m.governors[0]!.points;
    assertEquals(points.map((p) => [p.net_rx, p.net_tx]), [[0, 0], [2000, 500], [1000, 0]]);
    assertEquals(points[0]!.cpu, [10, 20]);
    assertEquals(points[0]!.mem, 30);
    assertEquals(
      (await q.monitoring(undefined, T + 1000, T + 2000)).governors[0]!.points.length,
      1,
    );
    assertEquals((await q.monitoring("g:2")).governors, []);
    assertEquals(
      (await q.monitoring(undefined, undefined, undefined, 2)).governors[0]!.points.length,
      2,
    );
  }));

Deno.test("queries catch up with events written after a first answer", () =>
  withLog(async (q, push) => {
    assertEquals((await q.sessions()).length, 2);
    assertEquals(((await q.taskGroups(1))[1])!.count, 1);
    await push({ type: "SessionNew", time: T + 4000, session: 3, client: 1, spec: {} });
    await push({ type: "ClientSubmit", time: T + 4000, session: 3, plan: plan2 });
    await push(started(T + 4100, 3, 20, "g:1", T + 4100));
    const s3 = (await q.sessions())[2];
    assertEquals([s3!.name, s3!.status, s3!.tasks_total, s3!.tasks_running], [
      "Unnamed Session",
      "open",
      1,
      1,
    ]);
    assertEquals(((await q.taskStream(3)).tasks[0])!.end, null);
    await push(finished(T + 4200, 3, 20, "g:1", T + 4100, 0.1));
    assertEquals(((await q.sessions())[2])!.status, "finished");
    assertEquals(((await q.taskStream(3)).tasks[0])!.end, 0.2);
  }));

Deno.test("progress curve counts unfinished submitted tasks", () => {
  assertEquals(progressCurve(0, 4000, [[0, 2], [2000, 1]], [1000, 3000, 3500], 4), [
    [0, 2],
    [1, 1],
    [2, 2],
    [3, 1],
    [4, 0],
  ]);
  assertEquals(progressCurve(0, 0, [], [], 4), []);
});

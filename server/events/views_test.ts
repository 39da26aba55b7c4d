import { deepStrictEqual as assertEquals, ok, rejects, throws } from "node:assert/strict";
import { join } from "node:path";
import { type EventCriteria, parseCriteria, QueryError } from "./criteria.ts";
import type { PendingEvent } from "./event.ts";
import { LiveEvents } from "./live.ts";
import { PostMortemEvents } from "./post_mortem.ts";
import { eventsApi } from "./routes.ts";
import type { EventSource } from "./source.ts";
import {
  governorsView,
  monitoringView,
  progressCurve,
  sessionsView,
  summaryView,
  taskGraphView,
  taskGroupsView,
  taskStreamView,
  taskView,
  transfersView,
} from "./views.ts";
import type { SubmitPlan } from "../submit.ts";

const T = Date.parse("2025-01-02T00:00:00.000Z");
const iso = (ms: number) => new Date(ms).toISOString();

const plan1: SubmitPlan = {
  objects: [
    { id: 10, dataType: "blob", keep: false, dataSize: 2 },
    { id: 11, dataType: "blob", keep: false },
    { id: 13, dataType: "blob", keep: false },
    { id: 15, dataType: "blob", keep: true, label: "out" },
  ],
  tasks: [
    { id: 12, taskType: "buildin/concat", inputs: [10], outputs: [11], cpus: 1, name: "a" },
    { id: 14, taskType: "buildin/concat", inputs: [10], outputs: [13], cpus: 1, name: "a" },
    { id: 16, taskType: "buildin/concat", inputs: [11, 13], outputs: [15], cpus: 1, name: "b" },
  ],
};
const plan2: SubmitPlan = {
  objects: [],
  tasks: [{ id: 20, taskType: "buildin/sleep", inputs: [], outputs: [], cpus: 1 }],
};

function started(time: number, session: number, task: number, governor: string, start: number) {
  return {
    type: "TaskStarted" as const,
    time,
    session,
    task,
    governor,
    start_time: iso(start),
  };
}

function finished(
  time: number,
  session: number,
  task: number,
  governor: string,
  start: number,
  duration: number,
  outputs?: [number, number][],
  error?: string,
): PendingEvent {
  const info = error === undefined
    ? { governor, start_time: iso(start), duration }
    : { governor, start_time: iso(start), duration, error };
  return {
    type: "TaskFinished",
    time,
    session,
    task,
    info,
    outputs: outputs?.map(([id, size]) => ({ id: [session, id] as [number, number], size })),
  };
}

function monitoring(time: number, governor: string, rx: number, tx: number): PendingEvent {
  return {
    type: "Monitoring",
    time,
    governor,
    sample: {
      type: "monitoring",
      timestamp: iso(time),
      cpu_usage: [10, 20],
      mem_usage: 30,
      net_stat: { eth0: [rx, tx], lo: [0, 0] },
    },
  };
}

const EVENTS: PendingEvent[] = [
  { type: "GovernorNew", time: T, governor: "g:1", cpus: 2, executors: [] }, // 1
  { type: "GovernorNew", time: T, governor: "g:2", cpus: 1, executors: ["py"] }, // 2
  { type: "ClientNew", time: T, client: 1 }, // 3
  { type: "SessionNew", time: T, session: 1, client: 1, spec: { name: "pipe" } }, // 4
  { type: "ClientSubmit", time: T + 10, session: 1, plan: plan1 }, // 5
  started(T + 100, 1, 12, "g:1", T + 100), // 6
  started(T + 100, 1, 14, "g:1", T + 100), // 7
  monitoring(T + 500, "g:1", 1000, 0), // 8
  finished(T + 600, 1, 14, "g:1", T + 100, 0.5, [[13, 3]]), // 9
  finished(T + 1100, 1, 12, "g:1", T + 100, 1.0, [[11, 5]]), // 10
  {
    type: "DataTransfer",
    time: T + 1200,
    to: "g:2",
    transfer: { object: [1, 11], from: "g:1", bytes: 5, start_time: iso(T + 1150), duration: 0.05 },
  }, // 11
  started(T + 1200, 1, 16, "g:2", T + 1200), // 12
  monitoring(T + 1500, "g:1", 3000, 500), // 13
  finished(T + 1400, 1, 16, "g:2", T + 1200, 0.2, [[15, 8]]), // 14
  { type: "SessionNew", time: T + 2000, session: 2, client: 1, spec: { name: "fail" } }, // 15
  { type: "ClientSubmit", time: T + 2000, session: 2, plan: plan2 }, // 16
  started(T + 2100, 2, 20, "g:2", T + 2100), // 17
  finished(T + 2200, 2, 20, "g:2", T + 2100, 0.1, undefined, "no such file"), // 18
  { type: "SessionClosed", time: T + 2200, session: 2, reason: "Error", message: "failed: x" }, // 19
  monitoring(T + 2500, "g:1", 4000, 500), // 20
  { type: "SessionClosed", time: T + 3000, session: 1, reason: "ClientClose", message: "" }, // 21
];

/** The views of one source, called as the routes call them. */
function queries(source: EventSource) {
  const view = (sid: number) => source.sessionView(sid);
  return {
    source,
    eventsJson: (criteria: EventCriteria) => source.events(criteria),
    sessions: async () => (await source.refresh(), sessionsView(source.model)),
    governors: async () => (await source.refresh(), governorsView(source.model)),
    summary: async (sid: number) => summaryView(await view(sid)),
    taskGroups: async (sid: number) => taskGroupsView(await view(sid)),
    taskStream: async (sid: number, from?: number, to?: number, limit?: number) =>
      taskStreamView(source.model, await view(sid), from, to, limit),
    taskGraph: async (sid: number, withTasks = false) => taskGraphView(await view(sid), withTasks),
    task: async (sid: number, id: number) => taskView(await view(sid), id),
    transfers: async (sid: number, from?: number, to?: number) =>
      transfersView(await view(sid), from, to),
    monitoring: async (governor?: string, from?: number, to?: number, maxPoints?: number) =>
      monitoringView(await source.monitoring(governor, from, to), maxPoints),
  };
}
type Queries = ReturnType<typeof queries>;

/**
 * Runs `fn` on the live server's views (events pushed into LiveEvents) and then on the
 * post-mortem views of the log they were written to: both must answer the same.
 */
async function withLog(
  fn: (q: Queries, push: (e: PendingEvent) => Promise<void>, path: string) => Promise<void> | void,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  const live = LiveEvents.open(dir);
  const path = join(dir, "events.db");
  try {
    for (const e of EVENTS) live.push(e);
    await live.log.flush();
    await fn(queries(live), (e) => Promise.resolve(live.push(e)), path);
    const after = await Deno.makeTempDir();
    try {
      // The same events in a fresh log, read post-mortem.
      const again = LiveEvents.open(after);
      for (const e of EVENTS) again.push(e);
      await again.log.flush();
      const postMortem = new PostMortemEvents(join(after, "events.db"));
      try {
        await fn(queries(postMortem), async (e) => {
          again.push(e);
          await again.log.flush();
        }, join(after, "events.db"));
      } finally {
        postMortem.close();
        await again.log.close();
      }
    } finally {
      await Deno.remove(after, { recursive: true });
    }
  } finally {
    await live.log.close();
    await Deno.remove(dir, { recursive: true });
  }
}

async function ids(q: Queries, criteria: unknown): Promise<number[]> {
  return JSON.parse(await q.eventsJson(parseCriteria(criteria))).map((r: { id: number }) => r.id);
}

Deno.test("POST /events criteria: id and session modes, types OR-ed, groups AND-ed", () =>
  withLog(async (q) => {
    assertEquals((await ids(q, {})).length, EVENTS.length);
    assertEquals(await ids(q, { id: { value: 3, mode: "=" } }), [3]);
    assertEquals(await ids(q, { id: { value: 3, mode: "<" } }), [1, 2]);
    assertEquals(await ids(q, { id: { value: 3, mode: "<=" } }), [1, 2, 3]);
    assertEquals(await ids(q, { id: { value: 19, mode: ">" } }), [20, 21]);
    assertEquals(await ids(q, { id: { value: 19, mode: ">=" } }), [19, 20, 21]);
    assertEquals(await ids(q, { session: { value: 2, mode: "=" } }), [15, 16, 17, 18, 19]);
    assertEquals(await ids(q, { session: { value: 2, mode: "<" } }), [
      4,
      5,
      6,
      7,
      9,
      10,
      11,
      12,
      14,
      21,
    ]);
    assertEquals(
      await ids(q, {
        event_types: [{ value: "SessionNew", mode: "=" }, { value: "SessionClosed", mode: "=" }],
      }),
      [4, 15, 19, 21],
    );
    assertEquals(
      await ids(q, {
        event_types: [{ value: "TaskFinished", mode: "=" }],
        session: { value: 1, mode: "=" },
        id: { value: 10, mode: ">=" },
      }),
      [10, 14],
    );
    assertEquals(await ids(q, { limit: 2 }), [1, 2]);
    const [row] = JSON.parse(await q.eventsJson(parseCriteria({ id: { value: 4, mode: "=" } })));
    assertEquals(row, {
      id: 4,
      time: iso(T),
      event: { type: "SessionNew", session: 1, client: 1, spec: { name: "pipe" } },
    });
  }));

Deno.test("bad criteria are rejected with a message", () => {
  throws(() => parseCriteria({ id: { value: 1, mode: "!=" } }), /mode must be one of/);
  throws(() => parseCriteria({ id: { value: "1", mode: "=" } }), /id.value/);
  throws(() => parseCriteria({ session: 3 }), /session must be/);
  throws(() => parseCriteria({ event_types: "SessionNew" }), /event_types must be an array/);
  throws(() => parseCriteria([1]), QueryError);
  assertEquals(parseCriteria({ event_types: ["TaskStarted"] }).event_types, [
    { value: "TaskStarted", mode: "=" },
  ]);
});

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
        { name: "a", task_type: "buildin/concat", count: 2, finished: 2, failed: 0 },
        { name: "b", task_type: "buildin/concat", count: 1, finished: 1, failed: 0 },
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

Deno.test("HTTP routes: JSON answers with CORS, errors, and the log turned off", () =>
  withLog(async (q, _push, path) => {
    const app = eventsApi(q.source);
    const post = (body: string) =>
      app.request("/events", {
        method: "POST",
        body,
        headers: { "content-type": "application/json", origin: "http://elsewhere" },
      });
    let res = await post(JSON.stringify({ session: { value: 2, mode: "=" } }));
    assertEquals(res.status, 200);
    assertEquals(res.headers.get("access-control-allow-origin"), "*");
    assertEquals((await res.json()).length, 5);
    res = await post("");
    assertEquals((await res.json()).length, EVENTS.length);
    res = await post("{nope");
    assertEquals(res.status, 400);
    assertEquals((await res.json()).error.kind, "BadRequest");
    res = await app.request("/events", {
      method: "OPTIONS",
      headers: { origin: "http://x", "access-control-request-method": "POST" },
    });
    assertEquals(res.headers.get("access-control-allow-origin"), "*");
    for (
      const route of [
        "/api/v1/sessions",
        "/api/v1/governors",
        "/api/v1/monitoring?from=0",
        "/api/v1/sessions/1/summary",
        "/api/v1/sessions/1/task_groups",
        "/api/v1/sessions/1/task_stream?from=0&to=10&limit=10",
        "/api/v1/sessions/1/task_graph?tasks=1",
        "/api/v1/sessions/1/tasks/16",
        "/api/v1/sessions/1/transfers",
      ]
    ) {
      res = await app.request(route);
      assertEquals(res.status, 200, route);
      assertEquals(res.headers.get("access-control-allow-origin"), "*", route);
      ok(await res.json(), route);
    }
    res = await app.request("/api/v1/sessions/7/summary");
    assertEquals([res.status, (await res.json()).error.kind], [404, "NotFound"]);
    res = await app.request("/api/v1/sessions/1/task_stream?from=x");
    assertEquals(res.status, 400);
    // read-only, post-mortem
    const ro = new PostMortemEvents(path);
    assertEquals((await queries(ro).sessions()).length, 2);
    ro.close();
    const off = eventsApi(undefined);
    assertEquals(await (await off.request("/events", { method: "POST" })).json(), []);
    assertEquals(await (await off.request("/api/v1/sessions")).json(), []);
    assertEquals((await off.request("/api/v1/sessions/1/summary")).status, 404);
  }));

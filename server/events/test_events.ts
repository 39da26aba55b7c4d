/** The events the view and route tests run over, and the harness that runs both sources. */
import { join } from "node:path";
import { type EventCriteria, parseCriteria } from "./criteria.ts";
import type { PendingEvent } from "./event.ts";
import { LiveEvents } from "./live.ts";
import { PostMortemEvents } from "./post_mortem.ts";
import type { EventSource } from "./source.ts";
import {
  governorsView,
  monitoringView,
  sessionsView,
  summaryView,
  taskGraphView,
  taskGroupsView,
  taskStreamView,
  taskView,
  transfersView,
} from "./views.ts";
import type { SubmitPlan } from "../submit.ts";

export const T = Date.parse("2025-01-02T00:00:00.000Z");
export const iso = (ms: number) => new Date(ms).toISOString();

export const plan1: SubmitPlan = {
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
export const plan2: SubmitPlan = {
  objects: [],
  tasks: [{ id: 20, taskType: "buildin/sleep", inputs: [], outputs: [], cpus: 1 }],
};

export function started(
  time: number,
  session: number,
  task: number,
  governor: string,
  start: number,
) {
  return {
    type: "TaskStarted" as const,
    time,
    session,
    task,
    governor,
    start_time: iso(start),
  };
}

export function finished(
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

export function monitoring(time: number, governor: string, rx: number, tx: number): PendingEvent {
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

export const EVENTS: PendingEvent[] = [
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
export function queries(source: EventSource) {
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
export type Queries = ReturnType<typeof queries>;

/**
 * Runs `fn` on the live server's views (events pushed into LiveEvents) and then on the
 * post-mortem views of the log they were written to: both must answer the same.
 */
export async function withLog(
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

export async function ids(q: Queries, criteria: unknown): Promise<number[]> {
  return JSON.parse(await q.eventsJson(parseCriteria(criteria))).map((r: { id: number }) => r.id);
}

import { deepStrictEqual as assertEquals, rejects } from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import type { PendingEvent } from "./event.ts";
import { LiveEvents } from "./live.ts";
import { PostMortemEvents } from "./post_mortem.ts";
import { sessionsView, summaryView, taskGroupsView } from "./views.ts";
import type { SubmitPlan } from "../submit.ts";

const T = Date.parse("2025-03-04T00:00:00.000Z");
const iso = (ms: number) => new Date(ms).toISOString();

function plan(first: number, count: number): SubmitPlan {
  const tasks = [];
  for (let i = 0; i < count; i++) {
    tasks.push({ id: first + i, taskType: "buildin/sleep", inputs: [], outputs: [], cpus: 1 });
  }
  return { objects: [], tasks };
}

/** A session of `count` tasks, all run; the first fails when `failFirst`. */
function session(sid: number, count: number, failFirst = false): PendingEvent[] {
  const events: PendingEvent[] = [
    { type: "SessionNew", time: T, session: sid, client: null, spec: { name: `s${sid}` } },
    { type: "ClientSubmit", time: T + 1, session: sid, plan: plan(10, count) },
  ];
  for (let i = 0; i < count; i++) {
    const info = { governor: "g:1", start_time: iso(T + 2), duration: 0.5 };
    events.push({
      type: "TaskStarted",
      time: T + 2,
      session: sid,
      task: 10 + i,
      governor: "g:1",
      start_time: iso(T + 2),
    });
    events.push({
      type: "TaskFinished",
      time: T + 3,
      session: sid,
      task: 10 + i,
      info: failFirst && i === 0 ? { ...info, error: "bad" } : info,
    });
  }
  return events;
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("details over the memory budget are dropped, oldest session first", () =>
  withDir(async (dir) => {
    const live = LiveEvents.open(dir, { detailTasks: 5 });
    for (const e of [...session(1, 3), ...session(2, 3)]) live.push(e);
    const [s1, s2] = sessionsView(live.model);
    assertEquals([s1?.tasks_finished, s2?.tasks_finished], [3, 3]); // counts stay
    await rejects(live.sessionView(1), /no longer in the server's memory/);
    assertEquals(taskGroupsView(await live.sessionView(2))[0]?.finished, 3);
    await live.log.close();
    // Post-mortem rebuilds what the live server dropped.
    const postMortem = new PostMortemEvents(join(dir, "events.db"));
    assertEquals(taskGroupsView(await postMortem.sessionView(1))[0]?.finished, 3);
    postMortem.close();
  }));

Deno.test("a server over an existing log lists its sessions, with their counts", () =>
  withDir(async (dir) => {
    const first = LiveEvents.open(dir);
    for (const e of session(1, 4, true)) first.push(e);
    await first.log.close();
    const second = LiveEvents.open(dir);
    const [row] = sessionsView(second.model);
    assertEquals(
      [row?.session, row?.status, row?.tasks_total, row?.tasks_finished, row?.tasks_failed],
      [1, "lost", 4, 3, 1],
    );
    await rejects(second.sessionView(1), /rain dashboard --logdir/);
    await second.log.close();
  }));

Deno.test("a log of an older server (no event_counts) is counted from its JSON", () =>
  withDir(async (dir) => {
    const live = LiveEvents.open(dir);
    for (const e of session(1, 2, true)) live.push(e);
    await live.log.close();
    const path = join(dir, "events.db");
    const db = new DatabaseSync(path);
    db.exec("DROP TABLE event_counts; DROP TABLE log_info;");
    db.close();
    const postMortem = new PostMortemEvents(path);
    await postMortem.refresh();
    const [row] = sessionsView(postMortem.model);
    assertEquals([row?.tasks_total, row?.tasks_finished, row?.tasks_failed], [2, 1, 1]);
    assertEquals(summaryView(await postMortem.sessionView(1)).tasks_failed, 1);
    postMortem.close();
  }));

Deno.test("a big session is indexed in slices; concurrent views and new events agree", () =>
  withDir(async (dir) => {
    const live = LiveEvents.open(dir);
    const count = 45_000; // more than two slices of tasks alone
    for (const e of session(1, count)) live.push(e);
    const first = live.sessionView(1); // yields between slices ...
    const second = live.sessionView(1); // ... and shares the work
    live.push({ type: "SessionNew", time: T + 9, session: 2, client: null, spec: {} });
    const [a, b] = await Promise.all([first, second]);
    assertEquals(a.detail, b.detail);
    const [group] = taskGroupsView(a);
    assertEquals([group?.count, group?.finished], [count, count]);
    assertEquals(summaryView(a).progress.at(-1), [0.502, 0]); // to the last end (start + 0.5 s)
    await live.log.close();
  }));

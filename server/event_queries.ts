/**
 * Queries over the event log (docs/events.md): `POST /events` and the JSON views the dashboard
 * needs for sessions of 100k tasks without shipping every event. Everything is computed from
 * `events.db`, so it works for the live server (a second, reading connection; WAL) and
 * post-mortem (`EventQueries.open(path, { readOnly: true })`).
 *
 * Events are immutable and ids grow, so derived state is built incrementally: a light summary
 * of every session and governor (catching up from the last row seen at each call), and a detailed
 * index of a session (tasks, objects, groups, transfers) built when first asked and then caught
 * up likewise; the few most recently used are kept.
 */
import { DatabaseSync } from "node:sqlite";
import { Hono } from "hono";
import type { Context } from "hono";
import { cors } from "hono/cors";
import { API_PREFIX } from "../common/messages.ts";

// -------------------------------------------------------------------------------------------
// Errors and criteria

export class QueryError extends Error {
  constructor(readonly status: 400 | 404, message: string) {
    super(message);
  }
}

const MODES = ["=", "<", ">", "<=", ">="] as const;
export type Mode = typeof MODES[number];
export interface Criterion<T> {
  value: T;
  mode: Mode;
}
/** The body of `POST /events` (reference §4); `limit` is an extension. */
export interface EventCriteria {
  id?: Criterion<number>;
  event_types?: Criterion<string>[];
  session?: Criterion<number>;
  limit?: number;
}

/** Rows per `/events` answer at most (page with `id > last`). */
export const MAX_EVENTS = 100_000;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function criterion<T>(v: unknown, what: string, check: (x: unknown) => x is T): Criterion<T> {
  if (!isRecord(v)) throw new QueryError(400, `${what} must be {"value": ..., "mode": ...}`);
  const mode = v.mode ?? "=";
  if (!MODES.includes(mode as Mode)) {
    throw new QueryError(400, `${what}.mode must be one of ${MODES.join(" ")}`);
  }
  if (!check(v.value)) throw new QueryError(400, `${what}.value has the wrong type`);
  return { value: v.value, mode: mode as Mode };
}

const isInt = (x: unknown): x is number => Number.isSafeInteger(x);
const isString = (x: unknown): x is string => typeof x === "string";

/** Checks a `POST /events` body. */
export function parseCriteria(body: unknown): EventCriteria {
  if (body === undefined || body === null) return {};
  if (!isRecord(body)) throw new QueryError(400, "the criteria must be a JSON object");
  const out: EventCriteria = {};
  if (body.id !== undefined && body.id !== null) out.id = criterion(body.id, "id", isInt);
  if (body.session !== undefined && body.session !== null) {
    out.session = criterion(body.session, "session", isInt);
  }
  if (body.event_types !== undefined && body.event_types !== null) {
    if (!Array.isArray(body.event_types)) {
      throw new QueryError(400, "event_types must be an array of criteria");
    }
    out.event_types = body.event_types.map((c, i) =>
      criterion(typeof c === "string" ? { value: c } : c, `event_types[${i}]`, isString)
    );
  }
  if (body.limit !== undefined && body.limit !== null) {
    if (!isInt(body.limit) || body.limit < 1) {
      throw new QueryError(400, "limit must be a positive integer");
    }
    out.limit = body.limit;
  }
  return out;
}

// -------------------------------------------------------------------------------------------
// Answer shapes (docs/events.md)

export type SessionStatus = "open" | "finished" | "failed" | "closed" | "lost";

export interface SessionRow {
  session: number;
  name: string;
  client: number | null;
  status: SessionStatus;
  created: string;
  closed?: string;
  /** seconds from created to closed (or to the session's last event while open) */
  duration: number;
  tasks_total: number;
  tasks_finished: number;
  tasks_failed: number;
  tasks_running: number;
  error?: string;
}

export interface GovernorRow {
  governor: string;
  cpus: number;
  executors: string[];
  added: string;
  removed?: string;
  error?: string;
}

export interface TaskStreamRow {
  id: number;
  name: string;
  governor: string;
  cpu: number;
  start: number;
  end: number | null;
  failed: boolean;
}

// -------------------------------------------------------------------------------------------
// Light state: every session and governor

interface SessionLight {
  session: number;
  name: string;
  client: number | null;
  created: number;
  closed?: number;
  reason?: string;
  message?: string;
  tasksTotal: number;
  objectsTotal: number;
  started: number;
  finished: number;
  failed: number;
  last: number;
}

interface GovernorLight {
  governor: string;
  cpus: number;
  executors: string[];
  added: number;
  removed?: number;
  error?: string;
}

// -------------------------------------------------------------------------------------------
// Detailed index of one session

interface TaskEntry {
  id: number;
  group: number;
  /** ClientSubmit row id and position in its `tasks`. */
  submit: number;
  pos: number;
  inputs: number[];
  outputs: number[];
  state: "waiting" | "running" | "finished" | "failed";
  governor?: string;
  /** ms (governor clock, from info.start_time) */
  start?: number;
  end?: number;
  duration?: number;
  startedRow?: number;
  finishedRow?: number;
  lane: number;
}

interface ObjectEntry {
  submit: number;
  pos: number;
  producer?: number;
  consumers?: number[];
  size?: number;
}

interface GroupEntry {
  name: string;
  task_type: string;
  count: number;
  finished: number;
  failed: number;
  running: number;
  durationTotal: number;
  durationMax: number;
}

interface TransferEntry {
  object: number;
  from: string;
  to: string;
  bytes: number;
  start: number;
  duration: number;
}

class SessionIndex {
  lastRow = 0;
  version = 0;
  lanesVersion = -1;
  readonly tasks = new Map<number, TaskEntry>();
  readonly objects = new Map<number, ObjectEntry>();
  readonly groups: GroupEntry[] = [];
  readonly groupIds = new Map<string, number>();
  /** [server time ms, tasks submitted] */
  readonly submits: [number, number][] = [];
  /** server time (ms) of every TaskFinished, in log order */
  readonly finishTimes: number[] = [];
  readonly transfers: TransferEntry[] = [];
  readonly governors = new Set<string>();
  bytes = 0;
  firstStart = Infinity;
  lastEnd = -Infinity;
  /** Lanes used per governor (after `assignLanes`). */
  lanes = new Map<string, number>();

  constructor(readonly session: number) {}

  group(name: string, taskType: string): number {
    const key = `${name}\u0000${taskType}`;
    let g = this.groupIds.get(key);
    if (g === undefined) {
      g = this.groups.length;
      this.groupIds.set(key, g);
      this.groups.push({
        name,
        task_type: taskType,
        count: 0,
        finished: 0,
        failed: 0,
        running: 0,
        durationTotal: 0,
        durationMax: 0,
      });
    }
    return g;
  }

  apply(rowId: number, ts: string, type: string, text: string): void {
    switch (type) {
      case "ClientSubmit":
        return this.#submit(rowId, Date.parse(ts), JSON.parse(text));
      case "TaskStarted":
        return this.#started(rowId, JSON.parse(text));
      case "TaskFinished":
        return this.#finished(rowId, Date.parse(ts), JSON.parse(text));
      case "DataTransfer": {
        const e = JSON.parse(text);
        this.transfers.push({
          object: e.object?.[1],
          from: e.from,
          to: e.to,
          bytes: e.bytes,
          start: Date.parse(e.start_time),
          duration: e.duration,
        });
        return;
      }
    }
  }

  // deno-lint-ignore no-explicit-any
  #submit(rowId: number, time: number, e: any): void {
    const objects = Array.isArray(e.dataobjs) ? e.dataobjs : [];
    for (let pos = 0; pos < objects.length; pos++) {
      const o = objects[pos];
      const id = o?.id?.[1];
      if (typeof id !== "number") continue;
      this.objects.set(id, { submit: rowId, pos, size: o.data_size });
    }
    const tasks = Array.isArray(e.tasks) ? e.tasks : [];
    for (let pos = 0; pos < tasks.length; pos++) {
      const t = tasks[pos];
      const id = t?.id?.[1];
      if (typeof id !== "number") continue;
      const taskType = String(t.task_type ?? "");
      const group = this.group(typeof t.name === "string" && t.name ? t.name : taskType, taskType);
      this.groups[group].count++;
      const inputs: number[] = (t.inputs ?? []).map((i: { id: [number, number] }) => i.id[1]);
      const outputs: number[] = (t.outputs ?? []).map((o: [number, number]) => o[1]);
      this.tasks.set(id, {
        id,
        group,
        submit: rowId,
        pos,
        inputs,
        outputs,
        state: "waiting",
        lane: -1,
      });
      for (const o of outputs) {
        const obj = this.objects.get(o);
        if (obj) obj.producer = id;
      }
      for (const i of inputs) {
        const obj = this.objects.get(i);
        if (obj) (obj.consumers ??= []).push(id);
      }
    }
    this.submits.push([time, tasks.length]);
    this.version++;
  }

  // deno-lint-ignore no-explicit-any
  #started(rowId: number, e: any): void {
    const task = this.tasks.get(e.task?.[1]);
    if (!task || task.state !== "waiting") return;
    task.state = "running";
    task.startedRow = rowId;
    task.governor = e.info?.governor;
    task.start = Date.parse(e.info?.start_time);
    if (task.governor) this.governors.add(task.governor);
    if (task.start < this.firstStart) this.firstStart = task.start;
    this.groups[task.group].running++;
    this.version++;
  }

  // deno-lint-ignore no-explicit-any
  #finished(rowId: number, time: number, e: any): void {
    const task = this.tasks.get(e.task?.[1]);
    if (!task || task.state === "finished" || task.state === "failed") return;
    const group = this.groups[task.group];
    if (task.state === "running") group.running--;
    const info = e.info ?? {};
    const failed = typeof info.error === "string" && info.error !== "";
    task.state = failed ? "failed" : "finished";
    task.finishedRow = rowId;
    task.governor = info.governor ?? task.governor;
    if (task.governor) this.governors.add(task.governor);
    const start = Date.parse(info.start_time);
    if (Number.isFinite(start)) task.start = start;
    const duration = typeof info.duration === "number" ? info.duration : 0;
    task.duration = duration;
    if (task.start !== undefined && Number.isFinite(task.start)) {
      task.end = task.start + duration * 1000;
      if (task.start < this.firstStart) this.firstStart = task.start;
      if (task.end > this.lastEnd) this.lastEnd = task.end;
    }
    if (failed) group.failed++;
    else group.finished++;
    group.durationTotal += duration;
    if (duration > group.durationMax) group.durationMax = duration;
    if (Array.isArray(e.outputs)) {
      for (const [id, size] of e.outputs) {
        const obj = this.objects.get(id);
        if (obj) obj.size = size;
        this.bytes += size;
      }
    }
    this.finishTimes.push(time);
    this.version++;
  }

  /** Gives every started task a cpu lane on its governor (greedy by start time). */
  assignLanes(): void {
    if (this.lanesVersion === this.version) return;
    this.lanesVersion = this.version;
    const byGovernor = new Map<string, TaskEntry[]>();
    for (const t of this.tasks.values()) {
      if (t.start === undefined || !Number.isFinite(t.start) || !t.governor) continue;
      let list = byGovernor.get(t.governor);
      if (!list) byGovernor.set(t.governor, list = []);
      list.push(t);
    }
    this.lanes = new Map();
    for (const [governor, list] of byGovernor) {
      list.sort((a, b) => a.start! - b.start! || a.id - b.id);
      const busyUntil: number[] = [];
      for (const t of list) {
        let lane = busyUntil.findIndex((end) => end <= t.start!);
        if (lane < 0) lane = busyUntil.push(0) - 1;
        busyUntil[lane] = t.end ?? Infinity;
        t.lane = lane;
      }
      this.lanes.set(governor, busyUntil.length);
    }
  }
}

// -------------------------------------------------------------------------------------------
// The queries

const RARE_TYPES = [
  "SessionNew",
  "SessionClosed",
  "GovernorNew",
  "GovernorRemoved",
  "ClientSubmit",
];
/** Rows (by id) summarized between two yields while catching up the light state. */
const LIGHT_CHUNK = 50_000;
const DETAIL_TYPES = ["ClientSubmit", "TaskStarted", "TaskFinished", "DataTransfer"];
/** Rows read between two yields to the event loop while catching up (keeps the server live). */
const CHUNK = 5000;
const nextTurn = () => new Promise<void>((resolve) => setTimeout(resolve, 0));
/** Detailed session indexes kept in memory. */
const KEEP_INDEXES = 3;

/** SQL: the count field near the start of a ClientSubmit's text, else the array's length. */
function countField(field: string, array: string): string {
  const head = `instr(substr(event, 1, 120), '"${field}":')`;
  return `CASE WHEN ${head} > 0 THEN CAST(substr(event, ${head} + ${
    field.length + 3
  }, 20) AS INTEGER)
    ELSE json_array_length(event, '$.${array}') END`;
}

function sqlList(values: string[]): string {
  return values.map((v) => `'${v}'`).join(", ");
}

function iso(ms: number | undefined): string | undefined {
  return ms === undefined || !Number.isFinite(ms) ? undefined : new Date(ms).toISOString();
}

function round(x: number, digits = 6): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export class EventQueries {
  readonly #db: DatabaseSync;
  #lastRow = 0;
  readonly #sessions = new Map<number, SessionLight>();
  readonly #governors = new Map<string, GovernorLight>();
  readonly #indexes = new Map<number, SessionIndex>();

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  /** A reading connection to an events.db (`readOnly` for post-mortem use). */
  static open(path: string, options: { readOnly?: boolean } = {}): EventQueries {
    const db = new DatabaseSync(path, { readOnly: options.readOnly ?? false });
    if (!options.readOnly) db.exec("PRAGMA busy_timeout = 1000;");
    return new EventQueries(db);
  }

  close(): void {
    try {
      this.#db.close();
    } catch { /* closed already */ }
  }

  // --- POST /events ---------------------------------------------------------------------------

  /** The answer of `POST /events` as JSON text (event texts are not re-parsed). */
  eventsJson(criteria: EventCriteria): string {
    const where: string[] = [];
    const params: (number | string)[] = [];
    if (criteria.id) {
      where.push(`id ${criteria.id.mode} ?`);
      params.push(criteria.id.value);
    }
    if (criteria.session) {
      where.push(`session ${criteria.session.mode} ?`);
      params.push(criteria.session.value);
    }
    if (criteria.event_types && criteria.event_types.length > 0) {
      where.push(`(${criteria.event_types.map((c) => `event_type ${c.mode} ?`).join(" OR ")})`);
      for (const c of criteria.event_types) params.push(c.value);
    }
    const limit = Math.min(criteria.limit ?? MAX_EVENTS, MAX_EVENTS);
    const sql = `SELECT id, timestamp, event FROM events${
      where.length ? ` WHERE ${where.join(" AND ")}` : ""
    } ORDER BY id LIMIT ${limit}`;
    const parts: string[] = [];
    for (const row of this.#db.prepare(sql).iterate(...params)) {
      parts.push(
        `{"id":${row.id},"time":${JSON.stringify(row.timestamp)},"event":${row.event ?? "null"}}`,
      );
    }
    return `[${parts.join(",")}]`;
  }

  // --- light state ----------------------------------------------------------------------------

  /**
   * Applies the rows written since the last call, `CHUNK` at a time with a yield between chunks.
   * Concurrent calls share the progress: each chunk is read from `#lastRow` and applied
   * synchronously, so no row is applied twice.
   */
  async #catchUp(): Promise<void> {
    // Rare events one by one (through the event_type index), task events aggregated by SQLite
    // per session: no JS object per task event. ClientSubmit events written by event_log.ts start
    // with "task_count"/"object_count": read from the first bytes, not by parsing 100k specs.
    const rare = this.#db.prepare(
      `SELECT id, timestamp AS ts, event_type AS type, session,
         CASE WHEN event_type != 'ClientSubmit' THEN event END AS event,
         CASE WHEN event_type = 'ClientSubmit' THEN ${countField("task_count", "tasks")} END
           AS ntasks,
         CASE WHEN event_type = 'ClientSubmit' THEN ${countField("object_count", "dataobjs")} END
           AS nobjs
       FROM events WHERE event_type IN (${sqlList(RARE_TYPES)}) AND id > ? AND id <= ?
       ORDER BY id`,
    );
    // `+event_type` keeps SQLite on the rowid range (not the event_type index).
    const tasks = this.#db.prepare(
      `SELECT session, event_type AS type, count(*) AS n, max(timestamp) AS last,
         sum(CASE WHEN event_type = 'TaskFinished' AND instr(event, '"error"') > 0
           AND json_extract(event, '$.info.error') IS NOT NULL THEN 1 ELSE 0 END) AS failed
       FROM events WHERE id > ? AND id <= ? AND +event_type IN ('TaskStarted', 'TaskFinished')
       GROUP BY session, event_type`,
    );
    const maxRow = this.#db.prepare("SELECT max(id) AS m FROM events").get()?.m as number | null;
    while (maxRow !== null && this.#lastRow < maxRow) {
      // Synchronous from reading #lastRow to advancing it: concurrent callers never apply a row
      // twice.
      const from = this.#lastRow;
      const to = Math.min(maxRow, from + LIGHT_CHUNK);
      for (const r of rare.all(from, to)) this.#applyLight(r);
      for (const a of tasks.all(from, to)) {
        const s = this.#sessions.get(a.session as number);
        if (!s) continue;
        const n = a.n as number;
        if (a.type === "TaskStarted") {
          s.started += n;
        } else {
          const failed = (a.failed as number) ?? 0;
          s.failed += failed;
          s.finished += n - failed;
        }
        const last = Date.parse(a.last as string);
        if (last > s.last) s.last = last;
      }
      this.#lastRow = to;
      if (to < maxRow) await nextTurn();
    }
  }

  // deno-lint-ignore no-explicit-any
  #applyLight(r: any): void {
    const time = Date.parse(r.ts);
    const s = r.session === null ? undefined : this.#sessions.get(r.session);
    if (s && time > s.last) s.last = time;
    switch (r.type) {
      case "SessionNew": {
        const e = JSON.parse(r.event);
        this.#sessions.set(r.session, {
          session: r.session,
          name: typeof e.spec?.name === "string" ? e.spec.name : "Unnamed Session",
          client: e.client ?? null,
          created: time,
          tasksTotal: 0,
          objectsTotal: 0,
          started: 0,
          finished: 0,
          failed: 0,
          last: time,
        });
        break;
      }
      case "SessionClosed": {
        if (!s || s.closed !== undefined) break;
        const e = JSON.parse(r.event);
        s.closed = time;
        s.reason = e.reason;
        s.message = e.message;
        break;
      }
      case "GovernorNew": {
        const e = JSON.parse(r.event);
        this.#governors.set(e.governor, {
          governor: e.governor,
          cpus: e.resources?.cpus ?? 0,
          executors: e.executors ?? [],
          added: time,
        });
        break;
      }
      case "GovernorRemoved": {
        const e = JSON.parse(r.event);
        const g = this.#governors.get(e.governor);
        if (g) {
          g.removed = time;
          g.error = e.error;
        }
        break;
      }
      case "ClientSubmit":
        if (s) {
          s.tasksTotal += r.ntasks ?? 0;
          s.objectsTotal += r.nobjs ?? 0;
        }
        break;
    }
  }

  #row(s: SessionLight): SessionRow {
    let status: SessionStatus;
    if (s.reason === "Error") status = "failed";
    else if (s.reason === "ServerLost") status = "lost";
    else if (s.closed !== undefined) status = "closed";
    else if (s.tasksTotal > 0 && s.finished >= s.tasksTotal) status = "finished";
    else status = "open";
    const end = s.closed ?? s.last;
    const row: SessionRow = {
      session: s.session,
      name: s.name,
      client: s.client,
      status,
      created: iso(s.created)!,
      duration: round(Math.max(0, end - s.created) / 1000, 3),
      tasks_total: s.tasksTotal,
      tasks_finished: s.finished,
      tasks_failed: s.failed,
      tasks_running: Math.max(0, s.started - s.finished - s.failed),
    };
    if (s.closed !== undefined) row.closed = iso(s.closed);
    if (status === "failed" && s.message) row.error = s.message;
    return row;
  }

  /** Every session in the log, newest last. */
  async sessions(): Promise<SessionRow[]> {
    await this.#catchUp();
    return [...this.#sessions.values()].map((s) => this.#row(s));
  }

  /** Every governor in the log. */
  async governors(): Promise<GovernorRow[]> {
    await this.#catchUp();
    return [...this.#governors.values()].map((g) => {
      const row: GovernorRow = {
        governor: g.governor,
        cpus: g.cpus,
        executors: g.executors,
        added: iso(g.added)!,
      };
      if (g.removed !== undefined) {
        row.removed = iso(g.removed);
        row.error = g.error;
      }
      return row;
    });
  }

  async #light(sid: number): Promise<SessionLight> {
    await this.#catchUp();
    const s = this.#sessions.get(sid);
    if (!s) throw new QueryError(404, `session ${sid} is not in the event log`);
    return s;
  }

  // --- detailed index -------------------------------------------------------------------------

  async #index(sid: number): Promise<{ light: SessionLight; index: SessionIndex }> {
    const light = await this.#light(sid);
    let index = this.#indexes.get(sid);
    if (index) {
      this.#indexes.delete(sid); // re-inserted below: most recently used last
    } else {
      index = new SessionIndex(sid);
      while (this.#indexes.size >= KEEP_INDEXES) {
        this.#indexes.delete(this.#indexes.keys().next().value!);
      }
    }
    this.#indexes.set(sid, index);
    const statement = this.#db.prepare(
      `SELECT id, timestamp AS ts, event_type AS type, event FROM events
       WHERE session = ? AND id > ? AND event_type IN (${sqlList(DETAIL_TYPES)})
       ORDER BY id LIMIT ${CHUNK}`,
    );
    for (;;) {
      const rows = statement.all(sid, index.lastRow);
      for (const r of rows) {
        if ((r.id as number) <= index.lastRow) continue; // applied by a concurrent caller
        index.apply(r.id as number, r.ts as string, r.type as string, r.event as string);
        index.lastRow = r.id as number;
      }
      if (rows.length < CHUNK) break;
      await nextTurn();
    }
    return { light, index };
  }

  /** The session's list row plus totals and the unfinished-tasks curve. */
  async summary(sid: number) {
    const { light, index } = await this.#index(sid);
    const row = this.#row(light);
    const end = light.closed ?? Math.max(light.last, index.lastEnd);
    return {
      ...row,
      objects_total: light.objectsTotal,
      bytes: index.bytes,
      governors: [...index.governors].sort(),
      task_groups: index.groups.length,
      first_start: iso(index.firstStart),
      last_end: iso(index.lastEnd),
      progress: progressCurve(light.created, end, index.submits, index.finishTimes, 200),
    };
  }

  /** Tasks grouped by name (the task type when unnamed). */
  async taskGroups(sid: number) {
    const { index } = await this.#index(sid);
    return index.groups.map((g) => {
      const done = g.finished + g.failed;
      return {
        name: g.name,
        task_type: g.task_type,
        count: g.count,
        finished: g.finished,
        failed: g.failed,
        running: g.running,
        duration_mean: done ? round(g.durationTotal / done) : 0,
        duration_max: round(g.durationMax),
        duration_total: round(g.durationTotal),
      };
    });
  }

  /**
   * Bars of a timeline: tasks overlapping `[from, to]` (seconds from the session's creation), at
   * most `limit` (the longest ones when more overlap), each on a cpu lane of its governor.
   */
  async taskStream(sid: number, from = -Infinity, to = Infinity, limit = 5000) {
    const { light, index } = await this.#index(sid);
    index.assignLanes();
    const base = light.created;
    const lo = base + from * 1000;
    const hi = base + to * 1000;
    let rows: TaskEntry[] = [];
    for (const t of index.tasks.values()) {
      if (t.start === undefined || !Number.isFinite(t.start) || t.lane < 0) continue;
      if (t.start > hi || (t.end ?? Infinity) < lo) continue;
      rows.push(t);
    }
    const truncated = rows.length > limit;
    if (truncated) {
      const length = (t: TaskEntry) => (t.end ?? Infinity) - t.start!;
      rows.sort((a, b) => length(b) - length(a));
      rows = rows.slice(0, limit);
    }
    rows.sort((a, b) => a.start! - b.start! || a.id - b.id);
    const cpus = (g: string) => this.#governors.get(g)?.cpus ?? 0;
    const end = light.closed ?? Math.max(light.last, index.lastEnd);
    return {
      start: iso(base),
      end: iso(end),
      governors: [...index.lanes].sort().map(([governor, lanes]) => ({
        governor,
        cpus: cpus(governor),
        lanes: Math.max(lanes, cpus(governor)),
      })),
      tasks: rows.map((t): TaskStreamRow => ({
        id: t.id,
        name: index.groups[t.group].name,
        governor: t.governor!,
        cpu: t.lane,
        start: round((t.start! - base) / 1000),
        end: t.end === undefined ? null : round((t.end - base) / 1000),
        failed: t.state === "failed",
      })),
      truncated,
    };
  }

  /** Tasks grouped by name; an edge where a group's outputs feed another group's tasks. */
  async taskGraph(sid: number, withTasks = false) {
    const { index } = await this.#index(sid);
    const edges = new Map<string, { from: string; to: string; count: number; bytes: number }>();
    for (const t of index.tasks.values()) {
      for (const input of t.inputs) {
        const obj = index.objects.get(input);
        const producer = obj?.producer === undefined ? undefined : index.tasks.get(obj.producer);
        if (!producer) continue;
        const key = `${producer.group}>${t.group}`;
        let edge = edges.get(key);
        if (!edge) {
          edge = {
            from: index.groups[producer.group].name,
            to: index.groups[t.group].name,
            count: 0,
            bytes: 0,
          };
          edges.set(key, edge);
        }
        edge.count++;
        edge.bytes += obj!.size ?? 0;
      }
    }
    const graph: {
      groups: {
        name: string;
        task_type: string;
        count: number;
        finished: number;
        failed: number;
      }[];
      edges: { from: string; to: string; count: number; bytes: number }[];
      tasks?: { id: number; name: string; inputs: number[]; state: string }[];
    } = {
      groups: index.groups.map((g) => ({
        name: g.name,
        task_type: g.task_type,
        count: g.count,
        finished: g.finished,
        failed: g.failed,
      })),
      edges: [...edges.values()],
    };
    if (withTasks && index.tasks.size <= 2000) {
      graph.tasks = [...index.tasks.values()].map((t) => ({
        id: t.id,
        name: index.groups[t.group].name,
        inputs: t.inputs.flatMap((i) => {
          const p = index.objects.get(i)?.producer;
          return p === undefined ? [] : [p];
        }),
        state: t.state,
      }));
    }
    return graph;
  }

  /** Everything known of one task. */
  async task(sid: number, id: number) {
    const { light, index } = await this.#index(sid);
    const t = index.tasks.get(id);
    if (!t) throw new QueryError(404, `task ${sid}/${id} is not in the event log`);
    // Specs are read back from their ClientSubmit rows, several paths per row in one parse.
    const wanted = new Map<number, string[]>();
    const want = (submit: number, path: string): [number, number] => {
      let paths = wanted.get(submit);
      if (!paths) wanted.set(submit, paths = []);
      return [submit, paths.push(path) - 1];
    };
    const taskRef = want(t.submit, `$.tasks[${t.pos}]`);
    const ref = (o: number) => {
      const obj = index.objects.get(o);
      return obj ? want(obj.submit, `$.dataobjs[${obj.pos}]`) : undefined;
    };
    const inputRefs = t.inputs.map(ref);
    const outputRefs = t.outputs.map(ref);
    const specs = new Map<number, unknown[]>();
    for (const [submit, paths] of wanted) {
      // With several paths json_extract answers a JSON array (one element per path); with one,
      // wrapping it in json_array gives the same shape.
      const extract = paths.length === 1
        ? "json_array(json_extract(event, ?))"
        : `json_extract(event, ${paths.map(() => "?").join(", ")})`;
      const row = this.#db.prepare(`SELECT ${extract} AS v FROM events WHERE id = ?`)
        .get(...paths, submit);
      const values = row?.v ? JSON.parse(String(row.v)) : [];
      specs.set(submit, Array.isArray(values) ? values : []);
    }
    const spec = (r: [number, number] | undefined) => (r ? specs.get(r[0])?.[r[1]] : undefined);
    const event = (row: number | undefined) => {
      if (row === undefined) return undefined;
      const r = this.#db.prepare("SELECT event FROM events WHERE id = ?").get(row);
      return r ? JSON.parse(String(r.event)) : undefined;
    };
    const finished = event(t.finishedRow);
    const started = event(t.startedRow);
    const info = finished?.info ?? started?.info ?? {};
    const base = light.created;
    return {
      id: t.id,
      name: index.groups[t.group].name,
      task_type: index.groups[t.group].task_type,
      state: t.state,
      spec: spec(taskRef),
      info,
      governor: t.governor ?? null,
      start: t.start === undefined ? null : round((t.start - base) / 1000),
      end: t.end === undefined ? null : round((t.end - base) / 1000),
      error: info.error,
      debug: info.debug,
      inputs: t.inputs.map((o, i) => ({
        id: o,
        spec: spec(inputRefs[i]),
        producer: index.objects.get(o)?.producer ?? null,
        size: index.objects.get(o)?.size ?? null,
      })),
      outputs: t.outputs.map((o, i) => ({
        id: o,
        spec: spec(outputRefs[i]),
        size: index.objects.get(o)?.size ?? null,
        consumers: index.objects.get(o)?.consumers ?? [],
      })),
      transfers: index.transfers
        .filter((x) => x.to === t.governor && t.inputs.includes(x.object))
        .map((x) => this.#transferRow(x, base)),
    };
  }

  #transferRow(x: TransferEntry, base: number) {
    return {
      object: x.object,
      from: x.from,
      to: x.to,
      bytes: x.bytes,
      start: round((x.start - base) / 1000),
      duration: x.duration,
    };
  }

  /** Data transfers between governors of the session, within `[from, to]` seconds. */
  async transfers(sid: number, from = -Infinity, to = Infinity) {
    const { light, index } = await this.#index(sid);
    const base = light.created;
    return index.transfers
      .filter((x) => {
        const start = (x.start - base) / 1000;
        return start <= to && start + x.duration >= from;
      })
      .map((x) => this.#transferRow(x, base));
  }

  /**
   * Monitoring series per governor between `from` and `to` (ms since epoch), down-sampled to at
   * most `maxPoints` each; network counters become rates (bytes/s).
   */
  monitoring(governor?: string, from?: number, to?: number, maxPoints = 1000) {
    const where = ["event_type = 'Monitoring'"];
    const params: string[] = [];
    if (from !== undefined) {
      where.push("timestamp >= ?");
      params.push(new Date(from).toISOString());
    }
    if (to !== undefined) {
      where.push("timestamp <= ?");
      params.push(new Date(to).toISOString());
    }
    const series = new Map<string, { time: string; cpu: number[]; mem: number; net: number[] }[]>();
    const statement = this.#db.prepare(
      `SELECT timestamp, event FROM events WHERE ${where.join(" AND ")} ORDER BY id`,
    );
    for (const row of statement.iterate(...params)) {
      const e = JSON.parse(String(row.event));
      if (governor !== undefined && e.governor !== governor) continue;
      let points = series.get(e.governor);
      if (!points) series.set(e.governor, points = []);
      let rx = 0, tx = 0;
      for (const v of Object.values(e.net_stat ?? {})) {
        if (Array.isArray(v)) {
          rx += Number(v[0]) || 0;
          tx += Number(v[1]) || 0;
        }
      }
      points.push({
        time: e.timestamp ?? row.timestamp,
        cpu: e.cpu_usage ?? [],
        mem: e.mem_usage ?? 0,
        net: [rx, tx],
      });
    }
    return {
      governors: [...series].sort(([a], [b]) => a < b ? -1 : 1).map(([id, points]) => {
        const out = points.map((p, i) => {
          const prev = points[i - 1];
          const dt = prev ? (Date.parse(p.time) - Date.parse(prev.time)) / 1000 : 0;
          const rate = (k: number) => dt > 0 ? Math.max(0, (p.net[k] - prev!.net[k]) / dt) : 0;
          return {
            time: p.time,
            cpu: p.cpu,
            mem: p.mem,
            net_rx: round(rate(0), 1),
            net_tx: round(rate(1), 1),
          };
        });
        const step = Math.ceil(out.length / maxPoints);
        return { governor: id, points: step > 1 ? out.filter((_, i) => i % step === 0) : out };
      }),
    };
  }
}

/** `[seconds from created, unfinished submitted tasks]` at up to `points` instants. */
export function progressCurve(
  created: number,
  end: number,
  submits: [number, number][],
  finishTimes: number[],
  points: number,
): [number, number][] {
  if (submits.length === 0) return [];
  const span = Math.max(0, end - created);
  const n = span === 0 ? 1 : points;
  const out: [number, number][] = [];
  let s = 0, f = 0, submitted = 0;
  for (let i = 0; i <= n; i++) {
    const t = created + (span * i) / n;
    while (s < submits.length && submits[s][0] <= t) submitted += submits[s++][1];
    while (f < finishTimes.length && finishTimes[f] <= t) f++;
    out.push([round((t - created) / 1000, 3), Math.max(0, submitted - f)]);
    if (span === 0) break;
  }
  return out;
}

// -------------------------------------------------------------------------------------------
// HTTP routes

function numberParam(c: Context, name: string): number | undefined {
  const raw = c.req.query(name);
  if (raw === undefined || raw === "") return undefined;
  const v = Number(raw);
  if (!Number.isFinite(v)) throw new QueryError(400, `${name} must be a number, got '${raw}'`);
  return v;
}

function timeParam(c: Context, name: string): number | undefined {
  const raw = c.req.query(name);
  if (raw === undefined || raw === "") return undefined;
  const v = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(v)) {
    throw new QueryError(400, `${name} must be RFC 3339 or epoch milliseconds, got '${raw}'`);
  }
  return v;
}

function intParam(c: Context, name: string): number {
  const raw = c.req.param(name) ?? "";
  if (!/^\d+$/.test(raw)) throw new QueryError(400, `${name} must be an integer, got '${raw}'`);
  return Number(raw);
}

function errorJson(c: Context, e: unknown): Response {
  if (e instanceof QueryError) {
    return c.json({
      error: { kind: e.status === 404 ? "NotFound" : "BadRequest", message: e.message },
    }, e.status);
  }
  return c.json({ error: { kind: "Internal", message: String((e as Error)?.message ?? e) } }, 500);
}

/**
 * `POST /events` and the `GET /api/v1/...` views of docs/events.md, CORS `*`. Without `queries`
 * (event log off) the lists are empty and session views answer 404.
 */
export function eventsApi(queries: EventQueries | undefined): Hono {
  const app = new Hono();
  app.use("/events", cors());
  app.use(`${API_PREFIX}/*`, cors());
  const off = () => new QueryError(404, "the event log is off (RAIN_EVENT_LOG=0)");
  const get = (path: string, answer: (c: Context, q: EventQueries) => unknown, empty?: unknown) =>
    app.get(path, async (c) => {
      try {
        if (!queries) {
          if (empty !== undefined) return c.json(empty);
          throw off();
        }
        return c.json(await answer(c, queries) as object);
      } catch (e) {
        return errorJson(c, e);
      }
    });

  app.post("/events", async (c) => {
    try {
      const text = await c.req.text();
      let body: unknown;
      try {
        body = text.trim() === "" ? {} : JSON.parse(text);
      } catch (e) {
        throw new QueryError(400, `the criteria are not valid JSON: ${(e as Error).message}`);
      }
      const criteria = parseCriteria(body);
      const json = queries ? queries.eventsJson(criteria) : "[]";
      return c.body(json, 200, { "content-type": "application/json" });
    } catch (e) {
      return errorJson(c, e);
    }
  });
  get(`${API_PREFIX}/sessions`, (_c, q) => q.sessions(), []);
  get(`${API_PREFIX}/governors`, (_c, q) => q.governors(), []);
  get(
    `${API_PREFIX}/monitoring`,
    (c, q) =>
      q.monitoring(c.req.query("governor") || undefined, timeParam(c, "from"), timeParam(c, "to")),
    { governors: [] },
  );
  get(`${API_PREFIX}/sessions/:sid/summary`, (c, q) => q.summary(intParam(c, "sid")));
  get(`${API_PREFIX}/sessions/:sid/task_groups`, (c, q) => q.taskGroups(intParam(c, "sid")));
  get(`${API_PREFIX}/sessions/:sid/task_stream`, (c, q) => {
    const limit = numberParam(c, "limit");
    return q.taskStream(
      intParam(c, "sid"),
      numberParam(c, "from"),
      numberParam(c, "to"),
      limit === undefined ? undefined : Math.max(1, Math.floor(limit)),
    );
  });
  get(
    `${API_PREFIX}/sessions/:sid/task_graph`,
    (c, q) => q.taskGraph(intParam(c, "sid"), ["1", "true"].includes(c.req.query("tasks") ?? "")),
  );
  get(
    `${API_PREFIX}/sessions/:sid/tasks/:id`,
    (c, q) => q.task(intParam(c, "sid"), intParam(c, "id")),
  );
  get(
    `${API_PREFIX}/sessions/:sid/transfers`,
    (c, q) => q.transfers(intParam(c, "sid"), numberParam(c, "from"), numberParam(c, "to")),
  );
  return app;
}

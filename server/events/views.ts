/**
 * The JSON views of docs/events.md (shapes: view_types.ts), computed from a ViewModel: the same
 * functions serve the live server (its in-memory model) and post-mortem (a replayed log).
 */
import { QueryError } from "./criteria.ts";
import type {
  GovernorAggregate,
  MonitoringSample,
  SessionAggregate,
  SessionDetail,
  TaskEntry,
  TransferEntry,
  ViewModel,
} from "./view_model.ts";
import type {
  GovernorRow,
  Monitoring,
  SessionRow,
  SessionStatus,
  SessionSummary,
  StreamTask,
  TaskAttemptRow,
  TaskDetail,
  TaskGraph,
  TaskGroup,
  TaskState,
  TaskStream,
  Transfer,
} from "./view_types.ts";

/** GovernorRemoved `error` of an orderly stop (server/governor_link.ts, a close with 1000). */
const ORDERLY_STOP = "the governor stopped";

function iso(ms: number | undefined): string | undefined {
  return ms === undefined || !Number.isFinite(ms) ? undefined : new Date(ms).toISOString();
}

function round(x: number, digits = 6): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function sessionRow(s: SessionAggregate): SessionRow {
  // A task run again (TaskRerun) finishes twice: counted once.
  const finished = Math.max(0, s.finished - s.reruns);
  let status: SessionStatus;
  if (s.reason === "Error") status = "failed";
  else if (s.reason === "ServerLost") status = "lost";
  else if (s.closed !== undefined) status = "closed";
  else if (s.tasksTotal > 0 && finished >= s.tasksTotal) status = "finished";
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
    tasks_finished: finished,
    tasks_failed: s.failed,
    // Every attempt has its TaskStarted; those requeued ended without a TaskFinished.
    tasks_running: Math.max(0, s.started - s.finished - s.failed - s.requeuedStarted),
    tasks_cancelled: 0,
    tasks_rerun: s.reruns,
    tasks_retried: s.retries,
    attempts_lost: s.lostAttempts,
  };
  if (s.closed !== undefined) {
    // Nothing runs in an ended session: what had not finished never will.
    row.tasks_running = 0;
    row.tasks_cancelled = Math.max(0, s.tasksTotal - finished - s.failed);
  }
  if (s.closed !== undefined) row.closed = iso(s.closed);
  if (status === "failed" && s.message) row.error = s.message;
  return row;
}

/** Every session, oldest first. */
export function sessionsView(model: ViewModel): SessionRow[] {
  return [...model.sessions.values()].map((s) => {
    const row = sessionRow(s);
    // Details indexed up to the last event count as the summary does (nothing is indexed here;
    // post-mortem details are caught up at each refresh, live ones may have events queued).
    if (s.detail !== undefined && s.queue?.pending !== true) countTasks(row, s, s.detail);
    return row;
  });
}

/**
 * The row's task counts from the session's tasks when every one is indexed (as the groups and
 * the stream count them): a task run twice (retried, re-run for a lost object) is one task.
 */
function countTasks(row: SessionRow, s: SessionAggregate, d: SessionDetail): void {
  if (d.tasks.size !== s.tasksTotal || d.tasks.size === 0) return;
  let finished = 0, failed = 0, running = 0;
  for (const g of d.groups) {
    finished += g.finished;
    failed += g.failed;
    running += g.running;
  }
  row.tasks_finished = finished;
  row.tasks_failed = failed;
  if (s.closed === undefined) row.tasks_running = running;
  else row.tasks_cancelled = Math.max(0, s.tasksTotal - finished - failed);
}

export function governorsView(model: ViewModel): GovernorRow[] {
  return [...model.governors.values()].map((g: GovernorAggregate) => {
    const row: GovernorRow = {
      governor: g.governor,
      cpus: g.cpus,
      executors: g.executors,
      added: iso(g.added)!,
      state: g.removed !== undefined
        ? (g.orderly === true || g.error === ORDERLY_STOP ? "stopped" : "lost")
        : g.draining !== undefined
        ? "draining"
        : g.stalled !== undefined
        ? "stalled"
        : "connected",
      stalls: g.stalls,
    };
    if (g.removed !== undefined) {
      row.removed = iso(g.removed);
      row.error = g.error;
      row.stopped = g.orderly === true || g.error === ORDERLY_STOP;
    } else if (g.stalled !== undefined) {
      row.stalled_since = iso(g.stalled);
    }
    if (g.draining !== undefined) row.draining_since = iso(g.draining);
    return row;
  });
}

/** A session and its details, as the session views need them. */
export interface SessionView {
  session: SessionAggregate;
  detail: SessionDetail;
}

export function summaryView({ session: s, detail: d }: SessionView): SessionSummary {
  const end = s.closed ?? Math.max(s.last, d.lastEnd);
  const row = sessionRow(s);
  countTasks(row, s, d);
  return {
    ...row,
    objects_total: s.objectsTotal,
    bytes: d.bytes,
    governors: [...d.governors].sort(),
    task_groups: d.groups.length,
    first_start: iso(d.firstStart),
    last_end: iso(d.lastEnd),
    progress: progressCurve(s.created, end, d.submits, d.finishTimes, 200),
  };
}

export function taskGroupsView({ session: s, detail }: SessionView): TaskGroup[] {
  const ended = s.closed !== undefined;
  return detail.groups.map((g) => {
    const done = g.finished + g.failed;
    return {
      name: g.name,
      task_type: g.task_type,
      count: g.count,
      finished: g.finished,
      failed: g.failed,
      running: ended ? 0 : g.running,
      cancelled: ended ? g.count - done : 0,
      duration_mean: done ? round(g.durationTotal / done) : 0,
      duration_max: round(g.durationMax),
      duration_total: round(g.durationTotal),
      ...(g.peakMemoryMax > 0 ? { peak_memory_max: g.peakMemoryMax } : {}),
    };
  });
}

/** Lanes per governor, by detail (recomputed when its started tasks or the cpus changed). */
const laneCache = new WeakMap<
  SessionDetail,
  { version: number; cpusKey: string; lanes: Map<string, number> }
>();

/**
 * Gives every started task its cpu lane on its governor: the first cpu slot the governor
 * reported. Tasks without one (logs of older servers) get a lane greedily by start time, never
 * more lanes than the governor has cpus (a task starts on the lane free first).
 */
function assignLanes(detail: SessionDetail, cpusOf: (g: string) => number): Map<string, number> {
  const byGovernor = new Map<string, TaskEntry[]>();
  for (const t of detail.tasks.values()) {
    if (t.start === undefined || !Number.isFinite(t.start) || !t.governor) continue;
    let list = byGovernor.get(t.governor);
    if (!list) byGovernor.set(t.governor, list = []);
    list.push(t);
  }
  const cpusKey = [...byGovernor.keys()].map(cpusOf).join(",");
  const cached = laneCache.get(detail);
  if (cached && cached.version === detail.version && cached.cpusKey === cpusKey) {
    return cached.lanes;
  }
  const lanes = new Map<string, number>();
  for (const [governor, list] of byGovernor) {
    const cpus = cpusOf(governor);
    let used = cpus;
    const unplaced: TaskEntry[] = [];
    for (const t of list) {
      const slots = t.slots;
      if (slots !== undefined && slots.length > 0) {
        t.lane = slots[0]!;
        for (const slot of slots) used = Math.max(used, slot + 1);
      } else {
        unplaced.push(t);
      }
    }
    unplaced.sort((a, b) => a.start! - b.start! || a.id - b.id);
    const busyUntil: number[] = [];
    for (const t of unplaced) {
      let lane = busyUntil.findIndex((end) => end <= t.start!);
      if (lane < 0 && (cpus <= 0 || busyUntil.length < cpus)) lane = busyUntil.push(0) - 1;
      if (lane < 0) lane = busyUntil.indexOf(Math.min(...busyUntil));
      busyUntil[lane] = Math.max(busyUntil[lane]!, t.end ?? Infinity);
      t.lane = lane;
    }
    lanes.set(governor, Math.max(used, busyUntil.length));
  }
  laneCache.set(detail, { version: detail.version, cpusKey, lanes });
  return lanes;
}

/**
 * Bars of a timeline: tasks overlapping `[from, to]` (seconds from the session's creation), at
 * most `limit` (the longest ones when more overlap), each on a cpu lane of its governor.
 */
export function taskStreamView(
  model: ViewModel,
  { session: s, detail }: SessionView,
  from = -Infinity,
  to = Infinity,
  limit = 5000,
): TaskStream {
  const cpus = (g: string) => model.governors.get(g)?.cpus ?? 0;
  const lanes = assignLanes(detail, cpus);
  const base = s.created;
  const lo = base + from * 1000;
  const hi = base + to * 1000;
  let rows: TaskEntry[] = [];
  for (const t of detail.tasks.values()) {
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
  const end = s.closed ?? Math.max(s.last, detail.lastEnd);
  return {
    start: iso(base)!,
    end: iso(end)!,
    governors: [...lanes].sort().map(([governor, used]) => ({
      governor,
      cpus: cpus(governor),
      lanes: Math.max(used, cpus(governor)),
    })),
    tasks: rows.map((t) => {
      const state = taskState(s, t);
      // A task the session's end interrupted ends there (it was killed then).
      const stop = t.end ?? (state === "cancelled" ? Math.max(end, t.start!) : undefined);
      const row: StreamTask = {
        id: t.id,
        name: detail.groups[t.group]!.name,
        governor: t.governor!,
        cpu: t.lane,
        start: round((t.start! - base) / 1000),
        end: stop === undefined ? null : round((stop - base) / 1000),
        failed: state === "failed",
      };
      if (state === "cancelled") row.cancelled = true;
      if (t.slots !== undefined && t.slots.length > 1) row.slots = [...t.slots];
      return row;
    }),
    truncated,
  };
}

/**
 * A task's state as the views show it: one that had not finished when its session ended (failed,
 * closed or lost) never will: "cancelled", whatever its last event said.
 */
export function taskState(s: SessionAggregate, t: TaskEntry): TaskState {
  if (s.closed !== undefined && (t.state === "waiting" || t.state === "running")) {
    return "cancelled";
  }
  return t.state;
}

/** Tasks grouped by name; an edge where a group's outputs feed another group's tasks. */
export function taskGraphView(
  { session: s, detail }: SessionView,
  withTasks = false,
): TaskGraph {
  const edges = new Map<string, { from: string; to: string; count: number; bytes: number }>();
  const groupName = (g: number) => detail.groups[g]!.name;
  for (const t of detail.tasks.values()) {
    for (const input of t.inputs) {
      const obj = detail.objects.get(input);
      const producer = obj?.producer === undefined ? undefined : detail.tasks.get(obj.producer);
      if (!obj || !producer) continue;
      const key = `${producer.group}>${t.group}`;
      let edge = edges.get(key);
      if (!edge) {
        edge = { from: groupName(producer.group), to: groupName(t.group), count: 0, bytes: 0 };
        edges.set(key, edge);
      }
      edge.count++;
      edge.bytes += obj.size ?? 0;
    }
  }
  const graph: TaskGraph = {
    groups: detail.groups.map((g) => ({
      name: g.name,
      task_type: g.task_type,
      count: g.count,
      finished: g.finished,
      failed: g.failed,
      cancelled: s.closed === undefined ? 0 : g.count - g.finished - g.failed,
    })),
    edges: [...edges.values()],
  };
  if (withTasks && detail.tasks.size <= 2000) {
    graph.tasks = [...detail.tasks.values()].map((t) => ({
      id: t.id,
      name: groupName(t.group),
      inputs: t.inputs.flatMap((i) => {
        const p = detail.objects.get(i)?.producer;
        return p === undefined ? [] : [p];
      }),
      state: taskState(s, t),
    }));
  }
  return graph;
}

/** Everything known of one task. */
export function taskView({ session: s, detail }: SessionView, id: number): TaskDetail {
  const t = detail.tasks.get(id);
  if (!t) throw new QueryError(404, `task ${s.session}/${id} is not in the event log`);
  const objectSpec = (o: number) => {
    const obj = detail.objects.get(o);
    return obj ? detail.specs[obj.submit]?.object(obj.pos) : undefined;
  };
  const info = detail.info(t);
  const base = s.created;
  const group = detail.groups[t.group]!;
  const view: TaskDetail = {
    id: t.id,
    name: group.name,
    task_type: group.task_type,
    state: taskState(s, t),
    spec: detail.specs[t.submit]?.task(t.pos),
    info,
    governor: t.governor ?? null,
    start: t.start === undefined ? null : round((t.start - base) / 1000),
    end: t.end === undefined ? null : round((t.end - base) / 1000),
    inputs: t.inputs.map((o) => ({
      id: o,
      spec: objectSpec(o),
      producer: detail.objects.get(o)?.producer ?? null,
      size: detail.objects.get(o)?.size ?? null,
    })),
    outputs: t.outputs.map((o) => ({
      id: o,
      spec: objectSpec(o),
      size: detail.objects.get(o)?.size ?? null,
      consumers: detail.objects.get(o)?.consumers ?? [],
    })),
    transfers: detail.transfers
      .filter((x) => x.to === t.governor && t.inputs.includes(x.object))
      .map((x) => transferRow(x, base)),
  };
  if (typeof info.error === "string") view.error = info.error;
  if (typeof info.debug === "string") view.debug = info.debug;
  if (t.attempts !== undefined) {
    const at = (ms: number | undefined) =>
      ms === undefined || !Number.isFinite(ms) ? null : round((ms - base) / 1000);
    view.attempts = t.attempts.map((a) => ({
      governor: a.governor ?? null,
      start: at(a.start),
      end: at(a.end),
      error: a.reason,
    }));
    if (t.state !== "waiting") {
      const last: TaskAttemptRow = { governor: view.governor, start: view.start, end: view.end };
      if (view.error !== undefined) last.error = view.error;
      view.attempts.push(last);
    }
  }
  return view;
}

function transferRow(x: TransferEntry, base: number): Transfer {
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
export function transfersView(
  { session: s, detail }: SessionView,
  from = -Infinity,
  to = Infinity,
): Transfer[] {
  const base = s.created;
  return detail.transfers
    .filter((x) => {
      const start = (x.start - base) / 1000;
      return start <= to && start + x.duration >= from;
    })
    .map((x) => transferRow(x, base));
}

/**
 * Monitoring series per governor (samples in log order), down-sampled to at most `maxPoints`
 * each; network counters become rates (bytes/s).
 */
export function monitoringView(
  samples: Iterable<MonitoringSample>,
  maxPoints = 1000,
): Monitoring {
  const series = new Map<string, { time: string; cpu: number[]; mem: number; net: number[] }[]>();
  for (const { governor, time, sample } of samples) {
    let points = series.get(governor);
    if (!points) series.set(governor, points = []);
    let rx = 0, tx = 0;
    for (const v of Object.values(sample.net_stat ?? {})) {
      if (Array.isArray(v)) {
        rx += Number(v[0]) || 0;
        tx += Number(v[1]) || 0;
      }
    }
    points.push({
      time: sample.timestamp ?? iso(time),
      cpu: sample.cpu_usage ?? [],
      mem: sample.mem_usage ?? 0,
      net: [rx, tx],
    });
  }
  return {
    governors: [...series].sort(([a], [b]) => a < b ? -1 : 1).map(([governor, points]) => {
      const out = points.map((p, i) => {
        const prev = points[i - 1];
        const dt = prev ? (Date.parse(p.time) - Date.parse(prev.time)) / 1000 : 0;
        const rate = (k: number) =>
          prev && dt > 0 ? Math.max(0, (p.net[k]! - prev.net[k]!) / dt) : 0;
        return {
          time: p.time,
          cpu: p.cpu,
          mem: p.mem,
          net_rx: round(rate(0), 1),
          net_tx: round(rate(1), 1),
        };
      });
      const step = Math.ceil(out.length / maxPoints);
      return { governor, points: step > 1 ? out.filter((_, i) => i % step === 0) : out };
    }),
  };
}

/** Samples of `governor` (all when undefined) between `from` and `to` (server ms). */
export function* samplesWithin(
  samples: Iterable<MonitoringSample>,
  governor?: string,
  from?: number,
  to?: number,
): Iterable<MonitoringSample> {
  for (const s of samples) {
    if (governor !== undefined && s.governor !== governor) continue;
    if (from !== undefined && s.time < from) continue;
    if (to !== undefined && s.time > to) continue;
    yield s;
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
    for (let next = submits[s]; next !== undefined && next[0] <= t; next = submits[++s]) {
      submitted += next[1];
    }
    while (f < finishTimes.length && finishTimes[f]! <= t) f++;
    out.push([round((t - created) / 1000, 3), Math.max(0, submitted - f)]);
    if (span === 0) break;
  }
  return out;
}

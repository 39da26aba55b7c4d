/**
 * What the event views are computed from (views.ts), kept in memory and updated from the event
 * stream in O(1) per event (task events are queued per session, detail_queue.ts, and indexed
 * when a view asks): live, the server feeds it every event it logs (live.ts); post-mortem,
 * the rows of an events.db are replayed into it (post_mortem.ts).
 *
 * Memory is bounded: a few numbers per session and governor (at most `maxSessions` sessions), the
 * details of recent sessions (their tasks, objects, groups and transfers) up to `detailTasks`
 * tasks in all (the oldest sessions' details are dropped first), and the last
 * `monitoringSamples` samples per governor.
 */
import type { TaskInfo } from "../../common/attributes.ts";
import type { DataTransfer, MonitoringMessage } from "../../common/messages.ts";
import type { PendingEvent } from "./event.ts";
import { DetailQueue } from "./detail_queue.ts";
import { isFailure } from "./rows.ts";
import type { TaskState } from "./view_types.ts";

/** A submitted task as the views need it (a PlannedTask has these fields). */
export interface SubmittedTask {
  id: number;
  taskType: string;
  name?: string;
  inputs: readonly number[];
  outputs: readonly number[];
}

export interface SubmittedObject {
  id: number;
  dataSize?: number;
}

/** The specs of one submit's tasks and objects (by position), for task details. */
export interface SubmitSpecs {
  task(pos: number): Record<string, unknown> | undefined;
  object(pos: number): Record<string, unknown> | undefined;
}

export interface SessionAggregate {
  session: number;
  name: string;
  client: number | null;
  /** server ms */
  created: number;
  closed?: number;
  reason?: string;
  message?: string;
  tasksTotal: number;
  objectsTotal: number;
  submits: number;
  started: number;
  finished: number;
  failed: number;
  /** server ms of the session's last event */
  last: number;
  /**
   * Absent when never built or dropped (see `detailDropped`); live, brought up to date from
   * `queue` by `ViewModel.detailOf`.
   */
  detail?: SessionDetail;
  queue?: DetailQueue;
  detailDropped: boolean;
}

export interface GovernorAggregate {
  governor: string;
  cpus: number;
  executors: string[];
  added: number;
  removed?: number;
  error?: string;
}

export interface TaskEntry {
  id: number;
  group: number;
  /** Index of its submit in `SessionDetail.specs`, and position there. */
  submit: number;
  pos: number;
  inputs: readonly number[];
  outputs: readonly number[];
  state: TaskState;
  governor?: string;
  startTime?: string;
  /** ms (governor clock, from info.start_time) */
  start?: number;
  end?: number;
  duration?: number;
  /** The finished info when it is more than `{governor, start_time, duration}`. */
  info?: Readonly<TaskInfo>;
  lane: number;
}

export interface ObjectEntry {
  submit: number;
  pos: number;
  producer?: number;
  consumers?: number[];
  size?: number;
}

export interface GroupEntry {
  name: string;
  task_type: string;
  count: number;
  finished: number;
  failed: number;
  running: number;
  durationTotal: number;
  durationMax: number;
}

export interface TransferEntry {
  object: number;
  from: string;
  to: string;
  bytes: number;
  /** ms (governor clock) */
  start: number;
  duration: number;
}

/** The details of one session. */
export class SessionDetail {
  readonly tasks = new Map<number, TaskEntry>();
  readonly objects = new Map<number, ObjectEntry>();
  readonly groups: GroupEntry[] = [];
  readonly #groupIds = new Map<string, number>();
  readonly specs: SubmitSpecs[] = [];
  /** [server time ms, tasks submitted] */
  readonly submits: [number, number][] = [];
  /** server time (ms) of every TaskFinished, in order */
  readonly finishTimes: number[] = [];
  readonly transfers: TransferEntry[] = [];
  readonly governors = new Set<string>();
  bytes = 0;
  firstStart = Infinity;
  lastEnd = -Infinity;
  /** Changes to started tasks (lanes are recomputed when it moved). */
  version = 0;

  #group(name: string, taskType: string): number {
    const key = `${name}\u0000${taskType}`;
    let g = this.#groupIds.get(key);
    if (g === undefined) {
      g = this.groups.push({
        name,
        task_type: taskType,
        count: 0,
        finished: 0,
        failed: 0,
        running: 0,
        durationTotal: 0,
        durationMax: 0,
      }) - 1;
      this.#groupIds.set(key, g);
    }
    return g;
  }

  submitted(
    time: number,
    tasks: readonly SubmittedTask[],
    objects: readonly SubmittedObject[],
    specs: SubmitSpecs,
  ): void {
    const submit = this.specs.push(specs) - 1;
    for (let pos = 0; pos < objects.length; pos++) {
      const o = objects[pos]!;
      this.objects.set(o.id, { submit, pos, size: o.dataSize });
    }
    for (let pos = 0; pos < tasks.length; pos++) {
      const t = tasks[pos]!;
      const group = this.#group(t.name ? t.name : t.taskType, t.taskType);
      this.groups[group]!.count++;
      this.tasks.set(t.id, {
        id: t.id,
        group,
        submit,
        pos,
        inputs: t.inputs,
        outputs: t.outputs,
        state: "waiting",
        lane: -1,
      });
      for (const o of t.outputs) {
        const obj = this.objects.get(o);
        if (obj) obj.producer = t.id;
      }
      for (const i of t.inputs) {
        const obj = this.objects.get(i);
        if (obj) (obj.consumers ??= []).push(t.id);
      }
    }
    this.submits.push([time, tasks.length]);
  }

  started(id: number, governor: string, startTime: string): void {
    const task = this.tasks.get(id);
    if (!task || task.state !== "waiting") return;
    task.state = "running";
    task.governor = governor;
    task.startTime = startTime;
    task.start = Date.parse(startTime);
    this.governors.add(governor);
    if (task.start < this.firstStart) this.firstStart = task.start;
    this.groups[task.group]!.running++;
    this.version++;
  }

  finished(
    time: number,
    id: number,
    info: Readonly<TaskInfo>,
    outputs: readonly { id: readonly [number, number]; size: number }[] | undefined,
  ): void {
    const task = this.tasks.get(id);
    if (!task || task.state === "finished" || task.state === "failed") return;
    const group = this.groups[task.group]!;
    if (task.state === "running") group.running--;
    const failed = isFailure(info);
    task.state = failed ? "failed" : "finished";
    task.governor = info.governor ?? task.governor;
    if (task.governor) this.governors.add(task.governor);
    if (info.start_time !== undefined) task.startTime = info.start_time;
    const start = info.start_time === undefined ? NaN : Date.parse(info.start_time);
    if (Number.isFinite(start)) task.start = start;
    const duration = typeof info.duration === "number" ? info.duration : 0;
    task.duration = duration;
    if (!isSimple(info)) task.info = info;
    if (task.start !== undefined && Number.isFinite(task.start)) {
      task.end = task.start + duration * 1000;
      if (task.start < this.firstStart) this.firstStart = task.start;
      if (task.end > this.lastEnd) this.lastEnd = task.end;
    }
    if (failed) group.failed++;
    else group.finished++;
    group.durationTotal += duration;
    if (duration > group.durationMax) group.durationMax = duration;
    if (outputs !== undefined) {
      for (const o of outputs) {
        const obj = this.objects.get(o.id[1]);
        if (obj) obj.size = o.size;
        this.bytes += o.size;
      }
    }
    this.finishTimes.push(time);
    this.version++;
  }

  transferred(to: string, t: Readonly<DataTransfer>): void {
    this.transfers.push({
      object: t.object[1],
      from: t.from,
      to,
      bytes: t.bytes,
      start: Date.parse(t.start_time),
      duration: t.duration,
    });
  }

  /** The info a task's detail shows: the finished one, else what its start told. */
  info(task: TaskEntry): Record<string, unknown> {
    if (task.info !== undefined) return { ...task.info };
    const info: Record<string, unknown> = {};
    if (task.governor !== undefined) info.governor = task.governor;
    if (task.startTime !== undefined) info.start_time = task.startTime;
    if (task.duration !== undefined) info.duration = task.duration;
    return info;
  }
}

/** Tasks in a session's details, indexed or queued. */
function detailSize(s: SessionAggregate): number {
  return (s.detail?.tasks.size ?? 0) + (s.queue?.queuedTasks ?? 0);
}

function isSimple(info: Readonly<TaskInfo>): boolean {
  let keys = 0;
  for (const key in info) {
    if (key !== "governor" && key !== "start_time" && key !== "duration") return false;
    keys++;
  }
  return keys <= 3;
}

export interface MonitoringSample {
  governor: string;
  /** server ms of the event */
  time: number;
  sample: Readonly<MonitoringMessage>;
}

export interface ViewModelOptions {
  maxSessions?: number;
  detailTasks?: number;
  monitoringSamples?: number;
}

export class ViewModel {
  readonly sessions = new Map<number, SessionAggregate>();
  readonly governors = new Map<string, GovernorAggregate>();
  /** The last samples of every governor, oldest first. */
  readonly monitoring = new Map<string, MonitoringSample[]>();
  /** Sessions with details, least recently submitted to first. */
  readonly #detailed = new Set<SessionAggregate>();
  #detailTaskCount = 0;
  readonly #maxSessions: number;
  readonly #detailTasks: number;
  readonly #monitoringSamples: number;

  constructor(options: ViewModelOptions = {}) {
    this.#maxSessions = options.maxSessions ?? 10_000;
    this.#detailTasks = options.detailTasks ?? 2_000_000;
    this.#monitoringSamples = options.monitoringSamples ?? 3600;
  }

  /** Applies one event; `specs`: of a ClientSubmit (default: rendered from its plan). */
  apply(e: PendingEvent, specs?: SubmitSpecs): void {
    switch (e.type) {
      case "GovernorNew":
        this.governors.set(e.governor, {
          governor: e.governor,
          cpus: e.cpus,
          executors: e.executors,
          added: e.time,
        });
        return;
      case "GovernorRemoved": {
        const g = this.governors.get(e.governor);
        if (g) {
          g.removed = e.time;
          g.error = e.error;
        }
        return;
      }
      case "SessionNew":
        this.#newSession(e.session, e.time, e.client, e.spec);
        return;
      case "SessionClosed": {
        const s = this.#touch(e.session, e.time);
        if (!s || s.closed !== undefined) return;
        s.closed = e.time;
        s.reason = e.reason;
        s.message = e.message;
        return;
      }
      case "ClientSubmit":
        if (specs === undefined) throw new Error("a submit's specs are needed");
        this.submitted(e.session, e.time, e.plan.tasks, e.plan.objects, specs);
        return;
      case "TaskStarted": {
        const s = this.#touch(e.session, e.time);
        if (!s) return;
        s.started++;
        s.queue?.started(e.task, e.governor, e.start_time);
        return;
      }
      case "TaskFinished": {
        const s = this.#touch(e.session, e.time);
        if (!s) return;
        if (isFailure(e.info)) s.failed++;
        else s.finished++;
        s.queue?.finished(e.time, e.task, e.info, e.outputs);
        return;
      }
      case "DataTransfer":
        this.sessions.get(e.transfer.object[0])?.queue?.transferred(e.to, e.transfer);
        return;
      case "Monitoring": {
        let samples = this.monitoring.get(e.governor);
        if (!samples) this.monitoring.set(e.governor, samples = []);
        samples.push({ governor: e.governor, time: e.time, sample: e.sample });
        // Dropped in halves: amortized O(1).
        if (samples.length >= 2 * this.#monitoringSamples) {
          samples.splice(0, samples.length - this.#monitoringSamples);
        }
        return;
      }
      case "ServerStart":
      case "ClientNew":
      case "ClientRemoved":
      case "ClientUnkeep":
        return;
    }
  }

  submitted(
    session: number,
    time: number,
    tasks: readonly SubmittedTask[],
    objects: readonly SubmittedObject[],
    specs: SubmitSpecs,
  ): void {
    const s = this.#touch(session, time);
    if (!s) return;
    s.tasksTotal += tasks.length;
    s.objectsTotal += objects.length;
    s.submits++;
    if (s.detailDropped) return;
    if (!s.detail) s.detail = new SessionDetail();
    (s.queue ??= new DetailQueue()).submitted(time, tasks, objects, specs);
    this.#detailed.delete(s);
    this.#detailed.add(s);
    this.#detailTaskCount += tasks.length;
    this.#dropDetails(s);
  }

  /** The session's details, up to date (undefined: none in memory). */
  detailOf(s: SessionAggregate): SessionDetail | undefined {
    if (s.detail && s.queue) s.queue.drainInto(s.detail, s.session);
    return s.detail;
  }

  /** Installs details rebuilt elsewhere (post-mortem: replayed from the log). */
  restoreDetail(s: SessionAggregate, detail: SessionDetail): void {
    s.detail = detail;
    s.detailDropped = false;
    this.#detailed.delete(s);
    this.#detailed.add(s);
    this.#detailTaskCount += detailSize(s);
    this.#dropDetails(s);
  }

  /** Drops the oldest details (never `keep`'s) while over the budget. */
  #dropDetails(keep: SessionAggregate): void {
    for (const s of this.#detailed) {
      if (this.#detailTaskCount <= this.#detailTasks) break;
      if (s === keep) continue;
      this.#detailTaskCount -= detailSize(s);
      s.detail = s.queue = undefined;
      s.detailDropped = true;
      this.#detailed.delete(s);
    }
  }

  #newSession(session: number, time: number, client: number | null, spec: Record<string, unknown>) {
    this.sessions.set(session, {
      session,
      name: typeof spec.name === "string" ? spec.name : "Unnamed Session",
      client,
      created: time,
      tasksTotal: 0,
      objectsTotal: 0,
      submits: 0,
      started: 0,
      finished: 0,
      failed: 0,
      last: time,
      detailDropped: false,
    });
    if (this.sessions.size <= this.#maxSessions) return;
    // The oldest closed session goes (its rows stay in the log).
    for (const old of this.sessions.values()) {
      if (old.closed === undefined) continue;
      this.sessions.delete(old.session);
      if (this.#detailed.delete(old)) this.#detailTaskCount -= detailSize(old);
      break;
    }
  }

  #touch(session: number, time: number): SessionAggregate | undefined {
    const s = this.sessions.get(session);
    if (s && time > s.last) s.last = time;
    return s;
  }
}

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
import type { MonitoringMessage } from "../../common/messages.ts";
import { isRetryReason, type PendingEvent, RERUN_FAILED_REASON } from "./event.ts";
import { DetailQueue } from "./detail_queue.ts";
import { isFailure } from "./rows.ts";
import {
  SessionDetail,
  type SubmitSpecs,
  type SubmittedObject,
  type SubmittedTask,
} from "./session_detail.ts";

// The details' types, for the modules that take them from here.
export { SessionDetail } from "./session_detail.ts";
export type {
  GroupEntry,
  ObjectEntry,
  SubmitSpecs,
  SubmittedObject,
  SubmittedTask,
  TaskEntry,
  TransferEntry,
} from "./session_detail.ts";

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
  /** TaskRerun events; TaskRequeued ones of retries, of other causes after a start. */
  reruns: number;
  retries: number;
  lostAttempts: number;
  /** TaskRequeued events of attempts that had started (not running any more). */
  requeuedStarted: number;
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
  /** It left on purpose (stopped, drained), not lost. */
  orderly?: boolean;
  /** server ms: stalled since (while it is), draining since. */
  stalled?: number;
  draining?: number;
  stalls: number;
}

/** A TaskRequeued event in the session's counts (live and replayed alike). */
export function countRequeue(s: SessionAggregate, reason: string, started: boolean): void {
  // Every task `rerun_failed` runs again had its failure counted (a TaskFinished with an error).
  if (reason === RERUN_FAILED_REASON) s.failed = Math.max(0, s.failed - 1);
  else if (isRetryReason(reason)) s.retries++;
  else if (started) s.lostAttempts++;
  if (started) s.requeuedStarted++;
}

/** Tasks, objects or events indexed between two yields (about 10 ms). */
const DRAIN_SLICE = 20_000;

/** Tasks in a session's details, indexed or queued. */
function detailSize(s: SessionAggregate): number {
  return (s.detail?.tasks.size ?? 0) + (s.queue?.queuedTasks ?? 0);
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
          stalls: 0,
        });
        return;
      case "GovernorRemoved": {
        const g = this.governors.get(e.governor);
        if (g) {
          g.removed = e.time;
          g.error = e.error;
          g.orderly = e.orderly === true;
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
        s.queue?.started(e.task, e.governor, e.start_time, e.slots);
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
      case "GovernorStalled": {
        const g = this.governors.get(e.governor);
        if (!g) return;
        if (e.stalled) g.stalls++;
        g.stalled = e.stalled ? e.time : undefined;
        return;
      }
      case "GovernorDrain": {
        const g = this.governors.get(e.governor);
        if (g) g.draining = e.time;
        return;
      }
      case "TaskRequeued": {
        const s = this.#touch(e.session, e.time);
        if (!s) return;
        countRequeue(s, e.reason, e.started);
        s.queue?.requeued(e.time, e.task, e.reason, e.started);
        return;
      }
      case "TaskRerun": {
        const s = this.#touch(e.session, e.time);
        if (!s) return;
        s.reruns++;
        s.queue?.rerun(e.time, e.task, e.object);
        return;
      }
      case "ServerStart":
      case "ObjectLost":
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

  /**
   * The session's details, brought up to date a slice at a time with a yield to the event loop
   * between slices (the server stays responsive while 100k tasks are indexed); undefined when
   * none are in memory.
   */
  async detailOf(s: SessionAggregate): Promise<SessionDetail | undefined> {
    for (;;) {
      const { detail, queue } = s;
      if (!detail || !queue || queue.drainSome(detail, s.session, DRAIN_SLICE)) return s.detail;
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
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
      reruns: 0,
      retries: 0,
      lostAttempts: 0,
      requeuedStarted: 0,
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

  /** Forgets a session whose rows the log dropped (`--log-retention`). */
  forget(session: number): void {
    const s = this.sessions.get(session);
    if (s === undefined) return;
    this.sessions.delete(session);
    if (this.#detailed.delete(s)) this.#detailTaskCount -= detailSize(s);
  }

  #touch(session: number, time: number): SessionAggregate | undefined {
    const s = this.sessions.get(session);
    if (s && time > s.last) s.last = time;
    return s;
  }
}

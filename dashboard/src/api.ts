/// <reference lib="dom" />
/**
 * Where the dashboard gets its data: the monitoring port's JSON endpoints (live server or
 * `rain dashboard` over an old log), or the data inlined in a one-file report.
 */
import type {
  GovernorRow,
  LiveStatus,
  Meta,
  Monitoring,
  SessionRow,
  SessionSummary,
  StreamTask,
  TaskDetail,
  TaskGraph,
  TaskGroup,
  TaskOutputView,
  TaskStream,
  Transfer,
} from "./types.ts";

export interface Api {
  meta(): Promise<Meta>;
  sessions(): Promise<SessionRow[]>;
  summary(sid: number): Promise<SessionSummary>;
  groups(sid: number): Promise<TaskGroup[]>;
  /** Tasks overlapping `[from, to]` (seconds from the session's start). */
  stream(sid: number, from?: number, to?: number, limit?: number): Promise<TaskStream>;
  transfers(sid: number, from?: number, to?: number): Promise<Transfer[]>;
  graph(sid: number, tasks: boolean): Promise<TaskGraph>;
  task(sid: number, id: number): Promise<TaskDetail | null>;
  /** What the task printed (null: nothing known, e.g. a report without it). */
  output(sid: number, id: number): Promise<TaskOutputView | null>;
  governors(): Promise<GovernorRow[]>;
  /** `from`/`to`: epoch ms. */
  monitoring(from?: number, to?: number): Promise<Monitoring>;
  /** The live cluster, or null (post-mortem, report). */
  status(): Promise<LiveStatus | null>;
}

export class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

async function getJson<T>(path: string): Promise<T> {
  const response = await fetch(path, { cache: "no-store" });
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      const body = await response.json();
      if (body?.error?.message) message = body.error.message;
    } catch {
      // not JSON
    }
    throw new HttpError(response.status, `${path}: ${message}`);
  }
  return await response.json() as T;
}

function query(params: Record<string, string | number | undefined>): string {
  const parts = Object.entries(params).filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`);
  return parts.length ? "?" + parts.join("&") : "";
}

/** The JSON endpoints of docs/events.md, relative to the page (so a path prefix works). */
export class HttpApi implements Api {
  constructor(readonly base = "") {}
  meta(): Promise<Meta> {
    return getJson<Meta>(`${this.base}dashboard/meta`).catch(() => ({
      mode: "live" as const,
      version: "?",
    }));
  }
  sessions(): Promise<SessionRow[]> {
    return getJson(`${this.base}api/v1/sessions`);
  }
  #summaries = new Map<number, { at: number; answer: Promise<SessionSummary> }>();

  /** The header and the view both ask for it every second: answers are shared for 500 ms. */
  summary(sid: number): Promise<SessionSummary> {
    const now = Date.now();
    const cached = this.#summaries.get(sid);
    if (cached && now - cached.at < 500) return cached.answer;
    const answer = this.#summary(sid);
    this.#summaries.set(sid, { at: now, answer });
    answer.catch(() => this.#summaries.delete(sid));
    return answer;
  }

  async #summary(sid: number): Promise<SessionSummary> {
    const [summary, extra] = await Promise.all([
      getJson<SessionSummary>(`${this.base}api/v1/sessions/${sid}/summary`),
      getJson<{ submits: number | null }>(`${this.base}dashboard/api/sessions/${sid}/submits`)
        .catch(() => ({ submits: null })),
    ]);
    if (summary.submits === undefined && extra.submits !== null) summary.submits = extra.submits;
    return summary;
  }
  groups(sid: number): Promise<TaskGroup[]> {
    return getJson(`${this.base}api/v1/sessions/${sid}/task_groups`);
  }
  stream(sid: number, from?: number, to?: number, limit?: number): Promise<TaskStream> {
    return getJson(`${this.base}api/v1/sessions/${sid}/task_stream${query({ from, to, limit })}`);
  }
  transfers(sid: number, from?: number, to?: number): Promise<Transfer[]> {
    return getJson(`${this.base}api/v1/sessions/${sid}/transfers${query({ from, to })}`);
  }
  graph(sid: number, tasks: boolean): Promise<TaskGraph> {
    return getJson(`${this.base}api/v1/sessions/${sid}/task_graph${tasks ? "?tasks=1" : ""}`);
  }
  async task(sid: number, id: number): Promise<TaskDetail | null> {
    try {
      return await getJson<TaskDetail>(`${this.base}api/v1/sessions/${sid}/tasks/${id}`);
    } catch (e) {
      if (e instanceof HttpError && e.status === 404) return null;
      throw e;
    }
  }
  async output(sid: number, id: number): Promise<TaskOutputView | null> {
    try {
      return await getJson<TaskOutputView>(`${this.base}api/v1/sessions/${sid}/tasks/${id}/output`);
    } catch (e) {
      if (e instanceof HttpError && e.status === 404) return null;
      throw e;
    }
  }
  governors(): Promise<GovernorRow[]> {
    return getJson(`${this.base}api/v1/governors`);
  }
  monitoring(from?: number, to?: number): Promise<Monitoring> {
    return getJson(`${this.base}api/v1/monitoring${query({ from, to })}`);
  }
  async status(): Promise<LiveStatus | null> {
    try {
      return await getJson<LiveStatus>(`${this.base}api/v1/status`);
    } catch {
      return null;
    }
  }
}

/** Everything a one-file report holds about its session (see dashboard/report.ts). */
export interface ReportData {
  meta: Meta;
  summary: SessionSummary;
  groups: TaskGroup[];
  stream: TaskStream;
  transfers: Transfer[];
  graph: TaskGraph;
  /** Details of some tasks (all of them for small sessions), by id. */
  tasks: Record<string, TaskDetail>;
  /** How many tasks have no details in the report. */
  tasks_omitted: number;
  /** What the detailed tasks printed, by id (absent in older reports). */
  outputs?: Record<string, TaskOutputView>;
  governors: GovernorRow[];
  monitoring: Monitoring;
}

/** Serves the data inlined in a report; nothing leaves the page. */
export class ReportApi implements Api {
  constructor(readonly data: ReportData) {}
  meta(): Promise<Meta> {
    return Promise.resolve(this.data.meta);
  }
  sessions(): Promise<SessionRow[]> {
    return Promise.resolve([this.data.summary]);
  }
  #check(sid: number): void {
    if (sid !== this.data.summary.session) {
      throw new HttpError(404, `this report holds session ${this.data.summary.session} only`);
    }
  }
  summary(sid: number): Promise<SessionSummary> {
    this.#check(sid);
    return Promise.resolve(this.data.summary);
  }
  groups(sid: number): Promise<TaskGroup[]> {
    this.#check(sid);
    return Promise.resolve(this.data.groups);
  }
  stream(sid: number, from?: number, to?: number): Promise<TaskStream> {
    this.#check(sid);
    const lo = from ?? -Infinity, hi = to ?? Infinity;
    const tasks = this.data.stream.tasks.filter((t: StreamTask) =>
      t.start <= hi && (t.end === null || t.end >= lo)
    );
    return Promise.resolve({ ...this.data.stream, tasks, truncated: false });
  }
  transfers(sid: number): Promise<Transfer[]> {
    this.#check(sid);
    return Promise.resolve(this.data.transfers);
  }
  graph(sid: number): Promise<TaskGraph> {
    this.#check(sid);
    return Promise.resolve(this.data.graph);
  }
  task(sid: number, id: number): Promise<TaskDetail | null> {
    this.#check(sid);
    return Promise.resolve(this.data.tasks[String(id)] ?? null);
  }
  output(sid: number, id: number): Promise<TaskOutputView | null> {
    this.#check(sid);
    return Promise.resolve(this.data.outputs?.[String(id)] ?? null);
  }
  governors(): Promise<GovernorRow[]> {
    return Promise.resolve(this.data.governors);
  }
  monitoring(): Promise<Monitoring> {
    return Promise.resolve(this.data.monitoring);
  }
  status(): Promise<LiveStatus | null> {
    return Promise.resolve(null);
  }
}

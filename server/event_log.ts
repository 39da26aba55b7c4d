/**
 * The event log: `<logdir>/events.db` (SQLite, Rain 0.4 layout; docs/events.md).
 *
 * `push()` only appends the reactor's plain object to an array. A timer (armed by the first push,
 * `flushMs` later) turns the pending events into rows (cheap string building) and hands them to a
 * writer thread (a Worker) that inserts each batch in one transaction: SQLite's work and the
 * parsing of big submits never run on the server's thread. Events are queryable within about
 * `flushMs` plus the write.
 */
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { Logger } from "../common/log.ts";
import type { CloseReason, EventSink, PendingEvent } from "./events.ts";
import type { PlannedObject, PlannedTask, SubmitPlan } from "./submit.ts";

const log = new Logger("server.events");

export const EVENTS_DB = "events.db";
/** How long `close()` waits for the writer to write what is pending. */
const CLOSE_TIMEOUT_MS = 10_000;

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  timestamp TEXT,
  event_type VARCHAR(14),
  session INTEGER NULL,
  event TEXT
);
CREATE INDEX IF NOT EXISTS events_timestamp ON events(timestamp);
CREATE INDEX IF NOT EXISTS events_event_type ON events(event_type);
CREATE INDEX IF NOT EXISTS events_session ON events(session);
`;

export interface EventLogOptions {
  /** Delay between the first pending event and its write (default 200 ms). */
  flushMs?: number;
}

/** `[timestamp, event_type, session, event JSON]` */
export type EventRow = [string, string, number | null, string];

/**
 * The writer thread: a self-contained function (it runs from its source text, so the same code
 * works from source, bundled and compiled). Messages are handled strictly in order:
 * `open {path}`, `batch {k, n, s}` (columns of events, one transaction), `submit {ts, session, header}`
 * (a ClientSubmit built from the raw submit header), `sync {token}` (answered `synced` once all
 * earlier messages are written) and `close`.
 */
function eventLogWorker(): void {
  // deno-lint-ignore no-explicit-any
  const scope = globalThis as any;
  const ROWS = 32;
  // deno-lint-ignore no-explicit-any
  const queue: any[] = [];
  // deno-lint-ignore no-explicit-any
  let sqlite: any, db: any, one: any, many: any, oneText: any;
  let failed = false;
  let written = 0;
  const fail = (e: unknown) => {
    if (!failed) scope.postMessage({ kind: "error", message: String(e) });
    failed = true;
    try {
      db?.exec("ROLLBACK");
    } catch { /* no transaction open */ }
  };
  let lastMs = -1;
  let lastIso = "";
  const iso = (ms: number) => {
    if (ms !== lastMs) {
      lastMs = ms;
      lastIso = new Date(ms).toISOString();
    }
    return lastIso;
  };
  // The columnar batch of `EventLog.#post` (kinds, numbers, strings) back into rows.
  const decodeBatch = (k: number[], n: number[], s: string[]) => {
    const rows = new Array(k.length);
    let i = 0, j = 0;
    for (let r = 0; r < k.length; r++) {
      const kind = k[r];
      const ts = iso(n[i++]);
      if (kind === 0) {
        const session = n[i++];
        rows[r] = [ts, s[j++], session < 0 ? null : session, s[j++]];
        continue;
      }
      const session = n[i++];
      const task = n[i++];
      if (kind === 1) {
        rows[r] = [
          ts,
          "TaskStarted",
          session,
          `{"type":"TaskStarted","task":[${session},${task}],"info":{"governor":${
            JSON.stringify(s[j++])
          },"start_time":${JSON.stringify(s[j++])}}}`,
        ];
        continue;
      }
      let json = `{"type":"TaskFinished","task":[${session},${task}],"info":`;
      if (kind === 2) {
        json += `{"governor":${JSON.stringify(s[j++])},"start_time":${
          JSON.stringify(s[j++])
        },"duration":${n[i++]}}`;
      } else {
        json += s[j++];
      }
      const outputs = n[i++];
      if (outputs >= 0) {
        json += `,"outputs":[`;
        for (let o = 0; o < outputs; o++) {
          json += `${o > 0 ? "," : ""}[${n[i++]},${n[i++]}]`;
        }
        json += "]";
      }
      rows[r] = [ts, "TaskFinished", session, json + "}"];
    }
    return rows;
  };
  const insert = (rows: (string | number | null)[][]) => {
    db.exec("BEGIN");
    const params = new Array(ROWS * 4);
    let k = 0;
    for (const row of rows) {
      params[k++] = row[0];
      params[k++] = row[1];
      params[k++] = row[2];
      params[k++] = row[3];
      if (k === params.length) {
        many.run(...params);
        k = 0;
      }
    }
    for (let i = 0; i < k; i += 4) one.run(params[i], params[i + 1], params[i + 2], params[i + 3]);
    db.exec("COMMIT");
    written += rows.length;
  };
  /**
   * The ClientSubmit text without parsing the submit: `tasks` spliced from the raw header as the
   * client sent them (found by `topLevelValue`), `dataobjs` built from the columns of the planned
   * objects. Undefined when the header is not as expected (then it is parsed).
   */
  // deno-lint-ignore no-explicit-any
  const fastSubmit = (m: any): Uint8Array | undefined => {
    const o = m.objects;
    if (o === undefined) return undefined;
    let range: [number, number] | null;
    try {
      // deno-lint-ignore no-explicit-any
      range = (scope as any).topLevelValue(m.header, "tasks");
      // Spliced bytes must be valid UTF-8 (the check allocates a string only for a moment).
      if (range !== null) {
        new TextDecoder("utf-8", { fatal: true }).decode(m.header.subarray(...range));
      }
    } catch {
      return undefined;
    }
    const encoder = new TextEncoder();
    const tasks: Uint8Array = range === null ? encoder.encode("[]") : m.header.subarray(...range);
    if (tasks[0] !== 0x5b) return undefined;
    const s = m.session;
    const labels = o.strings.map((l: string) => `,"label":${JSON.stringify(l)}`);
    // The text is assembled as bytes, 10k objects per piece: no 30 MB string, no UTF-8 copy.
    const pieces: Uint8Array[] = [
      encoder.encode(
        `{"type":"ClientSubmit","session":${s},"task_count":${m.taskCount},` +
          `"object_count":${o.ids.length},"tasks":`,
      ),
      tasks,
      encoder.encode(`,"dataobjs":[`),
    ];
    let e = 0;
    for (let from = 0; from < o.ids.length; from += 10_000) {
      let text = "";
      for (let i = from; i < Math.min(o.ids.length, from + 10_000); i++) {
        const flags = o.flags[i];
        let json = `{"id":[${s},${o.ids[i]}],"data_type":"${flags & 1 ? "dir" : "blob"}"`;
        if (o.labels[i] >= 0) json += labels[o.labels[i]];
        if (e < o.extra.length && o.extra[e][0] === i) {
          const [, contentType, user] = o.extra[e++];
          if (contentType !== null) json += `,"content_type":${JSON.stringify(contentType)}`;
          if (user !== null) json += `,"user":${user}`;
        }
        if (flags & 2) json += `,"keep":true`;
        if (flags & 4) json += `,"data_size":${o.sizes[i]}`;
        text += (i > 0 ? "," : "") + json + "}";
      }
      pieces.push(encoder.encode(text));
    }
    pieces.push(encoder.encode("]}"));
    const out = new Uint8Array(pieces.reduce((a, p) => a + p.length, 0));
    let at = 0;
    for (const p of pieces) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  };
  // deno-lint-ignore no-explicit-any
  const handle = (m: any) => {
    if (m.kind === "open") {
      db = new sqlite.DatabaseSync(m.path);
      db.exec(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; " +
          "PRAGMA cache_size = -8192; PRAGMA wal_autocheckpoint = 8192;",
      );
      const head = "INSERT INTO events (timestamp, event_type, session, event) VALUES ";
      one = db.prepare(head + "(?, ?, ?, ?)");
      oneText = db.prepare(head + "(?, ?, ?, CAST(? AS TEXT))"); // UTF-8 bytes stored as text
      many = db.prepare(head + new Array(ROWS).fill("(?, ?, ?, ?)").join(", "));
    } else if (m.kind === "batch") {
      if (failed) return;
      insert(decodeBatch(m.k, m.n, m.s));
    } else if (m.kind === "submit") {
      if (failed) return;
      const fast = fastSubmit(m);
      if (fast !== undefined) {
        db.exec("BEGIN");
        oneText.run(m.ts, "ClientSubmit", m.session, fast);
        db.exec("COMMIT");
        written++;
        return;
      }
      const h = JSON.parse(new TextDecoder().decode(m.header));
      const tasks = Array.isArray(h.tasks) ? h.tasks : [];
      for (const t of tasks) t.resources ??= { cpus: 1 };
      const dataobjs = (Array.isArray(h.objects) ? h.objects : []).map(
        // deno-lint-ignore no-explicit-any
        (o: any) => {
          const spec = { ...o.spec };
          spec.data_type ??= "blob";
          if (o.keep === true) spec.keep = true;
          if (typeof o.data_size === "number") spec.data_size = o.data_size;
          return spec;
        },
      );
      const event = {
        type: "ClientSubmit",
        session: m.session,
        task_count: tasks.length,
        object_count: dataobjs.length,
        tasks,
        dataobjs,
      };
      insert([[m.ts, "ClientSubmit", m.session, JSON.stringify(event)]]);
    } else if (m.kind === "sync") {
      scope.postMessage({ kind: "synced", token: m.token, written });
    } else if (m.kind === "close") {
      try {
        db?.close();
      } catch { /* closed */ }
      scope.postMessage({ kind: "closed", written });
    }
  };
  let ready = false;
  const drain = () => {
    while (queue.length > 0) {
      const m = queue.shift();
      try {
        handle(m);
      } catch (e) {
        fail(e);
        if (m.kind === "sync" || m.kind === "close") {
          scope.postMessage({ kind: m.kind === "sync" ? "synced" : "closed", token: m.token });
        }
      }
    }
  };
  scope.onmessage = (ev: MessageEvent) => {
    queue.push(ev.data);
    if (ready) drain();
  };
  import("node:sqlite").then((module) => {
    sqlite = module;
    ready = true;
    drain();
  }, fail);
}

export class EventLog implements EventSink {
  readonly path: string;
  /** First session and client ids not used in the log yet (numbering continues over restarts). */
  readonly nextSessionId: number;
  readonly nextClientId: number;
  /** Sessions found open in the log at start and closed `ServerLost`. */
  readonly lostSessions: number[];
  #worker: Worker;
  /** Task events not handed to the writer yet, as columns (see `push`). */
  #columns = newColumns();
  /** In order: finished columns and other events. */
  #segments: (Columns | PendingEvent)[] = [];
  #count = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #flushMs: number;
  #closed: Promise<void> | undefined;
  #syncs = new Map<number, () => void>();
  #nextToken = 1;
  #onClosed: (() => void) | undefined;
  #dead = false;
  #lastMs = -1;
  #lastIso = "";

  private constructor(path: string, options: EventLogOptions) {
    this.path = path;
    this.#flushMs = options.flushMs ?? 200;
    const db = new DatabaseSync(path);
    try {
      // 16 KiB pages (new logs only): about a quarter less insert work than 4 KiB.
      db.exec("PRAGMA page_size = 16384; PRAGMA journal_mode = WAL;");
      db.exec(SCHEMA);
      const maxSession = db.prepare("SELECT max(session) AS m FROM events").get()?.m;
      this.nextSessionId = typeof maxSession === "number" ? maxSession + 1 : 1;
      const maxClient = db.prepare(
        "SELECT max(json_extract(event, '$.client')) AS m FROM events " +
          "WHERE event_type = 'ClientNew'",
      ).get()?.m;
      this.nextClientId = typeof maxClient === "number" ? maxClient + 1 : 1;
      this.lostSessions = this.#closeLostSessions(db);
    } finally {
      db.close();
    }
    const source = `globalThis.topLevelValue = ${topLevelValue.toString()};\n` +
      `(${eventLogWorker.toString()})();`;
    const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
    this.#worker = new Worker(url, { type: "module" });
    URL.revokeObjectURL(url);
    this.#worker.onmessage = (ev: MessageEvent) => {
      const m = ev.data;
      if (m.kind === "error") {
        log.error(`event log ${this.path} failed, no more events are recorded: ${m.message}`);
      } else if (m.kind === "synced") {
        this.#syncs.get(m.token)?.();
        this.#syncs.delete(m.token);
      } else if (m.kind === "closed") {
        this.#onClosed?.();
      }
    };
    // The log must never take the server down, nor keep it from stopping.
    this.#worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      log.error(`event log writer of ${this.path} died, no more events are recorded: ${e.message}`);
      this.#dead = true;
      for (const resolve of this.#syncs.values()) resolve();
      this.#syncs.clear();
      this.#onClosed?.();
    };
    this.#worker.postMessage({ kind: "open", path });
  }

  /** Opens (or creates) `<logDir>/events.db`; sessions a crashed server left open are closed. */
  static open(logDir: string, options: EventLogOptions = {}): EventLog {
    return new EventLog(join(logDir, EVENTS_DB), options);
  }

  #closeLostSessions(db: DatabaseSync): number[] {
    const open = db.prepare(
      `SELECT session FROM events WHERE event_type = 'SessionNew' AND session NOT IN
         (SELECT session FROM events WHERE event_type = 'SessionClosed' AND session IS NOT NULL)
       ORDER BY session`,
    ).all().map((r) => r.session as number);
    if (open.length === 0) return open;
    const now = this.#iso(Date.now());
    const insert = db.prepare(
      "INSERT INTO events (timestamp, event_type, session, event) VALUES (?, ?, ?, ?)",
    );
    db.exec("BEGIN");
    for (const session of open) {
      insert.run(
        now,
        "SessionClosed",
        session,
        sessionClosedJson(
          session,
          "ServerLost",
          "the server stopped without closing the session (found open when a server " +
            "started over this event log)",
        ),
      );
    }
    db.exec("COMMIT");
    log.info(`closed ${open.length} session(s) left open in ${this.path} (ServerLost)`);
    return open;
  }

  /**
   * Task events are encoded into the current columns at once (a few numbers and shared strings):
   * no governor message stays referenced until the write, so nothing of it survives into V8's
   * old generation. Other events are kept as they are (rare) until the timer.
   */
  push(event: PendingEvent): void {
    if (this.#closed || this.#dead) return;
    const c = this.#columns;
    if (event.type === "TaskStarted") {
      c.k.push(1);
      c.n.push(event.time, event.session, event.task);
      c.s.push(event.governor, event.start_time);
    } else if (event.type === "TaskFinished") {
      const info = event.info;
      c.n.push(event.time, event.session, event.task);
      if (
        typeof info.governor === "string" && typeof info.start_time === "string" &&
        typeof info.duration === "number" && Number.isFinite(info.duration) &&
        Object.keys(info).length === 3
      ) {
        c.k.push(2);
        c.s.push(info.governor, info.start_time);
        c.n.push(info.duration);
      } else {
        c.k.push(3);
        c.s.push(JSON.stringify(info));
      }
      const outputs = event.outputs;
      if (outputs === undefined) {
        c.n.push(-1);
      } else {
        c.n.push(outputs.length);
        for (const o of outputs) c.n.push(o.id[1], o.size);
      }
    } else {
      // Kept in order: the columns so far, then this event.
      if (c.k.length > 0) {
        this.#segments.push(c);
        this.#columns = newColumns();
      }
      this.#segments.push(event);
    }
    this.#count++;
    if (this.#timer === undefined) this.#timer = setTimeout(this.#tick, this.#flushMs);
  }

  /** Events pushed and not handed to the writer yet. */
  get pendingCount(): number {
    return this.#count;
  }

  #tick = (): void => {
    this.#timer = undefined;
    this.#post();
  };

  /**
   * Hands what is pending to the writer thread, in order: columns of events (a kind per event,
   * its numbers and its strings: a structured clone of three flat arrays is far cheaper than of
   * objects or of built JSON text; the writer builds the rows) and submits.
   */
  #post(): void {
    if (this.#columns.k.length > 0) {
      this.#segments.push(this.#columns);
      this.#columns = newColumns();
    }
    const segments = this.#segments;
    if (segments.length === 0) return;
    this.#segments = [];
    this.#count = 0;
    let batch = newColumns();
    const sendBatch = () => {
      if (batch.k.length === 0) return;
      this.#worker.postMessage({ kind: "batch", ...batch });
      batch = newColumns();
    };
    for (const segment of segments) {
      if (!("type" in segment)) {
        sendBatch();
        this.#worker.postMessage({ kind: "batch", ...segment });
        continue;
      }
      const event = segment;
      if (event.type === "ClientSubmit" && event.plan.headerBytes !== undefined) {
        sendBatch();
        const bytes = event.plan.headerBytes;
        const header = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
          ? bytes
          : bytes.slice();
        const objects = objectColumns(event.plan.objects);
        this.#worker.postMessage(
          {
            kind: "submit",
            ts: this.#iso(event.time),
            session: event.session,
            header,
            taskCount: event.plan.tasks.length,
            objects,
          },
          [
            header.buffer as ArrayBuffer,
            objects.ids.buffer,
            objects.sizes.buffer,
            objects.flags.buffer,
            objects.labels.buffer,
          ],
        );
        continue;
      }
      const row = this.toRow(event);
      batch.k.push(0);
      batch.n.push(event.time, row[2] ?? -1);
      batch.s.push(row[1], row[3]);
    }
    sendBatch();
  }

  /** Resolves when every event pushed so far is written (queryable). */
  flush(): Promise<void> {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.#post();
    if (this.#dead) return Promise.resolve();
    const token = this.#nextToken++;
    const synced = new Promise<void>((resolve) => this.#syncs.set(token, resolve));
    this.#worker.postMessage({ kind: "sync", token });
    return synced;
  }

  /** Writes what is pending and closes the database; later pushes are ignored. */
  close(): Promise<void> {
    if (this.#closed) return this.#closed;
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.#post();
    this.#closed = new Promise<void>((resolve) => {
      // A writer that does not answer in time (e.g. a disk that hangs) is abandoned.
      const timer = setTimeout(() => {
        log.warn(`event log ${this.path}: the writer did not finish in time; stopping it`);
        this.#onClosed?.();
      }, CLOSE_TIMEOUT_MS);
      this.#onClosed = () => {
        this.#onClosed = undefined;
        clearTimeout(timer);
        this.#worker.terminate();
        resolve();
      };
      if (this.#dead) this.#onClosed();
    });
    if (!this.#dead) this.#worker.postMessage({ kind: "close" });
    return this.#closed;
  }

  #iso(ms: number): string {
    if (ms !== this.#lastMs) {
      this.#lastMs = ms;
      this.#lastIso = new Date(ms).toISOString();
    }
    return this.#lastIso;
  }

  /** The stored row of an event. */
  toRow(e: PendingEvent): EventRow {
    const ts = this.#iso(e.time);
    switch (e.type) {
      case "TaskStarted":
        return [
          ts,
          e.type,
          e.session,
          `{"type":"TaskStarted","task":[${e.session},${e.task}],"info":{"governor":${
            JSON.stringify(e.governor)
          },"start_time":${JSON.stringify(e.start_time)}}}`,
        ];
      case "TaskFinished": {
        let json = `{"type":"TaskFinished","task":[${e.session},${e.task}],"info":${
          JSON.stringify(e.info)
        }`;
        if (e.outputs) {
          json += `,"outputs":[${e.outputs.map((o) => `[${o.id[1]},${o.size}]`).join(",")}]`;
        }
        return [ts, e.type, e.session, json + "}"];
      }
      case "ServerStart":
        return [
          ts,
          e.type,
          null,
          JSON.stringify({
            type: e.type,
            version: e.version,
            pid: e.pid,
            listen: e.listen,
            http_listen: e.http_listen,
          }),
        ];
      case "GovernorNew":
        return [
          ts,
          e.type,
          null,
          JSON.stringify({
            type: e.type,
            governor: e.governor,
            resources: { cpus: e.cpus },
            executors: e.executors,
          }),
        ];
      case "GovernorRemoved":
        return [
          ts,
          e.type,
          null,
          JSON.stringify({ type: e.type, governor: e.governor, error: e.error }),
        ];
      case "ClientNew":
      case "ClientRemoved":
        return [ts, e.type, null, JSON.stringify({ type: e.type, client: e.client })];
      case "SessionNew":
        return [
          ts,
          e.type,
          e.session,
          JSON.stringify({ type: e.type, session: e.session, client: e.client, spec: e.spec }),
        ];
      case "SessionClosed":
        return [ts, e.type, e.session, sessionClosedJson(e.session, e.reason, e.message)];
      case "ClientSubmit":
        return [ts, e.type, e.session, clientSubmitJson(e.session, e.plan)];
      case "ClientUnkeep":
        return [
          ts,
          e.type,
          e.session,
          `{"type":"ClientUnkeep","session":${e.session},"dataobjs":[${
            e.objects.map((id) => `[${e.session},${id}]`).join(",")
          }]}`,
        ];
      case "Monitoring": {
        const s = e.sample;
        return [
          ts,
          e.type,
          null,
          JSON.stringify({
            type: e.type,
            governor: e.governor,
            timestamp: s.timestamp,
            cpu_usage: s.cpu_usage,
            mem_usage: s.mem_usage,
            net_stat: s.net_stat,
          }),
        ];
      }
      case "DataTransfer": {
        const t = e.transfer;
        return [
          ts,
          e.type,
          t.object[0],
          JSON.stringify({
            type: e.type,
            object: t.object,
            from: t.from,
            to: e.to,
            bytes: t.bytes,
            start_time: t.start_time,
            duration: t.duration,
          }),
        ];
      }
    }
  }
}

/**
 * The planned objects of a submit as flat columns (cheap to build and to transfer to the writer,
 * which turns them into `dataobjs` without parsing the submit): ids, sizes, flags (1 dir, 2 keep,
 * 4 has data_size), label indexes into `strings` (-1: none), and the rare content types and users
 * as `[index, contentType | null, user JSON | null]`.
 */
export function objectColumns(objects: PlannedObject[]) {
  const count = objects.length;
  const ids = new Float64Array(count);
  const sizes = new Float64Array(count);
  const flags = new Uint8Array(count);
  const labels = new Int32Array(count);
  const strings: string[] = [];
  const interned = new Map<string, number>();
  const extra: [number, string | null, string | null][] = [];
  for (let i = 0; i < count; i++) {
    const o = objects[i];
    ids[i] = o.id;
    flags[i] = (o.dataType === "dir" ? 1 : 0) | (o.keep ? 2 : 0) |
      (o.dataSize !== undefined ? 4 : 0);
    if (o.dataSize !== undefined) sizes[i] = o.dataSize;
    if (o.label === undefined) {
      labels[i] = -1;
    } else {
      let index = interned.get(o.label);
      if (index === undefined) interned.set(o.label, index = strings.push(o.label) - 1);
      labels[i] = index;
    }
    if (o.contentType !== undefined || o.user !== undefined) {
      extra.push([i, o.contentType ?? null, o.user === undefined ? null : JSON.stringify(o.user)]);
    }
  }
  return { ids, sizes, flags, labels, strings, extra };
}

/**
 * `[start, end)` byte range of the value of `key` in the top-level JSON object `bytes` (UTF-8),
 * null if the object has no such key; throws if `bytes` is not a JSON object as expected.
 * A scan of structure only (strings skipped, depth counted): far cheaper than parsing. Runs in
 * the writer thread too (its source is sent there), so it is self-contained.
 */
export function topLevelValue(bytes: Uint8Array, key: string): [number, number] | null {
  const n = bytes.length;
  const ws = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
  const skipWs = (i: number) => {
    while (i < n && ws(bytes[i])) i++;
    return i;
  };
  const endOfString = (i: number) => { // i at the opening quote
    i++;
    while (i < n && bytes[i] !== 0x22) i += bytes[i] === 0x5c ? 2 : 1;
    if (i >= n) throw new Error("unterminated string");
    return i + 1;
  };
  const endOfValue = (i: number) => {
    const c = bytes[i];
    if (c === 0x22) return endOfString(i);
    if (c === 0x7b || c === 0x5b) {
      let depth = 0;
      while (i < n) {
        const b = bytes[i];
        if (b === 0x22) {
          i = endOfString(i);
          continue;
        }
        if (b === 0x7b || b === 0x5b) depth++;
        else if (b === 0x7d || b === 0x5d) {
          if (--depth === 0) return i + 1;
        }
        i++;
      }
      throw new Error("unterminated value");
    }
    while (i < n && bytes[i] !== 0x2c && bytes[i] !== 0x7d && !ws(bytes[i])) i++;
    return i;
  };
  const wanted = new TextEncoder().encode(key);
  let i = skipWs(0);
  if (bytes[i] !== 0x7b) throw new Error("not an object");
  i = skipWs(i + 1);
  if (bytes[i] === 0x7d) return null;
  for (;;) {
    if (bytes[i] !== 0x22) throw new Error("expected a key");
    const keyEnd = endOfString(i);
    const same = keyEnd - i - 2 === wanted.length &&
      wanted.every((b, k) => bytes[i + 1 + k] === b);
    i = skipWs(keyEnd);
    if (bytes[i] !== 0x3a) throw new Error("expected ':'");
    const start = skipWs(i + 1);
    const end = endOfValue(start);
    if (same) return [start, end];
    i = skipWs(end);
    if (bytes[i] === 0x2c) {
      i = skipWs(i + 1);
      continue;
    }
    if (bytes[i] === 0x7d) return null;
    throw new Error("expected ',' or '}'");
  }
}

/** A batch of events for the writer: kinds, numbers and strings (see `EventLog.push`). */
interface Columns {
  k: number[];
  n: number[];
  s: string[];
}

function newColumns(): Columns {
  return { k: [], n: [], s: [] };
}

function sessionClosedJson(session: number, reason: CloseReason, message: string): string {
  return JSON.stringify({ type: "SessionClosed", session, reason, message });
}

/**
 * `ClientSubmit {session, tasks, dataobjs}` with the specs in their wire form (TaskSpec,
 * ObjectSpec + `keep`/`data_size`), built as one string without intermediate objects: a submit of
 * 100k tasks is serialized in a few tens of milliseconds, in the writer, not in the reactor.
 */
export function clientSubmitJson(session: number, plan: SubmitPlan): string {
  const parts: string[] = [
    `{"type":"ClientSubmit","session":${session},"task_count":${plan.tasks.length},` +
    `"object_count":${plan.objects.length},"tasks":[`,
  ];
  plan.tasks.forEach((t, i) =>
    parts.push(i === 0 ? taskJson(session, t) : "," + taskJson(session, t))
  );
  parts.push(`],"dataobjs":[`);
  plan.objects.forEach((o, i) =>
    parts.push(i === 0 ? objectJson(session, o) : "," + objectJson(session, o))
  );
  parts.push("]}");
  return parts.join("");
}

function taskJson(s: number, t: PlannedTask): string {
  let inputs = "";
  for (let i = 0; i < t.inputs.length; i++) {
    const label = t.inputLabels?.[i];
    if (i > 0) inputs += ",";
    inputs += label === undefined
      ? `{"id":[${s},${t.inputs[i]}]}`
      : `{"id":[${s},${t.inputs[i]}],"label":${JSON.stringify(label)}}`;
  }
  let outputs = "";
  for (let i = 0; i < t.outputs.length; i++) {
    outputs += i > 0 ? `,[${s},${t.outputs[i]}]` : `[${s},${t.outputs[i]}]`;
  }
  let json = `{"id":[${s},${t.id}],"task_type":${
    JSON.stringify(t.taskType)
  },"inputs":[${inputs}],"outputs":[${outputs}],"resources":{"cpus":${t.cpus}}`;
  if (t.config !== undefined) json += `,"config":${JSON.stringify(t.config)}`;
  if (t.name !== undefined) json += `,"name":${JSON.stringify(t.name)}`;
  if (t.user !== undefined) json += `,"user":${JSON.stringify(t.user)}`;
  return json + "}";
}

function objectJson(s: number, o: PlannedObject): string {
  let json = `{"id":[${s},${o.id}],"data_type":"${o.dataType}"`;
  if (o.label !== undefined) json += `,"label":${JSON.stringify(o.label)}`;
  if (o.contentType !== undefined) json += `,"content_type":${JSON.stringify(o.contentType)}`;
  if (o.user !== undefined) json += `,"user":${JSON.stringify(o.user)}`;
  if (o.keep) json += `,"keep":true`;
  if (o.dataSize !== undefined) json += `,"data_size":${o.dataSize}`;
  return json + "}";
}

/**
 * The event log: `<logdir>/events.db` (SQLite, Rain 0.4 layout; docs/events.md, store.ts).
 *
 * `push()` encodes task events into columns at once (a few numbers and shared strings: no
 * governor message stays referenced until the write) and keeps other events as they are. A
 * timer (armed by the first push, `flushMs` later) hands them to the writer thread (writer.ts),
 * which builds the rows and inserts each batch in one transaction: SQLite's work and the parsing
 * of big submits never run on the server's thread. `POST /events` is answered by the writer too.
 */
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { Logger } from "../../common/log.ts";
import { startWorker, WorkerRpc } from "../../common/worker_rpc.ts";
import { settlesWithin } from "../../common/timeout.ts";
import type { EventCriteria } from "./criteria.ts";
import type { EventSink, PendingEvent } from "./event.ts";
import { encodeEvent, IsoClock, newColumns, type RowColumns } from "./rows.ts";
import { EVENTS_DB, openStore } from "./store.ts";
import { applyRetention, type Retention } from "./retention.ts";
import { objectColumns, ownBuffer, submitTransfer } from "./submit_json.ts";
import { compactSubmitTransfer, submitColumns } from "./submit_columns.ts";
import { WRITER_SOURCE } from "./writer.gen.ts";
import type { WriterProtocol } from "./writer.ts";

const log = new Logger("server.events");

/** How long `close()` waits for the writer to write what is pending. */
const CLOSE_TIMEOUT_MS = 10_000;

export interface EventLogOptions {
  /** Delay between the first pending event and its write (default 200 ms). */
  flushMs?: number;
  /** Sessions left open that stay open (restored from the journal), not closed ServerLost. */
  keepOpen?: ReadonlySet<number>;
  /** `--log-retention`: applied at open and every `retentionIntervalMs` (default 1 h). */
  retention?: Retention;
  retentionIntervalMs?: number;
  /** Told of the sessions a periodic retention pass dropped. */
  onDropped?: (sessions: number[]) => void;
}

export class EventLog implements EventSink {
  readonly path: string;
  /** First session and client ids not used in the log yet (numbering continues over restarts). */
  readonly nextSessionId: number;
  readonly nextClientId: number;
  /** Sessions found open in the log at start and closed `ServerLost`. */
  readonly lostSessions: number[];
  readonly #writer: WorkerRpc<WriterProtocol>;
  /** Task events not handed to the writer yet (see `push`). */
  #columns = newColumns();
  /** In order: filled columns and submits. */
  #segments: (RowColumns | Extract<PendingEvent, { type: "ClientSubmit" }>)[] = [];
  #count = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #flushMs: number;
  #closed: Promise<void> | undefined;
  #failed = false;
  readonly #clock = new IsoClock();
  #retentionTimer: ReturnType<typeof setInterval> | undefined;

  private constructor(path: string, options: EventLogOptions) {
    this.path = path;
    this.#flushMs = options.flushMs ?? 200;
    const db = new DatabaseSync(path);
    try {
      const start = openStore(db, options.keepOpen);
      this.nextSessionId = start.nextSessionId;
      this.nextClientId = start.nextClientId;
      this.lostSessions = start.lostSessions;
      if (options.retention) {
        const dropped = applyRetention(db, options.retention);
        if (dropped.sessions.length > 0) {
          // At start nothing else uses the file: give the space back to the disk.
          db.exec("VACUUM");
          log.info(
            `--log-retention: dropped ${dropped.sessions.length} closed session(s) ` +
              `(${dropped.rows} rows) from ${path}`,
          );
        }
      }
    } finally {
      db.close();
    }
    if (this.lostSessions.length > 0) {
      log.info(`closed ${this.lostSessions.length} session(s) left open in ${path} (ServerLost)`);
    }
    // The log must never take the server down, nor keep it from stopping.
    this.#writer = new WorkerRpc(startWorker(WRITER_SOURCE, { name: "rain-event-writer" }), {
      died: (message) =>
        log.error(`event log writer of ${path} died, no more events are recorded: ${message}`),
    });
    this.#write(this.#writer.call("open", { path }));
    const retention = options.retention;
    if (retention) {
      this.#retentionTimer = setInterval(() => {
        if (this.#closed || this.#writer.closed) return;
        this.#writer.call("retain", retention).then((dropped) => {
          if (dropped.sessions.length === 0) return;
          log.info(
            `--log-retention: dropped ${dropped.sessions.length} closed session(s) ` +
              `(${dropped.rows} rows)`,
          );
          options.onDropped?.(dropped.sessions);
        }, (e: Error) => log.warn(`--log-retention failed: ${e.message}`));
      }, options.retentionIntervalMs ?? 3_600_000);
    }
  }

  /** Opens (or creates) `<logDir>/events.db`; sessions a crashed server left open are closed. */
  static open(logDir: string, options: EventLogOptions = {}): EventLog {
    return new EventLog(join(logDir, EVENTS_DB), options);
  }

  /** A write's failure is told once; the writer then drops every later write. */
  #write(done: Promise<unknown>): void {
    done.catch((e: Error) => {
      if (this.#failed || this.#writer.closed) return;
      this.#failed = true;
      log.error(`event log ${this.path} failed, no more events are recorded: ${e.message}`);
    });
  }

  push(event: PendingEvent): void {
    if (this.#closed || this.#writer.closed) return;
    if (event.type === "ClientSubmit") {
      // Kept in order: the columns so far, then the submit (serialized by the writer).
      if (this.#columns.kinds.length > 0) {
        this.#segments.push(this.#columns);
        this.#columns = newColumns();
      }
      this.#segments.push(event);
    } else {
      encodeEvent(this.#columns, event, this.#clock);
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

  /** Hands what is pending to the writer thread, in order. */
  #post(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#columns.kinds.length > 0) {
      this.#segments.push(this.#columns);
      this.#columns = newColumns();
    }
    const segments = this.#segments;
    this.#segments = [];
    this.#count = 0;
    if (this.#writer.closed) return;
    for (const segment of segments) {
      if (!("type" in segment)) {
        this.#write(this.#writer.call("batch", segment));
        continue;
      }
      const { plan, session, time } = segment;
      const ts = this.#clock.iso(time);
      if (plan.headerBytes === undefined) {
        const m = submitColumns(session, ts, plan);
        this.#write(this.#writer.call("compactSubmit", m, compactSubmitTransfer(m)));
        continue;
      }
      const m = {
        ts,
        session,
        header: ownBuffer(plan.headerBytes),
        taskCount: plan.tasks.length,
        objects: objectColumns(plan.objects),
      };
      this.#write(this.#writer.call("submit", m, submitTransfer(m)));
    }
  }

  /** Resolves when every event pushed so far is written (queryable). */
  async flush(): Promise<void> {
    this.#post();
    if (this.#writer.closed) return;
    await this.#writer.call("sync", null).catch(() => {});
  }

  /**
   * `POST /events` (criteria checked), answered by the writer over what is written: events still
   * pending (at most `flushMs`) are not seen yet, as in Rain 0.4's batched log.
   */
  query(criteria: EventCriteria): Promise<string> {
    if (this.#writer.closed) return Promise.resolve("[]");
    return this.#writer.call("query", criteria);
  }

  /** Writes what is pending and closes the database; later pushes are ignored. */
  close(): Promise<void> {
    if (this.#closed) return this.#closed;
    clearInterval(this.#retentionTimer);
    this.#post();
    const writer = this.#writer;
    this.#closed = (async () => {
      if (writer.closed) return;
      // A writer that does not answer in time (e.g. a disk that hangs) is abandoned.
      if (!await settlesWithin(writer.call("close", null), CLOSE_TIMEOUT_MS)) {
        log.warn(`event log ${this.path}: the writer did not finish in time; stopping it`);
      }
      writer.terminate();
    })();
    return this.#closed;
  }
}

/**
 * `<logdir>/events.db`: the `events` table of Rain 0.4 (reference §4) plus `event_counts`, the
 * counts of the rows that have some (a submit's tasks and objects, a failed task), so that a
 * reader never parses a submit's text to count it (`log_info.counts_from`: since which row). Written only by the writer thread (writer.ts);
 * read at start (`openStore`), by `POST /events` (in the writer thread) and post-mortem.
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { EventCriteria } from "./criteria.ts";
import { type EventRow, IsoClock, sessionClosedJson } from "./rows.ts";

export const EVENTS_DB = "events.db";

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
CREATE TABLE IF NOT EXISTS event_counts (
  id INTEGER PRIMARY KEY,
  tasks INTEGER NOT NULL DEFAULT 0,
  objects INTEGER NOT NULL DEFAULT 0,
  failed INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS log_info (key TEXT PRIMARY KEY, value);
INSERT OR IGNORE INTO log_info (key, value)
  SELECT 'counts_from', coalesce(max(id), 0) + 1 FROM events;
`;

/**
 * The first row id with its counts in event_counts (rows before it were written by an older
 * server: their counts are read from their JSON); Infinity for a log without the table.
 */
export function countsFrom(db: DatabaseSync): number {
  const table = db.prepare(
    "SELECT 1 AS t FROM sqlite_master WHERE type = 'table' AND name = 'log_info'",
  ).get();
  if (!table) return Infinity;
  const row = db.prepare("SELECT value FROM log_info WHERE key = 'counts_from'").get();
  return typeof row?.value === "number" ? row.value : Infinity;
}

/** Rows per `/events` answer at most (page with `id > last`). */
export const MAX_EVENTS = 100_000;

/** The counts of one row (stored in `event_counts` when any is non-zero). */
export interface RowCounts {
  tasks?: number;
  objects?: number;
  failed?: number;
}

/** What the server needs to know of an existing log when it starts over it. */
export interface StoreStart {
  nextSessionId: number;
  nextClientId: number;
  /** Sessions found open (a crashed server's), now closed `ServerLost`. */
  lostSessions: number[];
}

/** Creates or opens the log's tables; closes the sessions a crashed server left open. */
export function openStore(db: DatabaseSync, keepOpen?: ReadonlySet<number>): StoreStart {
  // 16 KiB pages (new logs only): about a quarter less insert work than 4 KiB.
  db.exec("PRAGMA page_size = 16384; PRAGMA journal_mode = WAL;");
  db.exec(SCHEMA);
  const maxSession = db.prepare("SELECT max(session) AS m FROM events").get()?.m;
  const maxClient = db.prepare(
    "SELECT max(json_extract(event, '$.client')) AS m FROM events WHERE event_type = 'ClientNew'",
  ).get()?.m;
  const open = db.prepare(
    `SELECT session FROM events WHERE event_type = 'SessionNew' AND session NOT IN
       (SELECT session FROM events WHERE event_type = 'SessionClosed' AND session IS NOT NULL)
     ORDER BY session`,
  ).all().map((r) => r.session as number).filter((s) => !keepOpen?.has(s));
  if (open.length > 0) {
    const now = new IsoClock().iso(Date.now());
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
  }
  return {
    nextSessionId: typeof maxSession === "number" ? maxSession + 1 : 1,
    nextClientId: typeof maxClient === "number" ? maxClient + 1 : 1,
    lostSessions: open,
  };
}

/** Inserts rows (in the writer thread), 32 per statement. */
export class RowInserter {
  static readonly #PER_STATEMENT = 32;
  readonly #db: DatabaseSync;
  readonly #one: StatementSync;
  readonly #oneText: StatementSync;
  readonly #many: StatementSync;
  readonly #counts: StatementSync;
  written = 0;

  constructor(db: DatabaseSync) {
    this.#db = db;
    db.exec(
      "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; " +
        "PRAGMA cache_size = -8192; PRAGMA wal_autocheckpoint = 8192;",
    );
    const head = "INSERT INTO events (timestamp, event_type, session, event) VALUES ";
    this.#one = db.prepare(head + "(?, ?, ?, ?)");
    this.#oneText = db.prepare(head + "(?, ?, ?, CAST(? AS TEXT))"); // UTF-8 bytes as text
    this.#many = db.prepare(
      head + new Array(RowInserter.#PER_STATEMENT).fill("(?, ?, ?, ?)").join(", "),
    );
    this.#counts = db.prepare(
      "INSERT INTO event_counts (id, tasks, objects, failed) VALUES (?, ?, ?, ?)",
    );
  }

  /** One transaction; `counts[i]` (if any) belongs to `rows[i]`. */
  insert(rows: EventRow[], counts?: (RowCounts | undefined)[]): void {
    const per = RowInserter.#PER_STATEMENT;
    this.#db.exec("BEGIN");
    try {
      const params: (string | number | null)[] = new Array(per * 4);
      let k = 0;
      let first = 0; // index in `rows` of the first row of `params`
      for (let r = 0; r < rows.length; r++) {
        const row = rows[r]!;
        params[k++] = row[0];
        params[k++] = row[1];
        params[k++] = row[2];
        params[k++] = row[3];
        if (k === params.length) {
          const last = Number(this.#many.run(...params).lastInsertRowid);
          this.#storeCounts(counts, first, r + 1, last);
          k = 0;
          first = r + 1;
        }
      }
      for (let i = 0; i < k; i += 4) {
        const id = this.#one.run(params[i]!, params[i + 1]!, params[i + 2]!, params[i + 3]!)
          .lastInsertRowid;
        this.#storeCounts(counts, first + i / 4, first + i / 4 + 1, Number(id));
      }
      this.#db.exec("COMMIT");
    } catch (e) {
      this.#db.exec("ROLLBACK");
      throw e;
    }
    this.written += rows.length;
  }

  /** A ClientSubmit whose text is UTF-8 bytes (or a string). */
  insertSubmit(ts: string, session: number, json: Uint8Array | string, counts: RowCounts): void {
    this.#db.exec("BEGIN");
    try {
      const id = this.#oneText.run(ts, "ClientSubmit", session, json).lastInsertRowid;
      this.#storeCounts([counts], 0, 1, Number(id));
      this.#db.exec("COMMIT");
    } catch (e) {
      this.#db.exec("ROLLBACK");
      throw e;
    }
    this.written++;
  }

  /** Rows `from..to` of a statement whose last row got id `lastId` (ids are consecutive). */
  #storeCounts(
    counts: (RowCounts | undefined)[] | undefined,
    from: number,
    to: number,
    lastId: number,
  ) {
    if (counts === undefined) return;
    for (let r = from; r < to; r++) {
      const c = counts[r];
      if (c === undefined) continue;
      this.#counts.run(lastId - (to - 1 - r), c.tasks ?? 0, c.objects ?? 0, c.failed ?? 0);
    }
  }
}

/** The answer of `POST /events` as JSON text (event texts are not re-parsed). */
export function eventsJson(db: DatabaseSync, criteria: EventCriteria): string {
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
  if (criteria.task !== undefined) {
    // Rows of one task (the `task: [session, id]` field); used with `session`, so the session
    // index narrows the scan.
    where.push(`json_extract(event, '$.task[1]') = ?`);
    params.push(criteria.task);
  }
  const limit = Math.min(criteria.limit ?? MAX_EVENTS, MAX_EVENTS);
  const sql = `SELECT id, timestamp, event FROM events${
    where.length ? ` WHERE ${where.join(" AND ")}` : ""
  } ORDER BY id LIMIT ${limit}`;
  const parts: string[] = [];
  for (const row of db.prepare(sql).iterate(...params)) {
    parts.push(
      `{"id":${row.id},"time":${JSON.stringify(row.timestamp)},"event":${row.event ?? "null"}}`,
    );
  }
  return `[${parts.join(",")}]`;
}

/**
 * `--log-retention DAYS|SIZE` (issue 15): what `events.db` keeps. A closed session goes whole
 * (every row of it and its counts) once it closed more than DAYS days ago, or, with SIZE, the
 * oldest closed sessions go until the log's live data fits SIZE. An open session is never
 * dropped, nor events of no session (clients, governors). Applied when the server starts and
 * then periodically by the writer thread.
 */
import type { DatabaseSync } from "node:sqlite";
import { parseSize } from "../../common/resources.ts";

export interface Retention {
  /** Closed sessions older than this (ms since they closed) are dropped. */
  maxAgeMs?: number;
  /** Oldest closed sessions are dropped while the live data is larger than this (bytes). */
  maxBytes?: number;
}

const DAY_MS = 86_400_000;

/**
 * `30` or `30d` (days, fractions allowed), a size (`500MiB`, `2GB`), or both separated by a
 * comma (`30d,2GiB`: whichever drops more). Throws a message on anything else.
 */
export function parseRetention(text: string): Retention {
  const out: Retention = {};
  for (const part of text.split(",").map((p) => p.trim())) {
    // A bare number is days (a size needs its unit).
    const days = /^(\d+(?:\.\d+)?)\s*d?$/i.exec(part);
    if (days) {
      if (out.maxAgeMs !== undefined) throw new Error("--log-retention: two ages given");
      const n = Number(days[1]);
      if (!(n > 0)) throw new Error(`--log-retention: '${part}' must be more than 0 days`);
      out.maxAgeMs = n * DAY_MS;
      continue;
    }
    let bytes: number;
    try {
      bytes = parseSize(part);
    } catch {
      throw new Error(
        `--log-retention: '${part}' is neither a number of days (e.g. 30 or 30d) nor a size ` +
          "(e.g. 500MiB)",
      );
    }
    if (out.maxBytes !== undefined) throw new Error("--log-retention: two sizes given");
    if (!(bytes >= 64 * 1024)) throw new Error(`--log-retention: '${part}' is below 64 KiB`);
    out.maxBytes = bytes;
  }
  return out;
}

export interface RetentionResult {
  /** Sessions dropped, oldest first. */
  sessions: number[];
  rows: number;
}

/** Bytes of live (non-free) pages of the database. */
export function liveBytes(db: DatabaseSync): number {
  const pages = Number(db.prepare("PRAGMA page_count").get()?.page_count ?? 0);
  const free = Number(db.prepare("PRAGMA freelist_count").get()?.freelist_count ?? 0);
  const size = Number(db.prepare("PRAGMA page_size").get()?.page_size ?? 4096);
  return (pages - free) * size;
}

/** Drops what `retention` says (at `now`, ms since the epoch); one transaction per session. */
export function applyRetention(
  db: DatabaseSync,
  retention: Retention,
  now = Date.now(),
): RetentionResult {
  const result: RetentionResult = { sessions: [], rows: 0 };
  if (retention.maxAgeMs === undefined && retention.maxBytes === undefined) return result;
  // Closed sessions, oldest close first. A session is open while it has no SessionClosed.
  const closed = db.prepare(
    `SELECT session, min(timestamp) AS closed FROM events
       WHERE event_type = 'SessionClosed' AND session IS NOT NULL
       GROUP BY session ORDER BY closed, session`,
  ).all() as { session: number; closed: string }[];
  const dropCounts = db.prepare(
    "DELETE FROM event_counts WHERE id IN (SELECT id FROM events WHERE session = ?)",
  );
  const dropEvents = db.prepare("DELETE FROM events WHERE session = ?");
  const drop = (session: number) => {
    db.exec("BEGIN");
    try {
      dropCounts.run(session);
      result.rows += Number(dropEvents.run(session).changes);
      db.exec("COMMIT");
    } catch (e) {
      db.exec("ROLLBACK");
      throw e;
    }
    result.sessions.push(session);
  };
  const cutoff = retention.maxAgeMs === undefined
    ? undefined
    : new Date(now - retention.maxAgeMs).toISOString();
  let i = 0;
  if (cutoff !== undefined) {
    for (; i < closed.length && closed[i]!.closed < cutoff; i++) drop(closed[i]!.session);
  }
  if (retention.maxBytes !== undefined) {
    for (; i < closed.length && liveBytes(db) > retention.maxBytes; i++) {
      drop(closed[i]!.session);
    }
  }
  return result;
}

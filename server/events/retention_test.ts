import { deepStrictEqual as assertEquals, ok, throws } from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { applyRetention, liveBytes, parseRetention } from "./retention.ts";
import { openStore } from "./store.ts";
import { EventLog } from "./log.ts";

const DAY = 86_400_000;
const NOW = Date.parse("2026-06-01T00:00:00.000Z");

/** A session: created `createdDaysAgo`, closed `closedDaysAgo` (undefined: still open). */
function addSession(
  db: DatabaseSync,
  session: number,
  createdDaysAgo: number,
  closedDaysAgo: number | undefined,
  payload = "",
) {
  const insert = db.prepare(
    "INSERT INTO events (timestamp, event_type, session, event) VALUES (?, ?, ?, ?)",
  );
  const at = (days: number) => new Date(NOW - days * DAY).toISOString();
  insert.run(at(createdDaysAgo), "SessionNew", session, JSON.stringify({ session }));
  const submit = insert.run(
    at(createdDaysAgo),
    "ClientSubmit",
    session,
    JSON.stringify({ session, payload }),
  );
  db.prepare("INSERT INTO event_counts (id, tasks, objects, failed) VALUES (?, 1, 1, 0)")
    .run(submit.lastInsertRowid);
  if (closedDaysAgo !== undefined) {
    insert.run(at(closedDaysAgo), "SessionClosed", session, JSON.stringify({ session }));
  }
}

function sessionsIn(db: DatabaseSync): number[] {
  return db.prepare("SELECT DISTINCT session FROM events WHERE session IS NOT NULL ORDER BY 1")
    .all().map((r) => r.session as number);
}

function withDb(f: (db: DatabaseSync, dir: string) => void | Promise<void>) {
  return async () => {
    const dir = Deno.makeTempDirSync({ prefix: "rain-retention-" });
    const db = new DatabaseSync(join(dir, "events.db"));
    try {
      openStore(db);
      await f(db, dir);
    } finally {
      db.close();
      Deno.removeSync(dir, { recursive: true });
    }
  };
}

Deno.test("parseRetention reads days, sizes and both", () => {
  assertEquals(parseRetention("30"), { maxAgeMs: 30 * DAY });
  assertEquals(parseRetention("1.5d"), { maxAgeMs: 1.5 * DAY });
  assertEquals(parseRetention("500MiB"), { maxBytes: 500 * 2 ** 20 });
  assertEquals(parseRetention("7d, 2GB"), { maxAgeMs: 7 * DAY, maxBytes: 2e9 });
  throws(() => parseRetention("soon"), /neither a number of days .* nor a size/);
  throws(() => parseRetention("0"), /more than 0 days/);
  throws(() => parseRetention("1KiB"), /below 64 KiB/);
  throws(() => parseRetention("1d,2d"), /two ages/);
});

Deno.test(
  "retention by age drops closed sessions older than the limit, never an open one",
  withDb((db) => {
    addSession(db, 1, 50, 40); // closed 40 days ago: goes
    addSession(db, 2, 100, undefined); // open for 100 days: stays
    addSession(db, 3, 12, 10); // closed 10 days ago: stays
    db.prepare("INSERT INTO events (timestamp, event_type, session, event) VALUES (?, ?, ?, ?)")
      .run(new Date(NOW - 90 * DAY).toISOString(), "ClientNew", null, "{}");
    const result = applyRetention(db, parseRetention("30"), NOW);
    assertEquals(result, { sessions: [1], rows: 3 });
    assertEquals(sessionsIn(db), [2, 3]);
    // The dropped submit's counts go with it; the client event of no session stays.
    assertEquals(db.prepare("SELECT count(*) AS n FROM event_counts").get()?.n, 2);
    assertEquals(
      db.prepare("SELECT count(*) AS n FROM events WHERE session IS NULL").get()?.n,
      1,
    );
  }),
);

Deno.test(
  "retention by size drops the oldest closed sessions until the log fits",
  withDb((db) => {
    const big = "x".repeat(200_000);
    addSession(db, 1, 9, 3, big); // closed last but one
    addSession(db, 2, 9, 8, big); // closed first
    addSession(db, 3, 9, undefined, big); // open
    addSession(db, 4, 9, 1, big); // closed last
    const before = liveBytes(db);
    ok(before > 800_000, String(before));
    const limit = before - 100_000; // less than one session (200 kB) must go: exactly one
    const result = applyRetention(db, { maxBytes: limit }, NOW);
    assertEquals(result.sessions, [2]);
    ok(liveBytes(db) <= limit);
    // Far below what the open session alone needs: every closed one goes, the open one stays.
    assertEquals(applyRetention(db, { maxBytes: 64 * 1024 }, NOW).sessions, [1, 4]);
    assertEquals(sessionsIn(db), [3]);
  }),
);

Deno.test("the event log applies --log-retention at open and then periodically", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "rain-retention-" });
  const path = join(dir, "events.db");
  const now = Date.now();
  const addClosed = (session: number, closedAt: number) => {
    const db = new DatabaseSync(path);
    try {
      openStore(db);
      const insert = db.prepare(
        "INSERT INTO events (timestamp, event_type, session, event) VALUES (?, ?, ?, ?)",
      );
      insert.run(new Date(closedAt - DAY).toISOString(), "SessionNew", session, "{}");
      insert.run(new Date(closedAt).toISOString(), "SessionClosed", session, "{}");
    } finally {
      db.close();
    }
  };
  const sessions = () => {
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      return sessionsIn(db);
    } finally {
      db.close();
    }
  };
  try {
    addClosed(1, now - 40 * DAY);
    addClosed(2, now - DAY);
    let dropped: (sessions: number[]) => void = () => {};
    const droppedLater = new Promise<number[]>((resolve) => dropped = resolve);
    const log = EventLog.open(dir, {
      retention: parseRetention("30"),
      retentionIntervalMs: 20,
      onDropped: (s) => dropped(s),
    });
    try {
      assertEquals(sessions(), [2]); // dropped at open
      addClosed(3, now - 31 * DAY); // an old closed session appears: the next pass drops it
      assertEquals(await droppedLater, [3]);
      assertEquals(sessions(), [2]);
    } finally {
      await log.close();
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

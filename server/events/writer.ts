/**
 * The event log's writer thread (a Worker; started by log.ts from writer.gen.ts, the bundle of
 * this module: `deno task workers`). It owns the database: every batch is inserted in one
 * transaction and `POST /events` is answered here, so SQLite never runs on the server's thread.
 * Requests are handled strictly in arrival order, so a query sees every event posted before it.
 */
import { DatabaseSync } from "node:sqlite";
import { serveRpc } from "../../common/worker_rpc.ts";
import type { EventCriteria } from "./criteria.ts";
import { decodeColumns, IsoClock, type RowColumns } from "./rows.ts";
import { eventsJson, RowInserter } from "./store.ts";
import { applyRetention, type Retention, type RetentionResult } from "./retention.ts";
import { type SubmitMessage, submitRowJson } from "./submit_json.ts";
import { type CompactSubmitMessage, compactSubmitRowJson } from "./submit_columns.ts";

/** The writer's protocol (see common/worker_rpc.ts). */
export type WriterProtocol = {
  open: { arg: { path: string }; result: null };
  /** Task and other events as columns (rows.ts). */
  batch: { arg: RowColumns; result: null };
  /** A submit with its raw header (parsed here, off the server's thread) … */
  submit: { arg: SubmitMessage; result: null };
  /** … or, without one (a compact body), its plan as columns (submit_columns.ts). */
  compactSubmit: { arg: CompactSubmitMessage; result: null };
  /** Answered once every earlier request is written: rows written so far. */
  sync: { arg: null; result: number };
  query: { arg: EventCriteria; result: string };
  /** `--log-retention`, applied now. */
  retain: { arg: Retention; result: RetentionResult };
  close: { arg: null; result: number };
};

let inserter: RowInserter | undefined;
let db: DatabaseSync | undefined;
/** The first failure: later writes are dropped (the server keeps running without its log). */
let failure: Error | undefined;
const clock = new IsoClock();

/**
 * Written rows reach events.db itself (out of the WAL) this long after a write at most, so a
 * copy of events.db alone holds the log (but for its last seconds) while the server runs.
 */
const CHECKPOINT_MS = 2000;
let checkpointTimer: ReturnType<typeof setTimeout> | undefined;

/** PASSIVE: never waits for a reader (a `rain dashboard` reading the log as it grows). */
function checkpoint(mode: "PASSIVE" | "TRUNCATE"): void {
  clearTimeout(checkpointTimer);
  checkpointTimer = undefined;
  try {
    db?.exec(`PRAGMA wal_checkpoint(${mode})`);
  } catch { /* busy: the next one catches up */ }
}

function writing(write: (into: RowInserter) => void): null {
  if (failure) throw failure;
  if (!inserter) throw new Error("the event log is not open");
  try {
    write(inserter);
  } catch (e) {
    failure = e instanceof Error ? e : new Error(String(e));
    throw failure;
  }
  checkpointTimer ??= setTimeout(() => checkpoint("PASSIVE"), CHECKPOINT_MS);
  return null;
}

serveRpc<WriterProtocol>({
  open({ path }) {
    db = new DatabaseSync(path);
    inserter = new RowInserter(db);
    return null;
  },
  batch: (columns) =>
    writing((into) => {
      const { rows, counts } = decodeColumns(columns, clock);
      into.insert(rows, counts);
    }),
  submit: (m) =>
    writing((into) =>
      into.insertSubmit(m.ts, m.session, submitRowJson(m), {
        tasks: m.taskCount,
        objects: m.objects.ids.length,
      })
    ),
  compactSubmit: (m) =>
    writing((into) =>
      into.insertSubmit(m.ts, m.session, compactSubmitRowJson(m), {
        tasks: m.tasks.ids.length,
        objects: m.objects.ids.length,
      })
    ),
  sync: () => inserter?.written ?? 0,
  query(criteria) {
    if (!db) throw new Error("the event log is not open");
    return eventsJson(db, criteria);
  },
  retain(retention) {
    if (!db) throw new Error("the event log is not open");
    return applyRetention(db, retention);
  },
  close() {
    const written = inserter?.written ?? 0;
    // events.db self-contained, its WAL emptied, whoever else has it open.
    checkpoint("TRUNCATE");
    try {
      db?.close();
    } catch { /* closed */ }
    db = inserter = undefined;
    return written;
  },
});

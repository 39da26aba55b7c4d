/**
 * The server's journal (`<logdir>/journal/`): what a restarted server needs to rebuild its open
 * sessions (docs/guide/server-restart.md). Records are JSON lines appended to `log.jsonl` in
 * batches (every `FLUSH_MS`, one write, no fsync: a crash of the process loses nothing written);
 * a submit's body is kept as received in `submits/<n>.body` and, with its record, fsynced before
 * the client is told it was accepted (`durable()`). `FORMAT` names the layout; another one is
 * refused with a clear error.
 */
import { join } from "node:path";
import { createHash } from "node:crypto";
import { DatabaseSync } from "node:sqlite";
import { Logger } from "../../common/log.ts";
import { decodeLine, type JournalRecord } from "./records.ts";

const log = new Logger("server.journal");

export const JOURNAL_DIR = "journal";
export const JOURNAL_FORMAT = "rain-journal 1";
const LOG_FILE = "log.jsonl";
const SUBMITS_DIR = "submits";
/** Batched writes: at most this long between a state change and its record on disk. */
export const FLUSH_MS = 20;

/** A journal that cannot be used (another format, an older log dir): the server refuses to start. */
export class JournalError extends Error {}

/** A submit body saved as received. */
export interface SavedBody {
  /** File name under `submits/`. */
  name: string;
  path: string;
  /** SHA-1 of the bytes (hex): a resent submit has the same (idempotence). */
  digest: string;
  size: number;
}

export class Journal {
  readonly dir: string;
  /** The records found at open (a crashed server's), in order; emptied by `forget()`. */
  records: JournalRecord[];
  #file: Deno.FsFile;
  #pending: string[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #nextBody: number;
  #syncing: Promise<void> | undefined;
  #syncAgain = false;
  #closed = false;
  /** Told after each batch is written (governors' results are acknowledged then). */
  onWritten: (() => void) | undefined;

  private constructor(dir: string, records: JournalRecord[], nextBody: number) {
    this.dir = dir;
    this.records = records;
    this.#nextBody = nextBody;
    this.#file = Deno.openSync(join(dir, LOG_FILE), { append: true, create: true, mode: 0o600 });
  }

  /**
   * Opens `<logDir>/journal` (created if missing). `fresh`: the old state is discarded. Throws
   * `JournalError` for a journal of another format, or a log dir of an older Rain whose event
   * log has sessions left open that no journal can restore.
   */
  static open(logDir: string, options: { fresh?: boolean } = {}): Journal {
    const dir = join(logDir, JOURNAL_DIR);
    let format = readFormat(dir);
    let ids = { session: 1, client: 1 };
    if (options.fresh) {
      // Numbering goes on: a governor still holding data of an old session must not mistake
      // a new session for it.
      if (format === JOURNAL_FORMAT) ids = nextIds(readRecords(join(dir, LOG_FILE)));
      try {
        Deno.removeSync(dir, { recursive: true });
      } catch { /* none yet */ }
      format = undefined;
    }
    if (format === undefined) {
      if (!options.fresh) checkNoOlderState(logDir);
      Deno.mkdirSync(join(dir, SUBMITS_DIR), { recursive: true, mode: 0o700 });
      Deno.writeTextFileSync(join(dir, "FORMAT"), JOURNAL_FORMAT + "\n", { mode: 0o600 });
    } else if (format !== JOURNAL_FORMAT) {
      throw new JournalError(
        `the log dir ${logDir} holds a journal of format '${format.slice(0, 60)}', this server ` +
          `reads '${JOURNAL_FORMAT}': its sessions cannot be restored. Start with --fresh to ` +
          `discard them, or use another --logdir`,
      );
    }
    const records = readRecords(join(dir, LOG_FILE));
    let nextBody = 0;
    const journaled = new Set<string>();
    for (const r of records) {
      if (r.k !== "submit") continue;
      journaled.add(r.body);
      nextBody = Math.max(nextBody, parseInt(r.body, 10) + 1);
    }
    // A body no record names was being received when the server died: it was never applied
    // (nor answered), and its name is given out again.
    for (const entry of Deno.readDirSync(join(dir, SUBMITS_DIR))) {
      if (!journaled.has(entry.name.replace(/\.body$/, ""))) {
        Deno.removeSync(join(dir, SUBMITS_DIR, entry.name), { recursive: true });
      }
    }
    const journal = new Journal(dir, records, nextBody);
    const found = nextIds(records);
    journal.nextSessionId = Math.max(ids.session, found.session);
    journal.nextClientId = Math.max(ids.client, found.client);
    if (options.fresh) journal.append({ k: "ids", ...ids });
    return journal;
  }

  /** First session and client ids no record of the journal used. */
  nextSessionId = 1;
  nextClientId = 1;

  /** Queues a record; written within `FLUSH_MS`. */
  append(record: JournalRecord): void {
    this.appendLine(JSON.stringify(record));
  }

  /** Queues a line already encoded (records.ts `compactDone`). */
  appendLine(line: string): void {
    if (this.#closed) return;
    this.#pending.push(line);
    this.#timer ??= setTimeout(this.#flushTimer, FLUSH_MS);
  }

  #flushTimer = (): void => {
    this.#timer = undefined;
    this.flush();
  };

  /** Writes what is queued now (no fsync). */
  flush(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#pending.length === 0 || this.#closed) return;
    const text = this.#pending.join("\n") + "\n";
    this.#pending = [];
    writeAll(this.#file, new TextEncoder().encode(text));
    this.onWritten?.();
  }

  /** Resolves once every record appended so far is on stable storage (fsync). */
  async durable(): Promise<void> {
    this.flush();
    if (this.#closed) return;
    // Group commit: records appended while a sync runs share the next one.
    while (this.#syncing) {
      this.#syncAgain = true;
      await this.#syncing;
    }
    this.#syncAgain = false;
    this.#syncing = this.#file.syncData().finally(() => this.#syncing = undefined);
    await this.#syncing;
  }

  /** Saves a submit body as received (fsynced), hashing it on the way. */
  async saveBody(body: ReadableStream<Uint8Array>): Promise<SavedBody> {
    const name = String(this.#nextBody++);
    const path = join(this.dir, SUBMITS_DIR, `${name}.body`);
    // SHA-1: it tells a resent body from another, among bodies of one session's own client
    // (no adversary to resist), at a third of SHA-256's cost on a big submit.
    const hash = createHash("sha1");
    let size = 0;
    const file = await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
    try {
      for await (const chunk of body) {
        hash.update(chunk);
        size += chunk.length;
        let written = 0;
        while (written < chunk.length) written += await file.write(chunk.subarray(written));
      }
      await file.syncData();
    } catch (e) {
      file.close();
      await Deno.remove(path).catch(() => {});
      throw e;
    }
    file.close();
    syncDirectory(join(this.dir, SUBMITS_DIR));
    return { name, path, digest: hash.digest("hex"), size };
  }

  bodyPath(name: string): string {
    return join(this.dir, SUBMITS_DIR, `${name}.body`);
  }

  removeBody(name: string): void {
    Deno.remove(this.bodyPath(name)).catch(() => {});
  }

  /**
   * Nothing is open any more: the log starts again empty (so it grows only with the sessions
   * open at a time, not with the server's whole life).
   */
  reset(): void {
    if (this.#closed) return;
    this.#pending = [];
    this.#file.truncateSync(0);
    this.records = [];
    for (const entry of Deno.readDirSync(join(this.dir, SUBMITS_DIR))) {
      try {
        Deno.removeSync(join(this.dir, SUBMITS_DIR, entry.name));
      } catch (e) {
        // A body whose removal (removeBody, asynchronous) was already under way.
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
    }
  }

  /** Writes what is pending and closes (`clean`: an orderly stop, nothing is left to restore). */
  close(clean: boolean): void {
    if (this.#closed) return;
    if (clean) this.reset();
    else this.flush();
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#file.close();
  }
}

function readFormat(dir: string): string | undefined {
  try {
    return Deno.readTextFileSync(join(dir, "FORMAT")).trim();
  } catch {
    return undefined;
  }
}

/** The first ids the records leave unused. */
function nextIds(records: JournalRecord[]): { session: number; client: number } {
  let session = 1;
  let client = 1;
  for (const r of records) {
    if (r.k === "session") session = Math.max(session, r.id + 1);
    else if (r.k === "client") client = Math.max(client, r.id + 1);
    else if (r.k === "ids") {
      session = Math.max(session, r.session);
      client = Math.max(client, r.client);
    }
  }
  return { session, client };
}

function writeAll(file: Deno.FsFile, data: Uint8Array): void {
  let written = 0;
  while (written < data.length) written += file.writeSync(data.subarray(written));
}

/** A new file's directory entry is durable only once its directory is synced. */
function syncDirectory(path: string): void {
  try {
    const dir = Deno.openSync(path, { read: true });
    try {
      dir.syncSync();
    } finally {
      dir.close();
    }
  } catch (e) {
    log.debug(`cannot sync directory ${path}: ${(e as Error).message}`);
  }
}

/** The records of `log.jsonl`; a torn last line (a crash in the middle of a write) is dropped. */
function readRecords(path: string): JournalRecord[] {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch {
    return [];
  }
  const lines = text.split("\n");
  const records: JournalRecord[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === "") continue;
    try {
      records.push(decodeLine(line));
    } catch (e) {
      if (i >= lines.length - 2) break; // the torn end of the last write
      throw new JournalError(`journal ${path}, line ${i + 1} is damaged: ${(e as Error).message}`);
    }
  }
  return records;
}

/**
 * A log dir of an older Rain (an event log, no journal) with sessions a crashed server left
 * open: those cannot be restored, and closing them silently would hide it.
 */
function checkNoOlderState(logDir: string): void {
  const eventsDb = join(logDir, "events.db");
  try {
    Deno.statSync(eventsDb);
  } catch {
    return;
  }
  let open = 0;
  try {
    const db = new DatabaseSync(eventsDb, { readOnly: true });
    try {
      const row = db.prepare(
        `SELECT count(*) AS n FROM events WHERE event_type = 'SessionNew' AND session NOT IN
           (SELECT session FROM events WHERE event_type = 'SessionClosed' AND session IS NOT NULL)`,
      ).get();
      open = Number(row?.n ?? 0);
    } finally {
      db.close();
    }
  } catch {
    return; // not an event log this server can read: events.ts reports that
  }
  if (open > 0) {
    throw new JournalError(
      `the log dir ${logDir} was written by an older Rain (an event log, no journal): its ` +
        `${open} session(s) left open cannot be restored. Start with --fresh to close them, or ` +
        `use another --logdir`,
    );
  }
}

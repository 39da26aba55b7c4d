/**
 * What the journal records (journal.ts) and how reactor events become records: `JournalSink` is
 * an `EventSink` beside the event log, so the reactor reports each state change once. Client
 * commands that events do not describe exactly (submit, cancel, rerun_failed) are appended by
 * the client API itself (`command`).
 */
import type { JsonValue, TaskInfo } from "../../common/attributes.ts";
import type { ClientId, GovernorId, Id, SessionId } from "../../common/ids.ts";
import type { EventSink, PendingEvent } from "../events/event.ts";
import type { Journal, SavedBody } from "./journal.ts";

export type JournalRecord =
  | { k: "client"; id: ClientId }
  | { k: "client-"; id: ClientId }
  | { k: "session"; id: SessionId; client: ClientId | null; spec: Record<string, unknown> }
  /** Closed by its client, or failed (`Error`: it stays open, failed, until closed). */
  | { k: "closed"; s: SessionId; reason: "ClientClose" | "Error"; msg: string }
  /** A submit, its body as received (`submits/<body>.body`, `type` its content type). */
  | { k: "submit"; s: SessionId; body: string; type?: string; digest: string }
  | { k: "unkeep"; s: SessionId; objects: number[] }
  | {
    k: "done";
    s: SessionId;
    t: number;
    info: Readonly<TaskInfo>;
    out: { id: Id; size: number; info?: Record<string, JsonValue> }[];
  }
  /** A task ended without result (its own failure in a "continue" session, a dependent's). */
  | { k: "failed"; s: SessionId; t: number; info: Readonly<TaskInfo> }
  | { k: "cancel"; s: SessionId; tasks: number[] }
  | { k: "rerun_failed"; s: SessionId }
  | { k: "gov"; id: GovernorId }
  | { k: "gov-"; id: GovernorId }
  /** The next session and client ids (numbering continues over a journal started again). */
  | { k: "ids"; session: SessionId; client: ClientId };

/** What is connected now, re-recorded when the journal starts again empty. */
export interface JournalSnapshot {
  clients(): Iterable<ClientId>;
  governors(): Iterable<GovernorId>;
  nextIds(): { session: SessionId; client: ClientId };
  /** Sessions open (failed ones too, until closed). */
  openSessions(): number;
}

/** Characters that need no escaping in a JSON string (governor ids, ISO times). */
const PLAIN = /^[\w.:+\-\[\]]*$/;

/**
 * The common finish (info = governor, start time, duration; outputs without info of their own) as
 * a JSON array `["D", s, t, governor, start_time, duration, id, size, …]`: built without
 * `JSON.stringify` of nested objects, the journal's main cost per task (see `decodeLine`).
 */
function compactDone(
  session: SessionId,
  task: number,
  info: Readonly<TaskInfo>,
  outputs: { id: Id; size: number; info?: Record<string, JsonValue> }[],
): string | undefined {
  const { governor, start_time, duration } = info;
  if (
    typeof governor !== "string" || typeof start_time !== "string" ||
    typeof duration !== "number" || !Number.isFinite(duration) ||
    Object.keys(info).length !== 3 || !PLAIN.test(governor) || !PLAIN.test(start_time)
  ) return undefined;
  let line = `["D",${session},${task},"${governor}","${start_time}",${duration}`;
  for (const o of outputs) {
    if (o.info !== undefined && Object.keys(o.info).length > 0) return undefined;
    line += `,${o.id[1]},${o.size}`;
  }
  return line + "]";
}

/** A line of the journal as its record (a compact finish is expanded). */
export function decodeLine(line: string): JournalRecord {
  const value = JSON.parse(line);
  if (!Array.isArray(value)) return value as JournalRecord;
  const [, s, t, governor, start_time, duration, ...sizes] = value as [
    string,
    number,
    number,
    string,
    string,
    number,
    ...number[],
  ];
  const out: { id: Id; size: number }[] = [];
  for (let i = 0; i + 1 < sizes.length; i += 2) {
    out.push({ id: [s, sizes[i]!], size: sizes[i + 1]! });
  }
  return { k: "done", s, t, info: { governor, start_time, duration }, out };
}

export class JournalSink implements EventSink {
  readonly journal: Journal;
  /** Per open session: digests of the submit bodies applied (a resent one is recognised). */
  readonly #digests = new Map<SessionId, Set<string>>();
  /** Per open session: its submit bodies (removed when it closes). */
  readonly #bodies = new Map<SessionId, string[]>();
  #snapshot: JournalSnapshot | undefined;

  constructor(journal: Journal) {
    this.journal = journal;
  }

  /** Where connected clients and governors are found when the journal starts again. */
  set snapshot(snapshot: JournalSnapshot) {
    this.#snapshot = snapshot;
  }

  push(event: PendingEvent): void {
    const j = this.journal;
    switch (event.type) {
      case "ClientNew":
        return j.append({ k: "client", id: event.client });
      case "ClientRemoved":
        j.append({ k: "client-", id: event.client });
        // A failed session closed by its client leaves no event: seen here at the latest.
        if (this.#snapshot?.openSessions() === 0) this.#startAgain();
        return;
      case "GovernorNew":
        return j.append({ k: "gov", id: event.governor });
      case "GovernorRemoved":
        return j.append({ k: "gov-", id: event.governor });
      case "SessionNew":
        this.#digests.set(event.session, new Set());
        return j.append({
          k: "session",
          id: event.session,
          client: event.client,
          spec: event.spec,
        });
      case "SessionClosed":
        if (event.reason === "ServerLost") return;
        j.append({ k: "closed", s: event.session, reason: event.reason, msg: event.message });
        if (event.reason === "ClientClose") this.#sessionGone(event.session);
        return;
      case "ClientUnkeep":
        return j.append({ k: "unkeep", s: event.session, objects: event.objects });
      case "TaskFinished":
        if (event.outputs !== undefined) {
          const line = compactDone(event.session, event.task, event.info, event.outputs);
          if (line !== undefined) return j.appendLine(line);
          return j.append({
            k: "done",
            s: event.session,
            t: event.task,
            info: event.info,
            out: event.outputs,
          });
        }
        return j.append({ k: "failed", s: event.session, t: event.task, info: event.info });
      default:
        return;
    }
  }

  /** A command of the client API, recorded before it is applied. */
  command(record: Extract<JournalRecord, { k: "cancel" | "rerun_failed" }>): void {
    this.journal.append(record);
  }

  /** Whether this exact submit body was applied to the session already (a resend). */
  applied(session: SessionId, body: SavedBody): boolean {
    return this.#digests.get(session)?.has(body.digest) ?? false;
  }

  /**
   * Records an accepted submit; resolves once it is durable (the client may be told then).
   */
  submitted(session: SessionId, body: SavedBody, contentType?: string): Promise<void> {
    this.noteSubmit(session, body.name, body.digest);
    this.journal.append({
      k: "submit",
      s: session,
      body: body.name,
      digest: body.digest,
      ...(contentType === undefined ? {} : { type: contentType }),
    });
    return this.journal.durable();
  }

  /** A submit of the session, applied now or restored. */
  noteSubmit(session: SessionId, body: string, digest: string): void {
    let digests = this.#digests.get(session);
    if (!digests) this.#digests.set(session, digests = new Set());
    digests.add(digest);
    const bodies = this.#bodies.get(session);
    if (bodies) bodies.push(body);
    else this.#bodies.set(session, [body]);
  }

  #sessionGone(session: SessionId): void {
    this.#digests.delete(session);
    for (const body of this.#bodies.get(session) ?? []) this.journal.removeBody(body);
    this.#bodies.delete(session);
    if ((this.#snapshot?.openSessions() ?? this.#digests.size) === 0) this.#startAgain();
  }

  /** No session is open: the journal starts again with what is connected. */
  #startAgain(): void {
    this.journal.reset();
    this.#digests.clear();
    this.#bodies.clear();
    const snapshot = this.#snapshot;
    if (!snapshot) return;
    this.journal.append({ k: "ids", ...snapshot.nextIds() });
    for (const id of snapshot.clients()) this.journal.append({ k: "client", id });
    for (const id of snapshot.governors()) this.journal.append({ k: "gov", id });
  }
}

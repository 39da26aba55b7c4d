/** The criteria of `POST /events` (reference §4) and the errors of the event views. */

export class QueryError extends Error {
  constructor(readonly status: 400 | 404, message: string) {
    super(message);
  }
}

const MODES = ["=", "<", ">", "<=", ">="] as const;
export type Mode = typeof MODES[number];
export interface Criterion<T> {
  value: T;
  mode: Mode;
}
/** The body of `POST /events` (reference §4); `limit` is an extension. */
export interface EventCriteria {
  id?: Criterion<number>;
  event_types?: Criterion<string>[];
  session?: Criterion<number>;
  /** Extension: rows whose `task` is `[session, task]` (with `session`: task ids are per session). */
  task?: number;
  limit?: number;
}

/** Rows per `/events` answer at most (page with `id > last`). */
export const MAX_EVENTS = 100_000;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function criterion<T>(v: unknown, what: string, check: (x: unknown) => x is T): Criterion<T> {
  if (!isRecord(v)) throw new QueryError(400, `${what} must be {"value": ..., "mode": ...}`);
  const mode = v.mode ?? "=";
  if (!MODES.includes(mode as Mode)) {
    throw new QueryError(400, `${what}.mode must be one of ${MODES.join(" ")}`);
  }
  if (!check(v.value)) throw new QueryError(400, `${what}.value has the wrong type`);
  return { value: v.value, mode: mode as Mode };
}

const isInt = (x: unknown): x is number => Number.isSafeInteger(x);
const isString = (x: unknown): x is string => typeof x === "string";

/** Checks a `POST /events` body. */
export function parseCriteria(body: unknown): EventCriteria {
  if (body === undefined || body === null) return {};
  if (!isRecord(body)) throw new QueryError(400, "the criteria must be a JSON object");
  const out: EventCriteria = {};
  if (body.id !== undefined && body.id !== null) out.id = criterion(body.id, "id", isInt);
  if (body.session !== undefined && body.session !== null) {
    out.session = criterion(body.session, "session", isInt);
  }
  if (body.event_types !== undefined && body.event_types !== null) {
    if (!Array.isArray(body.event_types)) {
      throw new QueryError(400, "event_types must be an array of criteria");
    }
    out.event_types = body.event_types.map((c, i) =>
      criterion(typeof c === "string" ? { value: c } : c, `event_types[${i}]`, isString)
    );
  }
  if (body.task !== undefined && body.task !== null) {
    if (!isInt(body.task)) throw new QueryError(400, "task must be an integer (a task id)");
    out.task = body.task;
  }
  if (body.limit !== undefined && body.limit !== null) {
    if (!isInt(body.limit) || body.limit < 1) {
      throw new QueryError(400, "limit must be a positive integer");
    }
    out.limit = body.limit;
  }
  return out;
}

/**
 * Tasks' printed output (issue 17), read back from the event log's `TaskOutput` rows: one task's
 * (`task.logs()`, `rain logs`, the dashboard inspector) and a session's since a row id (the
 * client's live echo). Served on the client port and on the monitoring port alike, from the live
 * log or from an old `events.db` (post-mortem).
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { API_PREFIX } from "../../common/messages.ts";
import { QueryError } from "./criteria.ts";
import type { EventSource } from "./source.ts";

/** One task's output: its latest attempt that printed something ("" when nothing was printed). */
export interface TaskOutputView {
  session: number;
  task: number;
  /** The task's state in the log (`waiting`, `running`, `finished`, `failed`). */
  state: string;
  /** The attempt the output is of (null: no attempt printed anything). */
  attempt: number | null;
  /** Attempts that printed something. */
  attempts: number;
  stdout: string;
  stderr: string;
}

/** A session's `TaskOutput` rows after row `after`; `next` is the cursor for the next page. */
export interface OutputsPage {
  outputs: { task: number; attempt: number; stdout: string; stderr: string }[];
  next: number;
}

/** Rows per page of a session's outputs. */
const PAGE_ROWS = 1000;

interface OutputRow {
  id: number;
  event: { task: [number, number]; attempt?: number; stdout?: string; stderr?: string };
}

async function outputRows(
  source: EventSource,
  session: number,
  more: { task?: number; after?: number; limit?: number },
): Promise<OutputRow[]> {
  await source.sync?.();
  const json = await source.events({
    session: { value: session, mode: "=" },
    event_types: [{ value: "TaskOutput", mode: "=" }],
    ...(more.after === undefined ? {} : { id: { value: more.after, mode: ">" } }),
    ...(more.task === undefined ? {} : { task: more.task }),
    ...(more.limit === undefined ? {} : { limit: more.limit }),
  });
  return JSON.parse(json) as OutputRow[];
}

export async function taskOutputView(
  source: EventSource,
  session: number,
  task: number,
): Promise<TaskOutputView> {
  const rows = await outputRows(source, session, { task });
  let known: { state: string } | undefined;
  try {
    known = (await source.sessionView(session)).detail.tasks.get(task);
  } catch (e) {
    // A live session whose details left the server's memory still has its output rows.
    if (!(e instanceof QueryError) || rows.length === 0) throw e;
  }
  if (known === undefined && rows.length === 0) {
    throw new QueryError(404, `task ${session}/${task} is not in the event log`);
  }
  const last = rows.at(-1)?.event;
  return {
    session,
    task,
    state: known?.state ?? "finished",
    attempt: last === undefined ? null : last.attempt ?? 1,
    attempts: rows.length,
    stdout: last?.stdout ?? "",
    stderr: last?.stderr ?? "",
  };
}

export async function sessionOutputs(
  source: EventSource,
  session: number,
  after: number,
): Promise<OutputsPage> {
  const rows = await outputRows(source, session, { after, limit: PAGE_ROWS });
  return {
    outputs: rows.map(({ event: e }) => ({
      task: e.task[1],
      attempt: e.attempt ?? 1,
      stdout: e.stdout ?? "",
      stderr: e.stderr ?? "",
    })),
    next: rows.at(-1)?.id ?? after,
  };
}

function nonNegativeInt(raw: string | undefined, name: string): number {
  if (raw === undefined || raw === "") return 0;
  if (!/^\d+$/.test(raw)) throw new QueryError(400, `${name} must be an integer, got '${raw}'`);
  return Number(raw);
}

/**
 * `GET /api/v1/sessions/<sid>/tasks/<id>/output` and `GET /api/v1/sessions/<sid>/output?after=`
 * (docs/protocol.md); without a source (log off) both answer 404 saying so.
 */
export function taskOutputApi(source: EventSource | undefined): Hono {
  const app = new Hono();
  const answer = (f: (c: Context, s: EventSource) => Promise<unknown>) => async (c: Context) => {
    try {
      if (!source) {
        throw new QueryError(
          404,
          "task output is kept in the event log, which is off (RAIN_EVENT_LOG=0)",
        );
      }
      await source.refresh();
      return c.json(await f(c, source) as object);
    } catch (e) {
      if (e instanceof QueryError) {
        const kind = e.status === 404 ? "NotFound" : "BadRequest";
        return c.json({ error: { kind, message: e.message } }, e.status);
      }
      const message = e instanceof Error ? e.message : String(e);
      return c.json({ error: { kind: "Internal", message } }, 500);
    }
  };
  app.get(
    `${API_PREFIX}/sessions/:sid/tasks/:id/output`,
    answer((c, s) =>
      taskOutputView(
        s,
        nonNegativeInt(c.req.param("sid"), "session"),
        nonNegativeInt(c.req.param("id"), "task"),
      )
    ),
  );
  app.get(
    `${API_PREFIX}/sessions/:sid/output`,
    answer((c, s) =>
      sessionOutputs(
        s,
        nonNegativeInt(c.req.param("sid"), "session"),
        nonNegativeInt(c.req.query("after"), "after"),
      )
    ),
  );
  return app;
}

/**
 * `POST /events` and the `GET /api/v1/...` views of docs/events.md, CORS `*`, answered from an
 * EventSource (live.ts or post_mortem.ts) through views.ts. Without a source (event log off) the
 * lists are empty and session views answer 404.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { cors } from "hono/cors";
import { API_PREFIX } from "../../common/messages.ts";
import { parseCriteria, QueryError } from "./criteria.ts";
import type { EventSource } from "./source.ts";
import { taskOutputApi } from "./task_output.ts";
import {
  governorsView,
  monitoringView,
  sessionsView,
  summaryView,
  taskGraphView,
  taskGroupsView,
  taskStreamView,
  taskView,
  transfersView,
} from "./views.ts";

function numberParam(c: Context, name: string): number | undefined {
  const raw = c.req.query(name);
  if (raw === undefined || raw === "") return undefined;
  const v = Number(raw);
  if (!Number.isFinite(v)) throw new QueryError(400, `${name} must be a number, got '${raw}'`);
  return v;
}

function timeParam(c: Context, name: string): number | undefined {
  const raw = c.req.query(name);
  if (raw === undefined || raw === "") return undefined;
  const v = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(v)) {
    throw new QueryError(400, `${name} must be RFC 3339 or epoch milliseconds, got '${raw}'`);
  }
  return v;
}

function intParam(c: Context, name: string): number {
  const raw = c.req.param(name) ?? "";
  if (!/^\d+$/.test(raw)) throw new QueryError(400, `${name} must be an integer, got '${raw}'`);
  return Number(raw);
}

function errorJson(c: Context, e: unknown): Response {
  if (e instanceof QueryError) {
    return c.json({
      error: { kind: e.status === 404 ? "NotFound" : "BadRequest", message: e.message },
    }, e.status);
  }
  const message = e instanceof Error ? e.message : String(e);
  return c.json({ error: { kind: "Internal", message } }, 500);
}

export function eventsApi(source: EventSource | undefined): Hono {
  const app = new Hono();
  app.use("/events", cors());
  app.use(`${API_PREFIX}/*`, cors());
  const off = () => new QueryError(404, "the event log is off (RAIN_EVENT_LOG=0)");
  const get = (
    path: string,
    answer: (c: Context, s: EventSource) => unknown,
    empty?: unknown,
  ) =>
    app.get(path, async (c) => {
      try {
        if (!source) {
          if (empty !== undefined) return c.json(empty);
          throw off();
        }
        await source.refresh();
        return c.json(await answer(c, source) as object);
      } catch (e) {
        return errorJson(c, e);
      }
    });
  /** A view of one session (`:sid`). */
  const session = (c: Context, s: EventSource) => s.sessionView(intParam(c, "sid"));

  app.post("/events", async (c) => {
    try {
      const text = await c.req.text();
      let body: unknown;
      try {
        body = text.trim() === "" ? {} : JSON.parse(text);
      } catch (e) {
        throw new QueryError(400, `the criteria are not valid JSON: ${(e as Error).message}`);
      }
      const criteria = parseCriteria(body);
      const json = source ? await source.events(criteria) : "[]";
      return c.body(json, 200, { "content-type": "application/json" });
    } catch (e) {
      return errorJson(c, e);
    }
  });
  get(`${API_PREFIX}/sessions`, (_c, s) => sessionsView(s.model), []);
  get(`${API_PREFIX}/governors`, (_c, s) => governorsView(s.model), []);
  get(
    `${API_PREFIX}/monitoring`,
    async (c, s) =>
      monitoringView(
        await s.monitoring(
          c.req.query("governor") || undefined,
          timeParam(c, "from"),
          timeParam(c, "to"),
        ),
      ),
    { governors: [] },
  );
  get(`${API_PREFIX}/sessions/:sid/summary`, async (c, s) => summaryView(await session(c, s)));
  get(
    `${API_PREFIX}/sessions/:sid/task_groups`,
    async (c, s) => taskGroupsView(await session(c, s)),
  );
  get(`${API_PREFIX}/sessions/:sid/task_stream`, async (c, s) => {
    const limit = numberParam(c, "limit");
    const from = numberParam(c, "from");
    const to = numberParam(c, "to");
    return taskStreamView(
      s.model,
      await session(c, s),
      from,
      to,
      limit === undefined ? undefined : Math.max(1, Math.floor(limit)),
    );
  });
  get(
    `${API_PREFIX}/sessions/:sid/task_graph`,
    async (c, s) =>
      taskGraphView(await session(c, s), ["1", "true"].includes(c.req.query("tasks") ?? "")),
  );
  app.route("/", taskOutputApi(source));
  get(`${API_PREFIX}/sessions/:sid/tasks/:id`, async (c, s) => {
    const id = intParam(c, "id");
    return taskView(await session(c, s), id);
  });
  get(`${API_PREFIX}/sessions/:sid/transfers`, async (c, s) => {
    const from = numberParam(c, "from");
    const to = numberParam(c, "to");
    return transfersView(await session(c, s), from, to);
  });
  return app;
}

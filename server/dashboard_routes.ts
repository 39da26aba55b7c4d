/**
 * The dashboard on the monitoring port (`--http-listen`): the page and its assets (embedded in
 * the program by dashboard/assets.gen.ts, so it works from source, bundled and compiled), plus
 * what the dashboard needs beyond the event queries of docs/events.md:
 *
 * - `GET /dashboard/meta` → `{mode: "live" | "postmortem", version, source?}`;
 * - `GET /dashboard/api/sessions/<sid>/submits` → `{submits: n}` (ClientSubmit events);
 * - `GET /dashboard/report?session=<sid>` → the one-file HTML report of a session (download).
 *
 * Mounted after `eventsApi` on the live monitoring app (server/mod.ts) and on the read-only app of
 * `rain dashboard` (cli/dashboard.ts).
 */
import type { Hono } from "hono";
import type { EventSource } from "./events/source.ts";
import { ASSETS, SOURCE_HASH } from "../dashboard/assets.gen.ts";
import { buildReportData, jsonGetter, ReportError, reportHtml } from "../dashboard/report.ts";
import { RAIN_VERSION } from "../common/version.ts";

export interface DashboardOptions {
  mode: "live" | "postmortem";
  /** The event views to count submits in (absent: the count is not shown). */
  events?: EventSource;
  /** What is shown (post-mortem: the events.db path). */
  source?: string;
}

const TYPES: Record<string, string> = {
  "index.html": "text/html; charset=utf-8",
  "app.js": "text/javascript; charset=utf-8",
  "style.css": "text/css; charset=utf-8",
};

export function mountDashboard(app: Hono, options: DashboardOptions): void {
  const asset = (name: string) => (c: { req: { header(n: string): string | undefined } }) => {
    const etag = `"${SOURCE_HASH.slice(0, 16)}"`;
    if (c.req.header("if-none-match") === etag) return new Response(null, { status: 304 });
    const type = TYPES[name] ?? "application/octet-stream";
    return new Response(ASSETS[name] ?? null, {
      headers: { "content-type": type, "cache-control": "no-cache", etag },
    });
  };
  app.get("/", asset("index.html"));
  app.get("/index.html", asset("index.html"));
  app.get("/app.js", asset("app.js"));
  app.get("/style.css", asset("style.css"));
  app.get("/favicon.ico", () => new Response(null, { status: 204 }));
  app.get(
    "/dashboard/meta",
    (c) => c.json({ mode: options.mode, version: RAIN_VERSION, source: options.source }),
  );
  app.get("/dashboard/api/sessions/:sid/submits", async (c) => {
    const sid = Number(c.req.param("sid"));
    const events = options.events;
    if (!events || !Number.isInteger(sid)) return c.json({ submits: null });
    try {
      await events.refresh();
      return c.json({ submits: events.model.sessions.get(sid)?.submits ?? 0 });
    } catch {
      return c.json({ submits: null });
    }
  });
  app.get("/dashboard/report", async (c) => {
    const sid = Number(c.req.query("session"));
    if (!Number.isInteger(sid) || sid < 0) {
      return c.json({ error: { kind: "BadRequest", message: "session must be an integer" } }, 400);
    }
    try {
      const html = await sessionReport(app, sid, options.source);
      return new Response(html, {
        headers: {
          "content-type": "text/html; charset=utf-8",
          "content-disposition": `attachment; filename="rain-session-${sid}.html"`,
        },
      });
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      return c.json({ error: { kind: "NotFound", message } }, e instanceof ReportError ? 404 : 500);
    }
  });
}

/** The one-file HTML report of session `sid`, read through `app`'s JSON endpoints. */
export async function sessionReport(app: Hono, sid: number, source?: string): Promise<string> {
  const data = await buildReportData(
    jsonGetter((path) => app.request(path)),
    sid,
    { version: RAIN_VERSION, source },
  );
  return reportHtml(data);
}

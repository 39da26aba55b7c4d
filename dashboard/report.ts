/**
 * One-file HTML reports of a session: the dashboard's page with its style, script and the
 * session's data inlined, so it opens offline (file://, no server) and shows every view.
 * The data is read through the monitoring JSON endpoints (docs/events.md) of an in-process app.
 */
import { ASSETS } from "./assets.gen.ts";
import type { ReportData } from "./src/api.ts";
import type { StreamTask, TaskDetail } from "./src/types.ts";

/** Reads one JSON endpoint (e.g. `app.request(path)` of the monitoring hono app). */
export type JsonGetter = (path: string) => Promise<unknown>;

/** Sessions up to this size get every task's details; bigger ones their failed and slowest. */
export const REPORT_TASK_DETAILS = 2000;
/**
 * Time spent at most on task details (a detail is read back from its submit event, which takes
 * tens of milliseconds when one submit held 100k tasks): the most useful ones come first.
 */
export const REPORT_DETAILS_BUDGET_MS = 5000;

export class ReportError extends Error {}

export async function buildReportData(
  get: JsonGetter,
  sid: number,
  info: { version: string; source?: string },
): Promise<ReportData> {
  const base = `/api/v1/sessions/${sid}`;
  const summary = await get(`${base}/summary`) as ReportData["summary"];
  const [groups, stream, transfers, graph, governors, submits] = await Promise.all([
    get(`${base}/task_groups`),
    get(`${base}/task_stream?limit=10000000`),
    get(`${base}/transfers`),
    get(`${base}/task_graph?tasks=1`),
    get(`/api/v1/governors`),
    get(`/dashboard/api/sessions/${sid}/submits`).catch(() => undefined),
  ]) as [
    ReportData["groups"],
    ReportData["stream"],
    ReportData["transfers"],
    ReportData["graph"],
    ReportData["governors"],
    { submits?: number } | undefined,
  ];
  if (summary.submits === undefined && submits?.submits !== undefined) {
    summary.submits = submits.submits;
  }
  const created = Date.parse(summary.created);
  const ended = Date.parse(summary.closed ?? stream.end ?? summary.last_end ?? "") || Date.now();
  const monitoring = await get(
    `/api/v1/monitoring?from=${created - 5000}&to=${ended + 5000}`,
  ) as ReportData["monitoring"];

  // Task details, the most useful first: failed tasks, the slowest, then the others.
  const tasks: StreamTask[] = stream.tasks;
  const total = Math.max(summary.tasks_total, tasks.length);
  const duration = (t: StreamTask) => (t.end ?? Infinity) - t.start;
  const failed = tasks.filter((t) => t.failed).map((t) => t.id);
  const slow = tasks.filter((t) => !t.failed).sort((a, b) => duration(b) - duration(a))
    .map((t) => t.id);
  const ids = [...new Set([...failed, ...slow, ...(graph.tasks ?? []).map((t) => t.id)])]
    .slice(0, REPORT_TASK_DETAILS);
  const details: Record<string, TaskDetail> = {};
  const deadline = Date.now() + REPORT_DETAILS_BUDGET_MS;
  for (const id of ids) {
    if (Date.now() > deadline) break;
    try {
      details[String(id)] = await get(`${base}/tasks/${id}`) as TaskDetail;
    } catch {
      // a task without details (never started): the other views still show it
    }
  }
  return {
    meta: {
      mode: "report",
      version: info.version,
      source: info.source,
      generated: new Date().toISOString(),
    },
    summary,
    groups,
    stream: { ...stream, truncated: false },
    transfers,
    graph,
    tasks: details,
    tasks_omitted: Math.max(0, total - Object.keys(details).length),
    governors,
    monitoring,
  };
}

/** `</` may not appear inside an inline script: `<\/` means the same in JS strings and JSON. */
function scriptSafe(text: string): string {
  return text.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\!--");
}

export function reportHtml(data: ReportData): string {
  const json = JSON.stringify(data).replace(/</g, "\\u003c");
  const title = `Rain report: session ${data.summary.session} (${data.summary.name})`;
  return ASSETS["index.html"]
    .replace(/<title>[^<]*<\/title>/, () => `<title>${escapeHtml(title)}</title>`)
    .replace(
      /<link rel="stylesheet" href="style.css">/,
      () => `<style>\n${ASSETS["style.css"]}</style>`,
    )
    .replace(
      /<script type="module" src="app.js"><\/script>/,
      () =>
        `<script id="rain-report-data" type="application/json">${json}</script>\n` +
        `<script type="module">\n${scriptSafe(ASSETS["app.js"])}\n</script>`,
    );
}

function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"]/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!,
  );
}

/** A getter over a fetch-like function (hono's `app.request`); non-2xx answers throw. */
export function jsonGetter(request: (path: string) => Response | Promise<Response>): JsonGetter {
  return async (path) => {
    const response = await request(path);
    const text = await response.text();
    if (!response.ok) {
      let message = text;
      try {
        message = JSON.parse(text)?.error?.message ?? text;
      } catch {
        // not JSON
      }
      throw new ReportError(message || `${path}: HTTP ${response.status}`);
    }
    return JSON.parse(text);
  };
}

/// <reference lib="dom" />
/** The list of sessions: status, client, created, duration, progress. */
import { type Ctx, isActive, type View } from "../view.ts";
import {
  badge,
  errorBox,
  fmtDuration,
  fmtNumber,
  fmtTime,
  h,
  progressBar,
  replace,
} from "../dom.ts";

export function sessionsView(ctx: Ctx): View {
  const body = h("div", null, h("p", { class: "muted" }, "Loading…"));
  const el = h("section", { class: "view" }, h("h2", null, "Sessions"), body);
  return {
    el,
    async update() {
      let rows;
      try {
        rows = await ctx.api.sessions();
      } catch (e) {
        replace(body, errorBox(String(e instanceof Error ? e.message : e)));
        return true;
      }
      if (rows.length === 0) {
        replace(body, h("p", { class: "muted" }, "No session yet."));
        return true;
      }
      rows = [...rows].sort((a, b) => b.session - a.session);
      replace(
        body,
        h(
          "table",
          { class: "table sessions-table" },
          h(
            "thead",
            null,
            h(
              "tr",
              null,
              [
                "Session",
                "Name",
                "Status",
                "Client",
                "Created",
                "Duration",
                "Progress",
                "Tasks",
                "Failed",
                "Re-runs",
              ]
                .map((t) => h("th", null, t)),
            ),
          ),
          h(
            "tbody",
            null,
            rows.map((s) =>
              h(
                "tr",
                {
                  class: "clickable",
                  "data-session": s.session,
                  onclick: () => ctx.navigate(`#/s/${s.session}`),
                },
                h("td", null, h("a", { href: `#/s/${s.session}` }, String(s.session))),
                h("td", null, s.name),
                h("td", null, badge(s.status)),
                h("td", null, s.client ?? "–"),
                h("td", null, fmtTime(s.created)),
                h("td", { class: "num" }, fmtDuration(s.duration)),
                h(
                  "td",
                  { class: "progress-cell" },
                  progressBar(
                    s.tasks_total,
                    s.tasks_finished,
                    s.tasks_failed,
                    isActive(s.status) ? s.tasks_running ?? 0 : 0,
                  ),
                ),
                h(
                  "td",
                  { class: "num" },
                  `${fmtNumber(s.tasks_finished)} / ${fmtNumber(s.tasks_total)}`,
                ),
                h(
                  "td",
                  { class: s.tasks_failed ? "num failed" : "num" },
                  fmtNumber(s.tasks_failed),
                ),
                // Re-runs for lost outputs and retries: work done again (issue 12).
                h(
                  "td",
                  { class: "num reruns", title: "re-runs for lost outputs + retries" },
                  fmtNumber((s.tasks_rerun ?? 0) + (s.tasks_retried ?? 0)),
                ),
              )
            ),
          ),
        ),
      );
      return ctx.meta.mode === "live";
    },
  };
}

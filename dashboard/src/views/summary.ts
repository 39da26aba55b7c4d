/// <reference lib="dom" />
/** A session's summary: progress, task counts, submits, objects, bytes, unfinished tasks over time. */
import { type Ctx, isActive, type View } from "../view.ts";
import type { SessionRow } from "../types.ts";
import { lineChart } from "../chart.ts";
import {
  badge,
  errorBox,
  facts,
  fmtBytes,
  fmtDuration,
  fmtNumber,
  fmtTime,
  h,
  progressBar,
  replace,
} from "../dom.ts";

/** Re-runs, retries and lost attempts (issue 12), when the session had any. */
function recoveryStats(
  s: SessionRow,
  stat: (label: string, value: string, cls?: string) => HTMLElement,
): HTMLElement[] | null {
  const counts = [s.tasks_rerun ?? 0, s.tasks_retried ?? 0, s.attempts_lost ?? 0];
  if (counts.every((n) => n === 0)) return null;
  return [
    stat("re-runs", fmtNumber(counts[0]!), "rerun"),
    stat("retries", fmtNumber(counts[1]!), "rerun"),
    stat("lost attempts", fmtNumber(counts[2]!), "rerun"),
  ];
}

export function summaryView(ctx: Ctx, sid: number): View {
  const body = h("div", null, h("p", { class: "muted" }, "Loading…"));
  const el = h("section", { class: "view summary-view" }, body);
  return {
    el,
    async update() {
      let s, groups;
      try {
        [s, groups] = await Promise.all([ctx.api.summary(sid), ctx.api.groups(sid)]);
      } catch (e) {
        replace(body, errorBox(String(e instanceof Error ? e.message : e)));
        return ctx.meta.mode === "live";
      }
      // Tasks of a session that ended are not running any more and never will: cancelled.
      const ended = s.closed !== undefined;
      const running = ended ? 0 : s.tasks_running ?? groups.reduce((n, g) => n + g.running, 0);
      const unfinished = Math.max(0, s.tasks_total - s.tasks_finished - s.tasks_failed - running);
      const failedTask = /task (\d+)\/(\d+)/i.exec(s.error ?? s.message ?? "");
      const governors = Array.isArray(s.governors) ? s.governors.length : s.governors;
      const stat = (label: string, value: string, cls = "") =>
        h(
          "div",
          { class: `stat ${cls}` },
          h("div", { class: "stat-value" }, value),
          h("div", { class: "stat-label" }, label),
        );
      replace(
        body,
        h(
          "div",
          { class: "summary-head" },
          h("h2", null, `Session ${s.session}: ${s.name} `, badge(s.status)),
          h(
            "div",
            { class: "progress-big" },
            progressBar(s.tasks_total, s.tasks_finished, s.tasks_failed, running),
            h(
              "div",
              { class: "muted progress-text" },
              `${fmtNumber(s.tasks_finished)} of ${fmtNumber(s.tasks_total)} tasks finished` +
                (s.tasks_total ? ` (${(100 * s.tasks_finished / s.tasks_total).toFixed(1)}%)` : ""),
            ),
          ),
        ),
        h(
          "div",
          { class: "stats" },
          stat("tasks", fmtNumber(s.tasks_total)),
          stat("finished", fmtNumber(s.tasks_finished), "ok"),
          stat("running", fmtNumber(running), "run"),
          ended
            ? stat("cancelled", fmtNumber(s.tasks_cancelled ?? unfinished), "cancelled")
            : stat("waiting", fmtNumber(unfinished)),
          stat("failed", fmtNumber(s.tasks_failed), s.tasks_failed ? "bad" : ""),
          recoveryStats(s, stat),
          stat("submits", s.submits === undefined ? "–" : fmtNumber(s.submits)),
          stat("objects", fmtNumber(s.objects_total)),
          stat("bytes produced", fmtBytes(s.bytes)),
          stat("governors", fmtNumber(governors)),
          stat("duration", fmtDuration(s.duration)),
        ),
        s.error
          ? h(
            "div",
            { class: "error-box session-error" },
            h("b", null, "Session failed: "),
            failedTask
              ? h(
                "a",
                { href: `#/s/${sid}/task/${failedTask[2]}` },
                `inspect task ${failedTask[1]}/${failedTask[2]}`,
              )
              : null,
            h("pre", null, s.error),
          )
          : null,
        facts([
          ["client", String(s.client ?? "–")],
          ["created", fmtTime(s.created)],
          ["closed", s.closed ? fmtTime(s.closed) : "–"],
          ["first task started", fmtTime(s.first_start ?? undefined)],
          ["last task ended", fmtTime(s.last_end ?? undefined)],
          [
            "governors used",
            Array.isArray(s.governors) ? s.governors.join(", ") || "–" : String(s.governors),
          ],
        ]),
        h("h3", null, "Unfinished tasks over time"),
        s.progress?.length
          ? lineChart([{ name: "unfinished tasks", color: "#3a6ea5", points: s.progress }], {
            width: 1200,
            height: 220,
            area: true,
            step: true,
            xFormat: (v) => fmtDuration(v),
            yFormat: (v) => fmtNumber(v),
          })
          : h("p", { class: "muted" }, "No task yet."),
      );
      return ctx.meta.mode === "live" && (isActive(s.status) || running > 0);
    },
  };
}

/// <reference lib="dom" />
/** Task groups by name: count, mean/max duration, total time, failures; a group's slowest tasks. */
import { type Ctx, isActive, type View } from "../view.ts";
import {
  errorBox,
  fmtBytes,
  fmtDuration,
  fmtNumber,
  h,
  nameColor,
  progressBar,
  replace,
} from "../dom.ts";
import type { TaskGroup } from "../types.ts";

type Key =
  | "name"
  | "count"
  | "failed"
  | "duration_mean"
  | "duration_max"
  | "duration_total"
  | "peak_memory_max";

export function groupsView(ctx: Ctx, sid: number, initial: string | null = null): View {
  const body = h("div", null, h("p", { class: "muted" }, "Loading…"));
  const detail = h("div", { class: "group-detail" });
  const el = h(
    "section",
    { class: "view groups-view" },
    h("h2", null, "Task groups"),
    body,
    detail,
  );
  let sortKey: Key = "duration_total";
  let groups: TaskGroup[] = [];
  let selected: string | null = null;
  let sessionEnded = false;

  function render(): void {
    const ended = sessionEnded;
    const sorted = [...groups].sort((a, b) => {
      if (sortKey === "name") return a.name.localeCompare(b.name);
      return (b[sortKey] ?? 0) - (a[sortKey] ?? 0);
    });
    const totalTime = groups.reduce((n, g) => n + (g.duration_total ?? 0), 0) || 1;
    const th = (label: string, key?: Key) =>
      h(
        "th",
        key
          ? {
            class: `sortable${key === sortKey ? " sorted" : ""}`,
            onclick: () => (sortKey = key, render()),
          }
          : null,
        label,
      );
    replace(
      body,
      groups.length === 0 ? h("p", { class: "muted" }, "No task yet.") : h(
        "table",
        { class: "table groups-table" },
        h(
          "thead",
          null,
          h(
            "tr",
            null,
            th("Name", "name"),
            th("Type"),
            th("Tasks", "count"),
            th("Progress"),
            th("Failed", "failed"),
            // Once the session ended nothing runs: what had not finished was cancelled.
            th(ended ? "Cancelled" : "Running"),
            th("Mean", "duration_mean"),
            th("Max", "duration_max"),
            th("Total time", "duration_total"),
            th("Peak memory", "peak_memory_max"),
            th("Share of time"),
          ),
        ),
        h(
          "tbody",
          null,
          sorted.map((g) =>
            h(
              "tr",
              {
                class: `clickable${g.name === selected ? " selected" : ""}`,
                "data-group": g.name,
                onclick: () => select(g.name),
              },
              h(
                "td",
                null,
                h("i", { class: "swatch", style: `background:${nameColor(g.name)}` }),
                g.name,
              ),
              h("td", { class: "muted" }, g.task_type),
              h("td", { class: "num" }, fmtNumber(g.count)),
              h(
                "td",
                { class: "progress-cell" },
                progressBar(g.count, g.finished, g.failed, g.running),
              ),
              h("td", { class: g.failed ? "num failed" : "num" }, fmtNumber(g.failed)),
              h("td", { class: "num" }, fmtNumber(ended ? g.cancelled : g.running)),
              h("td", { class: "num" }, fmtDuration(g.duration_mean)),
              h("td", { class: "num" }, fmtDuration(g.duration_max)),
              h("td", { class: "num" }, fmtDuration(g.duration_total)),
              h(
                "td",
                {
                  class: "num",
                  title: "largest peak resident memory of a task (for sizing memory= requests)",
                },
                g.peak_memory_max === undefined ? "–" : fmtBytes(g.peak_memory_max),
              ),
              h(
                "td",
                { class: "share-cell" },
                h("div", {
                  class: "share",
                  style: `width:${(100 * (g.duration_total ?? 0) / totalTime).toFixed(1)}%;` +
                    `background:${nameColor(g.name)}`,
                }),
              ),
            )
          ),
        ),
      ),
    );
  }

  async function select(name: string): Promise<void> {
    selected = name;
    render();
    replace(detail, h("p", { class: "muted" }, `Loading the tasks of ${name}…`));
    try {
      const stream = await ctx.api.stream(sid, undefined, undefined, 100000);
      const tasks = stream.tasks.filter((t) => t.name === name);
      const duration = (t: { start: number; end: number | null }) => (t.end ?? Infinity) - t.start;
      tasks.sort((a, b) => (b.failed ? 1 : 0) - (a.failed ? 1 : 0) || duration(b) - duration(a));
      if (tasks.length === 0) {
        const group = groups.find((g) => g.name === name);
        replace(
          detail,
          h("h3", null, `Tasks of ${name}`),
          h(
            "p",
            { class: "muted" },
            sessionEnded
              ? `None of its ${fmtNumber(group?.count ?? 0)} tasks started: ` +
                `${fmtNumber(group?.cancelled ?? 0)} cancelled when the session ended.`
              : "None of its tasks has started yet.",
          ),
        );
        return;
      }
      replace(
        detail,
        h(
          "h3",
          null,
          `Tasks of ${name}`,
          h("span", { class: "muted" }, ` (${tasks.length}, failed and slowest first)`),
        ),
        h(
          "table",
          { class: "table" },
          h(
            "thead",
            null,
            h(
              "tr",
              null,
              ["Task", "Governor", "cpu", "Start", "Duration", "State"].map((t) =>
                h("th", null, t)
              ),
            ),
          ),
          h(
            "tbody",
            null,
            tasks.slice(0, 200).map((t) =>
              h(
                "tr",
                { class: "clickable", onclick: () => ctx.navigate(`#/s/${sid}/task/${t.id}`) },
                h("td", null, h("a", { href: `#/s/${sid}/task/${t.id}` }, `${sid}/${t.id}`)),
                h("td", null, t.governor),
                h("td", { class: "num" }, String(t.cpu)),
                h("td", { class: "num" }, fmtDuration(t.start)),
                h(
                  "td",
                  { class: "num" },
                  t.end === null ? "running" : fmtDuration(t.end - t.start),
                ),
                h(
                  "td",
                  { class: t.failed ? "failed" : "" },
                  t.failed
                    ? "failed"
                    : t.cancelled
                    ? "cancelled"
                    : t.end === null
                    ? "running"
                    : "finished",
                ),
              )
            ),
          ),
        ),
        tasks.length > 200
          ? h("p", { class: "muted" }, `${tasks.length - 200} more not shown.`)
          : null,
      );
    } catch (e) {
      replace(detail, errorBox(String(e instanceof Error ? e.message : e)));
    }
  }

  return {
    el,
    async update() {
      let active = false;
      try {
        const [list, summary] = await Promise.all([ctx.api.groups(sid), ctx.api.summary(sid)]);
        groups = list;
        sessionEnded = summary.closed !== undefined;
        active = isActive(summary.status) || !sessionEnded;
      } catch (e) {
        replace(body, errorBox(String(e instanceof Error ? e.message : e)));
        return ctx.meta.mode === "live";
      }
      render();
      if (initial !== null) {
        const name = initial;
        initial = null;
        select(name);
      }
      return ctx.meta.mode === "live" && active;
    },
  };
}

/// <reference lib="dom" />
/** Recovery in the task inspector: each run of a task that ran more than once (issue 12). */
import { fmtDuration, h } from "../dom.ts";
import type { TaskDetail } from "../types.ts";

const at = (s: number | null) => s === null ? "–" : `+${fmtDuration(s)}`;

/** The attempts table (governor, start and end from the session's creation, why it ended). */
export function attemptsTable(t: TaskDetail): HTMLElement[] | null {
  const attempts = t.attempts;
  if (!attempts?.length) return null;
  return [
    h("h3", null, `Attempts (${attempts.length})`),
    h(
      "table",
      { class: "table attempts-table" },
      h(
        "thead",
        null,
        h("tr", null, ["#", "Governor", "Start", "End", "Ended"].map((x) => h("th", null, x))),
      ),
      h(
        "tbody",
        null,
        attempts.map((a, i) =>
          h(
            "tr",
            { "data-attempt": i + 1 },
            h("td", { class: "num" }, String(i + 1)),
            h("td", null, a.governor ?? "–"),
            h("td", { class: "num" }, at(a.start)),
            h("td", { class: "num" }, at(a.end)),
            h(
              "td",
              { class: a.error ? "failed" : "" },
              a.error ?? (a.end === null ? "running" : "finished the task"),
            ),
          )
        ),
      ),
    ),
  ];
}

/// <reference lib="dom" />
/** The inspector's "Output" section: what the task printed (stdout, stderr), loaded on its own. */
import type { Ctx } from "../view.ts";
import { h, replace } from "../dom.ts";
import type { TaskOutputView } from "../types.ts";

function streams(o: TaskOutputView) {
  const pre = (name: string, text: string) =>
    text === "" ? null : [
      h("h4", null, name),
      h("pre", { class: `task-output ${name}` }, text),
    ];
  return [
    o.attempts > 1 || (o.attempt ?? 1) > 1
      ? h("p", { class: "muted" }, `of attempt ${o.attempt}`)
      : null,
    pre("stdout", o.stdout),
    pre("stderr", o.stderr),
  ];
}

export function outputSection(ctx: Ctx, sid: number, id: number): HTMLElement {
  const body = h("div", null, h("p", { class: "muted" }, "Loading…"));
  const el = h("section", { class: "task-output-section" }, h("h3", null, "Output"), body);
  ctx.api.output(sid, id).then((o) => {
    if (o === null) {
      replace(body, h("p", { class: "muted" }, "not recorded"));
    } else if (o.stdout === "" && o.stderr === "") {
      const over = o.state === "finished" || o.state === "failed";
      replace(body, h("p", { class: "muted" }, over ? "the task printed nothing" : "none yet"));
    } else {
      replace(body, streams(o));
    }
  }).catch((e) =>
    replace(body, h("p", { class: "muted" }, String(e instanceof Error ? e.message : e)))
  );
  return el;
}

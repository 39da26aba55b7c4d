/// <reference lib="dom" />
/** The task inspector: spec, info, inputs, outputs, error, debug, where and when it ran. */
import type { Ctx, View } from "../view.ts";
import type { Child } from "../dom.ts";
import {
  badge,
  errorBox,
  facts,
  fmtBytes,
  fmtDuration,
  fmtTime,
  h,
  nameColor,
  replace,
} from "../dom.ts";
import type { TaskDetail } from "../types.ts";
import { describeArgument } from "../pickle.ts";
import { attemptsTable } from "./attempts.ts";

/** Python tasks (`py/...`) get their function as input 0: a cloudpickle the user never passed. */
function isPythonFunction(t: TaskDetail, index: number): boolean {
  const type = String(t.spec?.task_type ?? "");
  return index === 0 && type.startsWith("py/") &&
    t.inputs[0]?.spec?.content_type === "cloudpickle";
}

/** A Python task's arguments (`config.args`: name → base64 pickle), decoded where possible. */
function pythonArguments(spec: Record<string, unknown>): [string, string][] {
  const config = spec.config as { args?: Record<string, unknown> } | undefined;
  const args = config?.args;
  if (typeof args !== "object" || args === null) return [];
  return Object.entries(args).map(([name, pickled]) => [name, describeArgument(pickled).text]);
}

/** The spec as shown: pickled arguments replaced by what they say. */
function readableSpec(spec: Record<string, unknown>): Record<string, unknown> {
  const args = pythonArguments(spec);
  if (args.length === 0) return spec;
  const config = spec.config as Record<string, unknown>;
  return { ...spec, config: { ...config, args: Object.fromEntries(args) } };
}
import { outputSection } from "./task_output.ts";

/** `cpus 2 · memory 4.0 GiB · gpus 0.5 · licence 1` from `spec.resources`. */
function describeRequest(resources: unknown): string {
  const r = (resources ?? {}) as {
    cpus?: number;
    memory?: number;
    gpus?: number;
    custom?: Record<string, number>;
  };
  const parts = [`cpus ${r.cpus ?? 1}`];
  if (r.memory !== undefined) parts.push(`memory ${fmtBytes(r.memory)}`);
  if (r.gpus !== undefined) parts.push(`gpus ${r.gpus}`);
  for (const [name, amount] of Object.entries(r.custom ?? {})) parts.push(`${name} ${amount}`);
  return parts.join(" · ");
}

function objId(o: { id?: number; spec?: Record<string, unknown> }): string {
  const id = o.spec?.id ?? o.id;
  return Array.isArray(id) ? id.join("/") : String(id ?? "?");
}

type TaskObject = TaskDetail["inputs"][number] & TaskDetail["outputs"][number];

/** Inputs or outputs of a task: one row per object; the last column says where it comes from or goes. */
function objectTable<T extends Partial<TaskObject>>(
  objects: T[],
  lastHeader: string,
  lastCell: (o: T) => Child,
) {
  if (objects.length === 0) return h("p", { class: "muted" }, "none");
  return h(
    "table",
    { class: "table" },
    h(
      "thead",
      null,
      h("tr", null, ["Object", "Label", "Type", "Size", lastHeader].map((x) => h("th", null, x))),
    ),
    h(
      "tbody",
      null,
      objects.map((o) =>
        h(
          "tr",
          null,
          h("td", null, objId(o)),
          h("td", null, String(o.spec?.label ?? "")),
          h(
            "td",
            { class: "muted" },
            `${o.spec?.data_type ?? "blob"}${
              o.spec?.content_type ? " · " + o.spec.content_type : ""
            }`,
          ),
          h("td", { class: "num" }, fmtBytes(o.size ?? null)),
          h("td", null, lastCell(o)),
        )
      ),
    ),
  );
}

export function taskView(ctx: Ctx, sid: number, id: number | null): View {
  const input = h("input", {
    type: "number",
    min: 0,
    placeholder: "task id",
    value: id ?? "",
    class: "task-id-input",
  });
  const form = h(
    "form",
    { class: "toolbar" },
    h("label", null, `Task ${sid}/`),
    input,
    h("button", { type: "submit" }, "Inspect"),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (input.value !== "") ctx.navigate(`#/s/${sid}/task/${Number(input.value)}`);
  });
  const body = h("div", null);
  const el = h("section", { class: "view task-view" }, form, body);

  async function listFailed(): Promise<void> {
    replace(body, h("p", { class: "muted" }, "Loading…"));
    const stream = await ctx.api.stream(sid, undefined, undefined, 100000);
    const failed = stream.tasks.filter((t) => t.failed);
    const slow = [...stream.tasks].filter((t) => t.end !== null)
      .sort((a, b) => (b.end! - b.start) - (a.end! - a.start)).slice(0, 20);
    const list = (title: string, tasks: typeof failed) => [
      h("h3", null, title),
      tasks.length === 0 ? h("p", { class: "muted" }, "none") : h(
        "ul",
        { class: "task-list" },
        tasks.map((t) =>
          h(
            "li",
            null,
            h("a", { href: `#/s/${sid}/task/${t.id}` }, `${sid}/${t.id}`),
            " ",
            h("i", { class: "swatch", style: `background:${nameColor(t.name)}` }),
            `${t.name} on ${t.governor}`,
            t.end !== null ? ` — ${fmtDuration(t.end - t.start)}` : " — running",
          )
        ),
      ),
    ];
    replace(
      body,
      h(
        "p",
        { class: "muted" },
        "Enter a task id, or click a task in the task stream, graph or groups.",
      ),
      list("Failed tasks", failed),
      list("Slowest tasks", slow),
    );
  }

  function render(t: TaskDetail): void {
    const info = t.info ?? {};
    const spec = t.spec ?? {};
    const fn = isPythonFunction(t, 0) ? t.inputs[0] : undefined;
    const inputs = fn ? t.inputs.slice(1) : t.inputs;
    const args = pythonArguments(spec);
    replace(
      body,
      h(
        "h2",
        null,
        h("i", { class: "swatch big", style: `background:${nameColor(t.name)}` }),
        `Task ${sid}/${t.id}: ${t.name} `,
        badge(t.state),
      ),
      t.error
        ? h(
          "div",
          { class: "error-box" },
          h("b", null, "Error"),
          h("pre", { class: "task-error" }, t.error),
        )
        : null,
      facts([
        ["task type", String(spec.task_type ?? "–")],
        ...(fn
          ? [["function", `${String(fn.spec?.label ?? "?")} (pickled, ${fmtBytes(fn.size)})`] as [
            string,
            string,
          ]]
          : []),
        ["state", t.state],
        ["governor", t.governor ?? String(info.governor ?? "–")],
        ["resources", describeRequest(spec.resources)],
        ["peak memory", info.peak_memory !== undefined ? fmtBytes(Number(info.peak_memory)) : "–"],
        ["started", info.start_time ? fmtTime(String(info.start_time)) : "–"],
        ["duration", info.duration !== undefined ? fmtDuration(Number(info.duration)) : "–"],
      ]),
      attemptsTable(t),
      t.debug ? [h("h3", null, "Debug"), h("pre", { class: "debug" }, t.debug)] : null,
      args.length
        ? [
          h("h3", null, `Arguments (${args.length})`),
          h(
            "table",
            { class: "table args-table" },
            h(
              "tbody",
              null,
              args.map(([name, value]) =>
                h(
                  "tr",
                  null,
                  h("th", null, name),
                  h("td", null, h("code", null, value)),
                )
              ),
            ),
          ),
        ]
        : null,
      outputSection(ctx, sid, t.id),
      h("h3", null, `Inputs (${inputs.length})`),
      objectTable(
        inputs,
        "Produced by",
        (o) =>
          o.producer !== null && o.producer !== undefined
            ? h("a", { href: `#/s/${sid}/task/${o.producer}` }, `task ${sid}/${o.producer}`)
            : "client",
      ),
      h("h3", null, `Outputs (${t.outputs.length})`),
      objectTable(t.outputs, "Consumers", (o) =>
        o.consumers.length === 0 ? "–" : [
          o.consumers.slice(0, 30).map((c, i) => [
            i ? ", " : "",
            h("a", { href: `#/s/${sid}/task/${c}` }, `${sid}/${c}`),
          ]),
          o.consumers.length > 30 ? ` … (${o.consumers.length})` : null,
        ]),
      t.transfers?.length
        ? [
          h("h3", null, `Input transfers (${t.transfers.length})`),
          h(
            "table",
            { class: "table" },
            h(
              "thead",
              null,
              h(
                "tr",
                null,
                ["Object", "From", "To", "Bytes", "Duration"].map((x) => h("th", null, x)),
              ),
            ),
            h(
              "tbody",
              null,
              t.transfers.map((tr) =>
                h(
                  "tr",
                  null,
                  h("td", null, Array.isArray(tr.object) ? tr.object.join("/") : String(tr.object)),
                  h("td", null, tr.from),
                  h("td", null, tr.to),
                  h("td", { class: "num" }, fmtBytes(tr.bytes)),
                  h("td", { class: "num" }, fmtDuration(tr.duration)),
                )
              ),
            ),
          ),
        ]
        : null,
      h(
        "div",
        { class: "json-pair" },
        h(
          "div",
          null,
          h("h3", null, "Spec"),
          h("pre", { class: "json spec-json" }, JSON.stringify(readableSpec(spec), null, 2)),
        ),
        h(
          "div",
          null,
          h("h3", null, "Info"),
          h("pre", { class: "json info-json" }, JSON.stringify(info, null, 2)),
        ),
      ),
    );
  }

  return {
    el,
    async update() {
      if (id === null) {
        try {
          await listFailed();
        } catch (e) {
          replace(body, errorBox(String(e instanceof Error ? e.message : e)));
        }
        return false;
      }
      try {
        const t = await ctx.api.task(sid, id);
        if (!t) {
          replace(
            body,
            errorBox(
              ctx.meta.mode === "report"
                ? `Task ${sid}/${id} has no details in this report (only failed and the longest tasks of big sessions do).`
                : `Task ${sid}/${id} does not exist (yet).`,
            ),
          );
          return ctx.meta.mode === "live";
        }
        render(t);
        return ctx.meta.mode === "live" && t.state !== "finished" && t.state !== "failed";
      } catch (e) {
        replace(body, errorBox(String(e instanceof Error ? e.message : e)));
        return ctx.meta.mode === "live";
      }
    },
  };
}

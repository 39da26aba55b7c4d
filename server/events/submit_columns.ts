/**
 * The `ClientSubmit` row of a submit whose header is not at hand (a compact body): the server's
 * thread hands the writer the plan as flat columns (`submitColumns`, a few typed arrays, moved
 * rather than copied) and the writer renders the row (`compactSubmitRowJson`), the same text
 * `clientSubmitJson` makes from the plan. Before, that text (≈ 340 bytes a task) was built on the
 * server's thread and copied to the writer.
 */
import type { PlannedTask, SubmitPlan } from "../submit.ts";
import { joinBytes } from "../../common/bytes.ts";
import { dataobjsPieces, type ObjectColumns, objectColumns, taskJson } from "./submit_json.ts";

/**
 * Tasks as columns: ids, task type indexes into `types`, cpus, input and output counts and ids;
 * a task with more than that (input labels, config, policy, name, user, a request beyond cpus) is
 * in `extra` as `[index, its JSON]` instead (rare; counts 0 in the columns).
 */
export interface TaskColumns {
  ids: Float64Array;
  types: Int32Array;
  cpus: Float64Array;
  inputCounts: Uint32Array;
  outputCounts: Uint32Array;
  inputs: Float64Array;
  outputs: Float64Array;
  typeNames: string[];
  extra: [number, string][];
}

/** What the server's thread sends the writer for a compact submit. */
export interface CompactSubmitMessage {
  ts: string;
  session: number;
  tasks: TaskColumns;
  objects: ObjectColumns;
}

function plain(t: PlannedTask): boolean {
  return t.inputLabels === undefined && t.config === undefined && t.policy === undefined &&
    t.name === undefined && t.user === undefined && t.request === undefined;
}

export function taskColumns(session: number, tasks: readonly PlannedTask[]): TaskColumns {
  const count = tasks.length;
  let inputTotal = 0;
  let outputTotal = 0;
  for (const t of tasks) {
    if (!plain(t)) continue;
    inputTotal += t.inputs.length;
    outputTotal += t.outputs.length;
  }
  const c: TaskColumns = {
    ids: new Float64Array(count),
    types: new Int32Array(count),
    cpus: new Float64Array(count),
    inputCounts: new Uint32Array(count),
    outputCounts: new Uint32Array(count),
    inputs: new Float64Array(inputTotal),
    outputs: new Float64Array(outputTotal),
    typeNames: [],
    extra: [],
  };
  const interned = new Map<string, number>();
  let input = 0;
  let output = 0;
  for (let i = 0; i < count; i++) {
    const t = tasks[i]!;
    c.ids[i] = t.id;
    if (!plain(t)) {
      c.extra.push([i, taskJson(session, t)]);
      continue;
    }
    let type = interned.get(t.taskType);
    if (type === undefined) interned.set(t.taskType, type = c.typeNames.push(t.taskType) - 1);
    c.types[i] = type;
    c.cpus[i] = t.cpus;
    c.inputCounts[i] = t.inputs.length;
    for (const id of t.inputs) c.inputs[input++] = id;
    c.outputCounts[i] = t.outputs.length;
    for (const id of t.outputs) c.outputs[output++] = id;
  }
  return c;
}

export function submitColumns(session: number, ts: string, plan: SubmitPlan): CompactSubmitMessage {
  return {
    ts,
    session,
    tasks: taskColumns(session, plan.tasks),
    objects: objectColumns(plan.objects),
  };
}

/** The buffers of a `CompactSubmitMessage` to transfer rather than copy. */
export function compactSubmitTransfer(m: CompactSubmitMessage): ArrayBuffer[] {
  const t = m.tasks;
  const o = m.objects;
  return [
    t.ids,
    t.types,
    t.cpus,
    t.inputCounts,
    t.outputCounts,
    t.inputs,
    t.outputs,
    o.ids,
    o.sizes,
    o.flags,
    o.labels,
  ].map((a) => a.buffer as ArrayBuffer);
}

/** The row's JSON as UTF-8 (in the writer thread). */
export function compactSubmitRowJson(m: CompactSubmitMessage): Uint8Array {
  const encoder = new TextEncoder();
  const s = m.session;
  const t = m.tasks;
  return joinBytes([
    encoder.encode(
      `{"type":"ClientSubmit","session":${s},"task_count":${t.ids.length},` +
        `"object_count":${m.objects.ids.length},"tasks":[`,
    ),
    ...tasksPieces(t, s, encoder),
    encoder.encode(`],"dataobjs":[`),
    ...dataobjsPieces(m.objects, s, encoder),
    encoder.encode("]}"),
  ]);
}

/** The items of `tasks`, 10k tasks per piece (the layout of `taskJson`). */
function tasksPieces(t: TaskColumns, s: number, encoder: TextEncoder): Uint8Array[] {
  const types = t.typeNames.map((name) => JSON.stringify(name));
  const pieces: Uint8Array[] = [];
  let e = 0;
  let input = 0;
  let output = 0;
  for (let from = 0; from < t.ids.length; from += 10_000) {
    let text = "";
    for (let i = from; i < Math.min(t.ids.length, from + 10_000); i++) {
      if (i > 0) text += ",";
      const extra = t.extra[e];
      if (extra !== undefined && extra[0] === i) {
        e++;
        text += extra[1];
        continue;
      }
      let inputs = "";
      for (let k = 0; k < t.inputCounts[i]!; k++) {
        inputs += `${k > 0 ? "," : ""}{"id":[${s},${t.inputs[input++]}]}`;
      }
      let outputs = "";
      for (let k = 0; k < t.outputCounts[i]!; k++) {
        outputs += `${k > 0 ? "," : ""}[${s},${t.outputs[output++]}]`;
      }
      text += `{"id":[${s},${t.ids[i]}],"task_type":${types[t.types[i]!]},"inputs":[${inputs}],` +
        `"outputs":[${outputs}],"resources":{"cpus":${t.cpus[i]}}}`;
    }
    pieces.push(encoder.encode(text));
  }
  return pieces;
}

/**
 * `assign_tasks` without map keys: how the server sends tasks to governors (`assign_packed`,
 * docs/protocol.md). A Concat of two inputs is ~30 bytes packed against ~240 as maps, and
 * MessagePack encodes and decodes the flat array 5–8× faster (docs/architecture.md, "Where the
 * time goes"). The governor's link unpacks it into the `AssignedTask`s it would have received.
 *
 * Layout of `values`, per task (fields absent from a spec or entry travel as `null`):
 *   sid, id, type (index into `types`), cpus (-1: `spec.resources` is more than `{cpus}`),
 *   attempt (0: absent), spec extras, task extras,
 *   input count, per input: id, data type (0 blob, 1 dir), size, source kind (0 local,
 *     1 inline + data, 2 governors + ids, 3 server), extras ({label, spec, entry} or null),
 *   output count, per output: id, data type, extras (the rest of its ObjectSpec, or null).
 * "Extras" are the remaining fields of each map as a map, so rare fields cost nothing when absent
 * and survive unchanged when present. Tasks whose inputs or outputs belong to another session or
 * disagree with their spec (never sent by the server) stay unpacked (`packTasks` returns them).
 */
import type { DataType, ObjectSpec, TaskSpec } from "./attributes.ts";
import type { AssignedTask, ObjectSource, PackedAssignMessage } from "./messages.ts";

type Values = PackedAssignMessage["values"];
type Extras = Record<string, unknown> | null;

const SOURCE_KINDS = ["local", "inline", "governors", "server"] as const;

/** The packed message for `tasks`, and the tasks that cannot be packed (sent as they are). */
export function packTasks(tasks: AssignedTask[]): {
  packed: PackedAssignMessage;
  unpacked: AssignedTask[];
} {
  const types = new Map<string, number>();
  const values: Values = [];
  const unpacked: AssignedTask[] = [];
  for (const task of tasks) {
    if (!packable(task)) {
      unpacked.push(task);
      continue;
    }
    const spec = task.spec;
    let type = types.get(spec.task_type);
    if (type === undefined) types.set(spec.task_type, type = types.size);
    const simpleResources = onlyCpus(spec.resources);
    values.push(
      spec.id[0],
      spec.id[1],
      type,
      simpleResources ? spec.resources.cpus as number : -1,
      task.attempt ?? 0,
      rest(spec, simpleResources ? SPEC_PACKED_SIMPLE : SPEC_PACKED),
      rest(task, TASK_PACKED),
      task.inputs.length,
    );
    for (let i = 0; i < task.inputs.length; i++) {
      const input = task.inputs[i]!;
      values.push(input.spec.id[1], dataTypeCode(input.spec.data_type), input.size);
      const source = input.source;
      values.push(SOURCE_KINDS.indexOf(source.kind));
      if (source.kind === "inline") values.push(source.data);
      else if (source.kind === "governors") values.push(source.governors);
      const label = spec.inputs[i]!.label;
      const specRest = rest(input.spec, OBJECT_PACKED);
      const entryRest = rest(input, INPUT_PACKED);
      values.push(
        label === undefined && specRest === null && entryRest === null
          ? null
          : { label: label ?? null, spec: specRest, entry: entryRest },
      );
    }
    values.push(task.outputs.length);
    for (const output of task.outputs) {
      values.push(output.id[1], dataTypeCode(output.data_type), rest(output, OBJECT_PACKED));
    }
  }
  return { packed: { type: "assign_packed", types: [...types.keys()], values }, unpacked };
}

/** The tasks of a packed message; throws on a malformed one (naming what is wrong). */
export function unpackTasks(message: PackedAssignMessage): AssignedTask[] {
  const { types, values } = message;
  if (!Array.isArray(types) || !Array.isArray(values)) {
    throw new Error("assign_packed: 'types' and 'values' must be arrays");
  }
  const tasks: AssignedTask[] = [];
  let at = 0;
  const next = (): unknown => {
    if (at >= values.length) throw new Error("assign_packed: 'values' ends inside a task");
    return values[at++];
  };
  const int = (what: string): number => {
    const v = next();
    if (typeof v !== "number" || !Number.isInteger(v)) {
      throw new Error(`assign_packed: ${what} must be an integer, got ${JSON.stringify(v)}`);
    }
    return v;
  };
  const extras = (what: string): Extras => {
    const v = next();
    if (v === null || v === undefined) return null;
    if (typeof v !== "object" || Array.isArray(v)) {
      throw new Error(`assign_packed: ${what} must be a map or nil`);
    }
    return v as Record<string, unknown>;
  };
  while (at < values.length) {
    const sid = int("a session id");
    const id = int("a task id");
    const taskType = types[int("a task type index")];
    if (typeof taskType !== "string") throw new Error("assign_packed: unknown task type index");
    const cpus = int("cpus");
    const attempt = int("attempt");
    const specExtras = extras("spec extras");
    const taskExtras = extras("task extras");
    const inputCount = int("an input count");
    const specInputs: TaskSpec["inputs"] = new Array(inputCount);
    const inputs: AssignedTask["inputs"] = new Array(inputCount);
    for (let i = 0; i < inputCount; i++) {
      const objectId = int("an input id");
      const dataType = dataTypeOf(int("a data type"));
      const size = int("an input size");
      const source = sourceOf(int("a source kind"), next);
      const extra = extras("input extras");
      const objectSpec: ObjectSpec = { id: [sid, objectId], data_type: dataType };
      const entry: AssignedTask["inputs"][number] = { spec: objectSpec, size, source };
      specInputs[i] = { id: [sid, objectId] };
      if (extra !== null) {
        if (typeof extra.label === "string") specInputs[i]!.label = extra.label;
        if (isMap(extra.spec)) Object.assign(objectSpec, extra.spec);
        if (isMap(extra.entry)) Object.assign(entry, extra.entry);
      }
      inputs[i] = entry;
    }
    const outputCount = int("an output count");
    const specOutputs: TaskSpec["outputs"] = new Array(outputCount);
    const outputs: ObjectSpec[] = new Array(outputCount);
    for (let o = 0; o < outputCount; o++) {
      const objectId = int("an output id");
      const output: ObjectSpec = { id: [sid, objectId], data_type: dataTypeOf(int("a data type")) };
      const extra = extras("output extras");
      if (extra !== null) Object.assign(output, extra);
      specOutputs[o] = [sid, objectId];
      outputs[o] = output;
    }
    const spec = {
      id: [sid, id],
      task_type: taskType,
      inputs: specInputs,
      outputs: specOutputs,
      ...(cpus >= 0 ? { resources: { cpus } } : {}),
      ...specExtras,
    } as TaskSpec;
    const task: AssignedTask = { spec, inputs, outputs };
    if (taskExtras !== null) Object.assign(task, taskExtras);
    if (attempt !== 0) task.attempt = attempt;
    tasks.push(task);
  }
  return tasks;
}

const SPEC_PACKED = new Set(["id", "task_type", "inputs", "outputs"]);
const SPEC_PACKED_SIMPLE = new Set([...SPEC_PACKED, "resources"]);
const TASK_PACKED = new Set(["spec", "inputs", "outputs", "attempt"]);
const INPUT_PACKED = new Set(["spec", "size", "source"]);
const OBJECT_PACKED = new Set(["id", "data_type"]);

/** The fields of `map` not in `packed` (and not undefined), or null when there are none. */
function rest(map: object, packed: Set<string>): Extras {
  let out: Extras = null;
  for (const key in map) {
    if (packed.has(key)) continue;
    const value = (map as Record<string, unknown>)[key];
    if (value === undefined) continue;
    (out ??= {})[key] = value;
  }
  return out;
}

function onlyCpus(resources: TaskSpec["resources"] | undefined): boolean {
  if (resources === undefined || !Number.isInteger(resources.cpus)) return false;
  for (const key in resources) {
    if (key !== "cpus" && (resources as unknown as Record<string, unknown>)[key] !== undefined) {
      return false;
    }
  }
  return (resources.cpus as number) >= 0;
}

function packable(task: AssignedTask): boolean {
  const spec = task.spec;
  const sid = spec.id[0];
  if (spec.inputs.length !== task.inputs.length) return false;
  if (spec.outputs.length !== task.outputs.length) return false;
  if (task.attempt !== undefined && !(Number.isInteger(task.attempt) && task.attempt > 0)) {
    return false;
  }
  for (let i = 0; i < task.inputs.length; i++) {
    const input = task.inputs[i]!;
    const id = input.spec.id;
    const specId = spec.inputs[i]!.id;
    if (id[0] !== sid || specId[0] !== sid || specId[1] !== id[1]) return false;
    if (!Number.isInteger(input.size) || !SOURCE_KINDS.includes(input.source.kind)) return false;
    if (dataTypeCode(input.spec.data_type) < 0) return false;
  }
  for (let o = 0; o < task.outputs.length; o++) {
    const id = task.outputs[o]!.id;
    const specId = spec.outputs[o]!;
    if (id[0] !== sid || specId[0] !== sid || specId[1] !== id[1]) return false;
    if (dataTypeCode(task.outputs[o]!.data_type) < 0) return false;
  }
  return true;
}

function dataTypeCode(type: DataType): number {
  return type === "blob" ? 0 : type === "dir" ? 1 : -1;
}

function dataTypeOf(code: number): DataType {
  if (code === 0) return "blob";
  if (code === 1) return "dir";
  throw new Error(`assign_packed: unknown data type code ${code}`);
}

function sourceOf(kind: number, next: () => unknown): ObjectSource {
  switch (kind) {
    case 0:
      return { kind: "local" };
    case 1: {
      const data = next();
      if (!(data instanceof Uint8Array)) {
        throw new Error("assign_packed: inline data must be bytes");
      }
      return { kind: "inline", data };
    }
    case 2: {
      const governors = next();
      if (!Array.isArray(governors) || !governors.every((g) => typeof g === "string")) {
        throw new Error("assign_packed: a source's governors must be strings");
      }
      return { kind: "governors", governors };
    }
    case 3:
      return { kind: "server" };
    default:
      throw new Error(`assign_packed: unknown source kind ${kind}`);
  }
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

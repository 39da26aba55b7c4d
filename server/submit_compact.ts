/**
 * Decoding of one frame of a compact submit (`application/x-rain-submit+msgpack`,
 * docs/protocol.md): a MessagePack map of little-endian uint32 columns for up to a few thousand
 * objects or tasks, and their irregular fields as one JSON text. A frame becomes the same raw
 * entries as the JSON body's `objects` / `tasks`, which server/submit.ts then checks, so both
 * encodings are validated by one code path and give the same errors.
 *
 * A pure function of the frame's bytes (and the session id): a recorded body can be decoded again.
 */
import { decode } from "@msgpack/msgpack";
import { ApiError } from "./errors.ts";
import type { Session } from "./state.ts";
import {
  claimObjectId,
  type PlannedObject,
  planObjectEntries,
  type TaskPlanner,
} from "./submit.ts";

export const COMPACT_SUBMIT_CONTENT_TYPE = "application/x-rain-submit+msgpack";

/** Largest frame accepted (a client sends frames of ~16k items, well under 4 MiB). */
export const MAX_FRAME_BYTES = 64 << 20;

/** A frame's columns, checked for length and indexes (not yet against the session). */
export type CompactFrame = ObjectColumns | TaskColumns;

export interface ObjectColumns {
  kind: "objects";
  count: number;
  ids: Uint32Array;
  flags: Uint8Array;
  labels: Uint32Array;
  strings: string[];
  sizes: Float64Array;
  extra: Map<number, Record<string, unknown>>;
}

export interface TaskColumns {
  kind: "tasks";
  count: number;
  ids: Uint32Array;
  types: Uint32Array;
  strings: string[];
  inputCounts: Uint32Array;
  inputs: Uint32Array;
  outputCounts: Uint32Array;
  outputs: Uint32Array;
  extra: Map<number, Record<string, unknown>>;
}

type Frame = Record<string, unknown>;

function bad(what: string, message: string): never {
  throw new ApiError("BadRequest", `compact submit ${what}: ${message}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function countOf(frame: Frame, key: string, what: string): number {
  const n = frame[key];
  if (!Number.isSafeInteger(n) || (n as number) < 0) {
    bad(what, `'${key}' must be a count, got ${JSON.stringify(n)}`);
  }
  return n as number;
}

/** A `bin` column of `n` little-endian uint32s (copied: MessagePack leaves it unaligned). */
function u32(frame: Frame, key: string, n: number, what: string): Uint32Array {
  const bytes = binary(frame, key, n * 4, what);
  const out = new Uint32Array(n);
  new Uint8Array(out.buffer).set(bytes);
  if (littleEndianHost) return out;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < n; i++) out[i] = view.getUint32(i * 4, true);
  return out;
}

function f64(frame: Frame, key: string, n: number, what: string): Float64Array {
  const bytes = binary(frame, key, n * 8, what);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, true);
  return out;
}

function binary(frame: Frame, key: string, size: number, what: string): Uint8Array {
  const value = frame[key] ?? (size === 0 ? new Uint8Array(0) : undefined);
  if (!(value instanceof Uint8Array)) bad(what, `'${key}' must be binary`);
  if (value.length !== size) {
    bad(what, `'${key}' has ${value.length} bytes, expected ${size}`);
  }
  return value;
}

const littleEndianHost = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function strings(frame: Frame, what: string): string[] {
  const value = frame.strings ?? [];
  if (!Array.isArray(value) || !value.every((s) => typeof s === "string")) {
    bad(what, "'strings' must be an array of strings");
  }
  return value as string[];
}

/** The sparse irregular fields: position -> fields, from `[[position, {...}], ...]` JSON. */
function extras(
  frame: Frame,
  n: number,
  allowed: ReadonlySet<string>,
  what: string,
): Map<number, Record<string, unknown>> {
  const out = new Map<number, Record<string, unknown>>();
  if (frame.extra === undefined || frame.extra === null) return out;
  if (typeof frame.extra !== "string") bad(what, "'extra' must be a JSON text");
  let list: unknown;
  try {
    list = JSON.parse(frame.extra);
  } catch (e) {
    bad(what, `'extra' is not valid JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(list)) bad(what, "'extra' must be a JSON array");
  for (const item of list) {
    if (
      !Array.isArray(item) || item.length !== 2 || !Number.isSafeInteger(item[0]) ||
      item[0] < 0 || item[0] >= n || !isRecord(item[1])
    ) {
      bad(what, `'extra' entries must be [position < ${n}, {fields}], got ${JSON.stringify(item)}`);
    }
    for (const key of Object.keys(item[1])) {
      if (!allowed.has(key)) {
        bad(what, `'extra' field ${JSON.stringify(key)} is not one of ${[...allowed]}`);
      }
    }
    out.set(item[0], item[1]);
  }
  return out;
}

/** Frame `index` of a compact submit: its columns, checked for length and indexes. */
export function decodeCompactFrame(bytes: Uint8Array, index: number): CompactFrame {
  const what = `frame ${index}`;
  let frame: unknown;
  try {
    frame = decode(bytes);
  } catch (e) {
    bad(what, `not valid MessagePack: ${(e as Error).message}`);
  }
  if (!isRecord(frame)) bad(what, "must be a MessagePack map");
  if ("objects" in frame) return objectColumns(frame, what);
  if ("tasks" in frame) return taskColumns(frame, what);
  return bad(what, "must have 'objects' or 'tasks'");
}

const DIR = 1, KEEP = 2, HAS_DATA = 4;
/** The fields a frame's `extra` may set (the others are columns). */
const OBJECT_EXTRA: ReadonlySet<string> = new Set(["label", "data_type", "content_type", "user"]);
const TASK_EXTRA: ReadonlySet<string> = new Set([
  "config",
  "name",
  "user",
  "policy",
  "resources",
  "input_labels",
]);

function objectColumns(frame: Frame, what: string): ObjectColumns {
  const count = countOf(frame, "objects", what);
  const flags = binary(frame, "flags", count, what);
  const labels = u32(frame, "labels", count, what);
  const table = strings(frame, what);
  for (const label of labels) {
    if (label > table.length) bad(what, `label index ${label} is beyond 'strings'`);
  }
  let constants = 0;
  for (const f of flags) if (f & HAS_DATA) constants++;
  return {
    kind: "objects",
    count,
    ids: u32(frame, "ids", count, what),
    flags,
    labels,
    strings: table,
    sizes: f64(frame, "sizes", constants, what),
    extra: extras(frame, count, OBJECT_EXTRA, what),
  };
}

function taskColumns(frame: Frame, what: string): TaskColumns {
  const count = countOf(frame, "tasks", what);
  const types = u32(frame, "types", count, what);
  const table = strings(frame, what);
  for (const type of types) {
    if (type >= table.length) bad(what, `task type index ${type} is beyond 'strings'`);
  }
  const inputCounts = u32(frame, "input_counts", count, what);
  const outputCounts = u32(frame, "output_counts", count, what);
  const extra = extras(frame, count, TASK_EXTRA, what);
  for (const [i, fields] of extra) {
    const labels = fields.input_labels;
    if (labels !== undefined && (!Array.isArray(labels) || labels.length !== inputCounts[i])) {
      bad(what, `input_labels of task ${i} must be an array of one label (or null) per input`);
    }
  }
  return {
    kind: "tasks",
    count,
    ids: u32(frame, "ids", count, what),
    types,
    strings: table,
    inputCounts,
    inputs: u32(frame, "inputs", sum(inputCounts), what),
    outputCounts,
    outputs: u32(frame, "outputs", sum(outputCounts), what),
    extra,
  };
}

/**
 * Object `i` of a frame as an entry of the JSON body's `objects`; `constant`: its position among
 * the frame's constants, if it is one (found by a scan if not given).
 */
export function objectEntry(
  frame: ObjectColumns,
  i: number,
  sid: number,
  constant = constantIndex(frame, i),
): Record<string, unknown> {
  const f = frame.flags[i]!;
  const spec: Record<string, unknown> = {
    id: [sid, frame.ids[i]],
    data_type: f & DIR ? "dir" : "blob",
  };
  const label = frame.labels[i]!;
  if (label > 0) spec.label = frame.strings[label - 1];
  const more = frame.extra.get(i);
  if (more) Object.assign(spec, more);
  const entry: Record<string, unknown> = { spec };
  if (f & KEEP) entry.keep = true;
  if (f & HAS_DATA) entry.data_size = frame.sizes[constant];
  return entry;
}

function constantIndex(frame: ObjectColumns, i: number): number {
  let index = 0;
  for (let k = 0; k < i; k++) if (frame.flags[k]! & HAS_DATA) index++;
  return index;
}

/**
 * The objects of a frame, planned: those the columns say all about directly (the checks of
 * server/submit.ts that apply to them: ids new), the others through `planObjectEntries`.
 */
export function planObjectFrame(
  session: Session,
  frame: ObjectColumns,
  testMode: boolean,
  seen: Set<number>,
  offset: number,
): PlannedObject[] {
  const out: PlannedObject[] = new Array(frame.count);
  let constant = 0;
  for (let i = 0; i < frame.count; i++) {
    const f = frame.flags[i]!;
    if (frame.extra.has(i)) {
      const entry = objectEntry(frame, i, session.id, constant);
      out[i] = planObjectEntries(session, [entry], testMode, seen, offset + i)[0]!;
    } else {
      const id = frame.ids[i]!;
      claimObjectId(session, seen, id);
      const label = frame.labels[i]!;
      out[i] = {
        id,
        dataType: f & DIR ? "dir" : "blob",
        keep: (f & KEEP) !== 0,
        label: label > 0 ? frame.strings[label - 1] : undefined,
        contentType: undefined,
        user: undefined,
        dataSize: f & HAS_DATA ? frame.sizes[constant] : undefined,
      };
    }
    if (f & HAS_DATA) constant++;
  }
  return out;
}

/** Task `i` of a frame as an entry of the JSON body's `tasks`; `at`: its inputs' and outputs'
 * first positions in their columns. */
export function taskSpec(
  frame: TaskColumns,
  i: number,
  sid: number,
  at: { input: number; output: number },
): Record<string, unknown> {
  const more = frame.extra.get(i);
  const labels = more?.input_labels as unknown[] | undefined;
  const inputs = new Array(frame.inputCounts[i]!);
  for (let k = 0; k < inputs.length; k++) {
    const label = labels?.[k];
    const id = [sid, frame.inputs[at.input++]];
    inputs[k] = label === undefined || label === null ? { id } : { id, label };
  }
  const outputs = new Array(frame.outputCounts[i]!);
  for (let k = 0; k < outputs.length; k++) outputs[k] = [sid, frame.outputs[at.output++]];
  const spec: Record<string, unknown> = {
    id: [sid, frame.ids[i]],
    task_type: frame.strings[frame.types[i]!],
    inputs,
    outputs,
    resources: ONE_CPU,
  };
  if (more) {
    for (const [key, value] of Object.entries(more)) {
      if (key !== "input_labels") spec[key] = value;
    }
  }
  return spec;
}

/**
 * The tasks of a frame, into `planner`: those the columns say all about by `addSimple`, the
 * others as task specs by `add` (`offset`: the frame's first task's position in the submit).
 */
export function planTaskFrame(
  planner: TaskPlanner,
  frame: TaskColumns,
  sid: number,
  offset: number,
): void {
  const at = { input: 0, output: 0 };
  for (let i = 0; i < frame.count; i++) {
    if (frame.extra.has(i)) {
      planner.add([taskSpec(frame, i, sid, at)], offset + i);
      continue;
    }
    // Plain loops: Array.from of a subarray goes through the iterator protocol (~1 µs a task).
    const inputs = new Array<number>(frame.inputCounts[i]!);
    for (let k = 0; k < inputs.length; k++) inputs[k] = frame.inputs[at.input++]!;
    const outputs = new Array<number>(frame.outputCounts[i]!);
    for (let k = 0; k < outputs.length; k++) outputs[k] = frame.outputs[at.output++]!;
    planner.addSimple(frame.ids[i]!, frame.strings[frame.types[i]!]!, inputs, outputs);
  }
}

/** Shared by every task that asks for one cpu (the planner only reads it). */
const ONE_CPU = Object.freeze({ cpus: 1 });

function sum(values: Uint32Array): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

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

export const COMPACT_SUBMIT_CONTENT_TYPE = "application/x-rain-submit+msgpack";

/** Largest frame accepted (a client sends frames of ~16k items, well under 4 MiB). */
export const MAX_FRAME_BYTES = 64 << 20;

export type CompactFrame =
  | { kind: "objects"; entries: Record<string, unknown>[] }
  | { kind: "tasks"; specs: Record<string, unknown>[] };

type Frame = Record<string, unknown>;

function bad(what: string, message: string): never {
  throw new ApiError("BadRequest", `compact submit ${what}: ${message}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function count(frame: Frame, key: string, what: string): number {
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

/** Frame `index` of a compact submit to session `sid`, as raw header entries. */
export function decodeCompactFrame(bytes: Uint8Array, sid: number, index: number): CompactFrame {
  const what = `frame ${index}`;
  let frame: unknown;
  try {
    frame = decode(bytes);
  } catch (e) {
    bad(what, `not valid MessagePack: ${(e as Error).message}`);
  }
  if (!isRecord(frame)) bad(what, "must be a MessagePack map");
  if ("objects" in frame) return { kind: "objects", entries: objectEntries(frame, sid, what) };
  if ("tasks" in frame) return { kind: "tasks", specs: taskSpecs(frame, sid, what) };
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

function objectEntries(frame: Frame, sid: number, what: string): Record<string, unknown>[] {
  const n = count(frame, "objects", what);
  const ids = u32(frame, "ids", n, what);
  const flags = binary(frame, "flags", n, what);
  const labels = u32(frame, "labels", n, what);
  const table = strings(frame, what);
  let constants = 0;
  for (const f of flags) if (f & HAS_DATA) constants++;
  const sizes = f64(frame, "sizes", constants, what);
  const extra = extras(frame, n, OBJECT_EXTRA, what);
  const entries: Record<string, unknown>[] = new Array(n);
  let constant = 0;
  for (let i = 0; i < n; i++) {
    const f = flags[i]!;
    const spec: Record<string, unknown> = {
      id: [sid, ids[i]],
      data_type: f & DIR ? "dir" : "blob",
    };
    const label = labels[i]!;
    if (label > table.length) bad(what, `label index ${label} is beyond 'strings'`);
    if (label > 0) spec.label = table[label - 1];
    const more = extra.get(i);
    if (more) Object.assign(spec, more);
    const entry: Record<string, unknown> = { spec };
    if (f & KEEP) entry.keep = true;
    if (f & HAS_DATA) entry.data_size = sizes[constant++];
    entries[i] = entry;
  }
  return entries;
}

function taskSpecs(frame: Frame, sid: number, what: string): Record<string, unknown>[] {
  const n = count(frame, "tasks", what);
  const ids = u32(frame, "ids", n, what);
  const types = u32(frame, "types", n, what);
  const table = strings(frame, what);
  const inputCounts = u32(frame, "input_counts", n, what);
  const outputCounts = u32(frame, "output_counts", n, what);
  const inputs = u32(frame, "inputs", sum(inputCounts), what);
  const outputs = u32(frame, "outputs", sum(outputCounts), what);
  const extra = extras(frame, n, TASK_EXTRA, what);
  const specs: Record<string, unknown>[] = new Array(n);
  let inputAt = 0, outputAt = 0;
  for (let i = 0; i < n; i++) {
    const type = types[i]!;
    if (type >= table.length) bad(what, `task type index ${type} is beyond 'strings'`);
    const more = extra.get(i);
    const labels = more?.input_labels;
    if (labels !== undefined && !Array.isArray(labels)) {
      bad(what, `input_labels of task ${sid}/${ids[i]} must be an array`);
    }
    const taskInputs = new Array(inputCounts[i]!);
    for (let k = 0; k < taskInputs.length; k++) {
      const label = labels?.[k];
      taskInputs[k] = label === undefined || label === null
        ? { id: [sid, inputs[inputAt++]] }
        : { id: [sid, inputs[inputAt++]], label };
    }
    const taskOutputs = new Array(outputCounts[i]!);
    for (let k = 0; k < taskOutputs.length; k++) taskOutputs[k] = [sid, outputs[outputAt++]];
    const spec: Record<string, unknown> = {
      id: [sid, ids[i]],
      task_type: table[type],
      inputs: taskInputs,
      outputs: taskOutputs,
      resources: ONE_CPU,
    };
    if (more) {
      for (const [key, value] of Object.entries(more)) {
        if (key !== "input_labels") spec[key] = value;
      }
    }
    specs[i] = spec;
  }
  return specs;
}

/** Shared by every task that asks for one cpu (the planner only reads it). */
const ONE_CPU = Object.freeze({ cpus: 1 });

function sum(values: Uint32Array): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

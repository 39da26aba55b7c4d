/**
 * The compact submit body, `application/x-rain-submit+msgpack` (docs/protocol.md; the server's
 * decoder, server/submit_compact.ts, is the reference): frames, each a 4-byte big-endian length
 * and one MessagePack map of the columns of up to `FRAME_ITEMS` objects or tasks, ended by a
 * length of 0; the constants' data follows, as in the JSON body. Ids and indexes are
 * little-endian uint32 `bin` columns; the rare irregular fields go in one JSON text `extra`.
 * Only the few MessagePack types a frame holds are written (by hand: the package has no
 * dependencies). Internal to the client.
 *
 * @module
 */
import type { ConstantData } from "./api.ts";
import { type ObjectState, objectState, type TaskState } from "./internal.ts";
import type { JsonValue } from "./types.ts";

/** Content type of a compact submit body. */
export const COMPACT_SUBMIT_CONTENT_TYPE = "application/x-rain-submit+msgpack";
/** Objects or tasks per frame: the server decodes, checks and drops one frame at a time. */
export const FRAME_ITEMS = 16384;

const DIR = 1, KEEP = 2, HAS_DATA = 4;

/** The frames of a submit (everything before the constants' data). */
export function encodeCompactSubmit(
  tasks: readonly TaskState[],
  objects: readonly ObjectState[],
): Uint8Array<ArrayBuffer> {
  const out = new Writer();
  for (let start = 0; start < objects.length; start += FRAME_ITEMS) {
    framed(out, () => objectsFrame(out, objects.slice(start, start + FRAME_ITEMS)));
  }
  for (let start = 0; start < tasks.length; start += FRAME_ITEMS) {
    framed(out, () => tasksFrame(out, tasks.slice(start, start + FRAME_ITEMS)));
  }
  out.u32be(0);
  return out.bytes();
}

/** Size of a constant's data. */
export function constantSize(data: ConstantData): number {
  return data instanceof Uint8Array ? data.length : data.size;
}

function framed(out: Writer, write: () => void): void {
  const at = out.length;
  out.u32be(0);
  write();
  out.setU32be(at, out.length - at - 4);
}

function objectsFrame(out: Writer, chunk: readonly ObjectState[]): void {
  const n = chunk.length;
  const ids = new Uint32Array(n);
  const flags = new Uint8Array(n);
  const labels = new Uint32Array(n);
  const labelIndex = new Map<string, number>(); // label -> 1-based index into strings; 0: none
  const sizes: number[] = [];
  const extra: [number, Record<string, JsonValue>][] = [];
  for (let i = 0; i < n; i++) {
    const obj = chunk[i]!;
    ids[i] = obj.n;
    const data = obj.constant;
    flags[i] = (obj.dataType === "dir" ? DIR : 0) | (obj.keep ? KEEP : 0) |
      (data !== undefined ? HAS_DATA : 0);
    if (data !== undefined) sizes.push(constantSize(data));
    if (obj.label !== undefined) labels[i] = indexOf(labelIndex, obj.label, 1);
    const fields = objectExtra(obj);
    if (fields) extra.push([i, fields]);
  }
  const entries = 5 + (sizes.length ? 1 : 0) + (extra.length ? 1 : 0);
  out.mapHeader(entries);
  out.str("objects").uint(n);
  out.str("ids").bin(u32bytes(ids));
  out.str("flags").bin(flags);
  out.str("labels").bin(u32bytes(labels));
  if (sizes.length) out.str("sizes").bin(f64bytes(sizes));
  if (extra.length) out.str("extra").str(JSON.stringify(extra));
  out.str("strings").strArray([...labelIndex.keys()]);
}

/** What the columns do not say of an object: its spec, where it was made and differs. */
function objectExtra(obj: ObjectState): Record<string, JsonValue> | undefined {
  const spec = obj.spec;
  if (spec === undefined) return obj.contentType ? { content_type: obj.contentType } : undefined;
  const fields: Record<string, JsonValue> = {};
  if (spec.label !== obj.label) fields.label = spec.label ?? null;
  if (spec.data_type !== obj.dataType) fields.data_type = spec.data_type;
  if (spec.content_type) fields.content_type = spec.content_type;
  if (spec.user && Object.keys(spec.user).length) fields.user = spec.user;
  return Object.keys(fields).length ? fields : undefined;
}

function tasksFrame(out: Writer, chunk: readonly TaskState[]): void {
  const n = chunk.length;
  const ids = new Uint32Array(n);
  const types = new Uint32Array(n);
  const inputCounts = new Uint32Array(n);
  const outputCounts = new Uint32Array(n);
  const typeIndex = new Map<string, number>();
  const inputs: number[] = [];
  const outputs: number[] = [];
  const extra: [number, Record<string, JsonValue>][] = [];
  for (let i = 0; i < n; i++) {
    const task = chunk[i]!;
    const spec = task.spec;
    let fields: Record<string, JsonValue> | undefined;
    if (spec === undefined) {
      ids[i] = task.n;
      types[i] = indexOf(typeIndex, task.taskType, 0);
      for (const obj of task.inputs) inputs.push(objectState(obj).n);
      for (const obj of task.outputs) outputs.push(objectState(obj).n);
      inputCounts[i] = task.inputs.length;
      outputCounts[i] = task.outputs.length;
      fields = taskExtra(
        task.config,
        task.name,
        undefined,
        task.policy,
        task.labels,
        task.resources,
      );
    } else {
      // Made when asked for, maybe changed since: it is what is submitted.
      ids[i] = spec.id[1];
      types[i] = indexOf(typeIndex, spec.task_type, 0);
      for (const input of spec.inputs) inputs.push(input.id[1]);
      for (const id of spec.outputs) outputs.push(id[1]);
      inputCounts[i] = spec.inputs.length;
      outputCounts[i] = spec.outputs.length;
      const labels = spec.inputs.some((i) => i.label !== undefined)
        ? spec.inputs.map((i) => i.label)
        : undefined;
      fields = taskExtra(spec.config, spec.name, spec.user, spec.policy, labels, spec.resources);
    }
    if (fields) extra.push([i, fields]);
  }
  out.mapHeader(8 + (extra.length ? 1 : 0));
  out.str("tasks").uint(n);
  out.str("ids").bin(u32bytes(ids));
  out.str("types").bin(u32bytes(types));
  out.str("input_counts").bin(u32bytes(inputCounts));
  out.str("inputs").bin(u32bytes(Uint32Array.from(inputs)));
  out.str("output_counts").bin(u32bytes(outputCounts));
  out.str("outputs").bin(u32bytes(Uint32Array.from(outputs)));
  if (extra.length) out.str("extra").str(JSON.stringify(extra));
  out.str("strings").strArray([...typeIndex.keys()]);
}

/** The irregular fields of a task (undefined when it has none). */
function taskExtra(
  config: JsonValue | undefined,
  name: string | undefined,
  user: Record<string, unknown> | undefined,
  policy: TaskState["policy"],
  labels: (string | undefined)[] | undefined,
  resources: TaskState["resources"],
): Record<string, JsonValue> | undefined {
  const oneCpu = resources.cpus === 1 && Object.keys(resources).length === 1;
  if (
    config === undefined && !name && policy === undefined && labels === undefined && oneCpu &&
    (user === undefined || Object.keys(user).length === 0)
  ) return undefined;
  const fields: Record<string, JsonValue> = {};
  if (config !== undefined) fields.config = config;
  if (name) fields.name = name;
  if (user && Object.keys(user).length) fields.user = user as JsonValue;
  if (policy !== undefined) fields.policy = policy as JsonValue;
  if (labels !== undefined) fields.input_labels = labels.map((l) => l ?? null);
  if (!oneCpu) fields.resources = resources as JsonValue;
  return fields;
}

function indexOf(table: Map<string, number>, key: string, base: number): number {
  let index = table.get(key);
  if (index === undefined) table.set(key, index = table.size + base);
  return index;
}

const littleEndianHost = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function u32bytes(values: Uint32Array): Uint8Array {
  if (littleEndianHost) return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setUint32(i * 4, v, true));
  return out;
}

function f64bytes(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setFloat64(i * 8, v, true));
  return out;
}

const encoder = new TextEncoder();

/** A growing buffer with the MessagePack writes a frame needs. */
class Writer {
  #buf = new Uint8Array(1 << 16);
  #view = new DataView(this.#buf.buffer);
  length = 0;

  #room(n: number): void {
    if (this.length + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.length));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  bytes(): Uint8Array<ArrayBuffer> {
    return this.#buf.slice(0, this.length);
  }

  u8(v: number): this {
    this.#room(1);
    this.#buf[this.length++] = v;
    return this;
  }

  u32be(v: number): this {
    this.#room(4);
    this.#view.setUint32(this.length, v);
    this.length += 4;
    return this;
  }

  setU32be(at: number, v: number): void {
    this.#view.setUint32(at, v);
  }

  raw(bytes: Uint8Array): this {
    this.#room(bytes.length);
    this.#buf.set(bytes, this.length);
    this.length += bytes.length;
    return this;
  }

  /** A header of the kinds that take fix (0-15 or 0-31), 8-bit (if any), 16- and 32-bit sizes. */
  #header(n: number, fix: number, fixMax: number, op8: number | undefined, op16: number): this {
    if (n <= fixMax) return this.u8(fix | n);
    if (op8 !== undefined && n <= 0xff) return this.u8(op8).u8(n);
    if (n <= 0xffff) {
      this.u8(op16);
      this.#room(2);
      this.#view.setUint16(this.length, n);
      this.length += 2;
      return this;
    }
    return this.u8(op16 + 1).u32be(n);
  }

  mapHeader(n: number): this {
    return this.#header(n, 0x80, 15, undefined, 0xde);
  }

  uint(v: number): this {
    if (v < 0x80) return this.u8(v);
    if (v <= 0xff) return this.u8(0xcc).u8(v);
    if (v <= 0xffff) return this.u8(0xcd).u8(v >> 8).u8(v & 0xff);
    return this.u8(0xce).u32be(v);
  }

  str(s: string): this {
    const bytes = encoder.encode(s);
    return this.#header(bytes.length, 0xa0, 31, 0xd9, 0xda).raw(bytes);
  }

  bin(bytes: Uint8Array): this {
    return this.#header(bytes.length, 0, -1, 0xc4, 0xc5).raw(bytes);
  }

  strArray(items: string[]): this {
    this.#header(items.length, 0x90, 15, undefined, 0xdc);
    for (const s of items) this.str(s);
    return this;
  }
}

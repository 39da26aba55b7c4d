/**
 * The `ClientSubmit` row (docs/events.md): `{type, session, task_count, object_count, tasks,
 * dataobjs}`. Three builders, one layout: from the submit plan (`clientSubmitJson`: `toRow`, and
 * the reference the others are tested against); in the writer thread, from the raw header the
 * client sent plus the plan's objects as columns (`submitRowJson`: the tasks are spliced, not
 * parsed); and in the writer thread from the plan's columns, for compact bodies
 * (submit_columns.ts).
 */
import type { PlannedObject, PlannedTask, SubmitPlan } from "../submit.ts";
import { joinBytes } from "../../common/bytes.ts";

/**
 * `ClientSubmit {session, tasks, dataobjs}` with the specs in their wire form (TaskSpec,
 * ObjectSpec + `keep`/`data_size`), built as one string without intermediate objects: a submit of
 * 100k tasks is serialized in a few tens of milliseconds, in the writer, not in the reactor.
 */
export function clientSubmitJson(session: number, plan: SubmitPlan): string {
  const parts: string[] = [
    `{"type":"ClientSubmit","session":${session},"task_count":${plan.tasks.length},` +
    `"object_count":${plan.objects.length},"tasks":[`,
  ];
  plan.tasks.forEach((t, i) =>
    parts.push(i === 0 ? taskJson(session, t) : "," + taskJson(session, t))
  );
  parts.push(`],"dataobjs":[`);
  plan.objects.forEach((o, i) =>
    parts.push(i === 0 ? objectJson(session, o) : "," + objectJson(session, o))
  );
  parts.push("]}");
  return parts.join("");
}

export function taskJson(s: number, t: PlannedTask): string {
  let inputs = "";
  for (let i = 0; i < t.inputs.length; i++) {
    const label = t.inputLabels?.[i];
    if (i > 0) inputs += ",";
    inputs += label === undefined
      ? `{"id":[${s},${t.inputs[i]}]}`
      : `{"id":[${s},${t.inputs[i]}],"label":${JSON.stringify(label)}}`;
  }
  let outputs = "";
  for (let i = 0; i < t.outputs.length; i++) {
    outputs += i > 0 ? `,[${s},${t.outputs[i]}]` : `[${s},${t.outputs[i]}]`;
  }
  const resources = t.request ? JSON.stringify(t.request) : `{"cpus":${t.cpus}}`;
  let json = `{"id":[${s},${t.id}],"task_type":${
    JSON.stringify(t.taskType)
  },"inputs":[${inputs}],"outputs":[${outputs}],"resources":${resources}`;
  if (t.config !== undefined) json += `,"config":${JSON.stringify(t.config)}`;
  if (t.policy !== undefined) json += `,"policy":${JSON.stringify(t.policy)}`;
  if (t.name !== undefined) json += `,"name":${JSON.stringify(t.name)}`;
  if (t.user !== undefined) json += `,"user":${JSON.stringify(t.user)}`;
  return json + "}";
}

export function objectJson(s: number, o: PlannedObject): string {
  let json = `{"id":[${s},${o.id}],"data_type":"${o.dataType}"`;
  if (o.label !== undefined) json += `,"label":${JSON.stringify(o.label)}`;
  if (o.contentType !== undefined) json += `,"content_type":${JSON.stringify(o.contentType)}`;
  if (o.user !== undefined) json += `,"user":${JSON.stringify(o.user)}`;
  if (o.keep) json += `,"keep":true`;
  if (o.dataSize !== undefined) json += `,"data_size":${o.dataSize}`;
  return json + "}";
}

/**
 * The planned objects of a submit as flat columns (cheap to build and to transfer to the writer,
 * which turns them into `dataobjs` without parsing the submit): ids, sizes, flags (1 dir, 2 keep,
 * 4 has data_size), label indexes into `strings` (-1: none), and the rare content types and users
 * as `[index, contentType | null, user JSON | null]`.
 */
export function objectColumns(objects: PlannedObject[]) {
  const count = objects.length;
  const ids = new Float64Array(count);
  const sizes = new Float64Array(count);
  const flags = new Uint8Array(count);
  const labels = new Int32Array(count);
  const strings: string[] = [];
  const interned = new Map<string, number>();
  const extra: [number, string | null, string | null][] = [];
  for (const [i, o] of objects.entries()) {
    ids[i] = o.id;
    flags[i] = (o.dataType === "dir" ? 1 : 0) | (o.keep ? 2 : 0) |
      (o.dataSize !== undefined ? 4 : 0);
    if (o.dataSize !== undefined) sizes[i] = o.dataSize;
    if (o.label === undefined) {
      labels[i] = -1;
    } else {
      let index = interned.get(o.label);
      if (index === undefined) interned.set(o.label, index = strings.push(o.label) - 1);
      labels[i] = index;
    }
    if (o.contentType !== undefined || o.user !== undefined) {
      extra.push([i, o.contentType ?? null, o.user === undefined ? null : JSON.stringify(o.user)]);
    }
  }
  return { ids, sizes, flags, labels, strings, extra };
}

/** What the server's thread sends the writer for a submit (buffers are transferred). */
export interface SubmitMessage {
  ts: string;
  session: number;
  /** The submit header's JSON as the client sent it (UTF-8). */
  header: Uint8Array;
  taskCount: number;
  objects: ObjectColumns;
}

export type ObjectColumns = ReturnType<typeof objectColumns>;

/** The buffers of a `SubmitMessage` to transfer rather than copy. */
export function submitTransfer(m: SubmitMessage): ArrayBuffer[] {
  const o = m.objects;
  return [m.header, o.ids, o.sizes, o.flags, o.labels].map((a) => a.buffer as ArrayBuffer);
}

/** The header as a whole buffer of its own (so that it can be transferred). */
export function ownBuffer(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    ? bytes
    : bytes.slice();
}

/** The row's JSON as UTF-8: spliced when the header is as expected, else parsed. */
export function submitRowJson(m: SubmitMessage): Uint8Array | string {
  return splicedSubmitJson(m) ?? parsedSubmitJson(m);
}

/**
 * `tasks` spliced from the raw header as the client sent them (found by `topLevelValue`),
 * `dataobjs` built from the columns of the planned objects. Undefined when the header is not as
 * expected.
 */
function splicedSubmitJson(m: SubmitMessage): Uint8Array | undefined {
  let range: [number, number] | null;
  try {
    range = topLevelValue(m.header, "tasks");
    // Spliced bytes must be valid UTF-8 (the check allocates a string only for a moment).
    if (range !== null) {
      new TextDecoder("utf-8", { fatal: true }).decode(m.header.subarray(...range));
    }
  } catch {
    return undefined;
  }
  const encoder = new TextEncoder();
  const tasks = range === null ? encoder.encode("[]") : m.header.subarray(...range);
  if (tasks[0] !== 0x5b) return undefined;
  const o = m.objects;
  const s = m.session;
  return joinBytes([
    encoder.encode(
      `{"type":"ClientSubmit","session":${s},"task_count":${m.taskCount},` +
        `"object_count":${o.ids.length},"tasks":`,
    ),
    tasks,
    encoder.encode(`,"dataobjs":[`),
    ...dataobjsPieces(o, s, encoder),
    encoder.encode("]}"),
  ]);
}

/**
 * The items of `dataobjs` (comma-separated, no brackets) from the objects' columns, as UTF-8, 10k
 * objects per piece: no 30 MB string, no UTF-8 copy of one.
 */
export function dataobjsPieces(o: ObjectColumns, s: number, encoder: TextEncoder): Uint8Array[] {
  const labels = o.strings.map((l) => `,"label":${JSON.stringify(l)}`);
  const pieces: Uint8Array[] = [];
  let e = 0;
  for (let from = 0; from < o.ids.length; from += 10_000) {
    let text = "";
    for (let i = from; i < Math.min(o.ids.length, from + 10_000); i++) {
      const flags = o.flags[i]!;
      let json = `{"id":[${s},${o.ids[i]}],"data_type":"${flags & 1 ? "dir" : "blob"}"`;
      const label = o.labels[i]!;
      if (label >= 0) json += labels[label];
      const extra = o.extra[e];
      if (extra !== undefined && extra[0] === i) {
        e++;
        const [, contentType, user] = extra;
        if (contentType !== null) json += `,"content_type":${JSON.stringify(contentType)}`;
        if (user !== null) json += `,"user":${user}`;
      }
      if (flags & 2) json += `,"keep":true`;
      if (flags & 4) json += `,"data_size":${o.sizes[i]}`;
      text += (i > 0 ? "," : "") + json + "}";
    }
    pieces.push(encoder.encode(text));
  }
  return pieces;
}

/** The fallback: the header parsed, specs completed with their defaults. */
function parsedSubmitJson(m: SubmitMessage): string {
  const header: unknown = JSON.parse(new TextDecoder().decode(m.header));
  const h = isRecord(header) ? header : {};
  const tasks = (Array.isArray(h.tasks) ? h.tasks : []).map((t: unknown) => {
    const task = isRecord(t) ? { ...t } : {};
    task.resources ??= { cpus: 1 };
    return task;
  });
  const dataobjs = (Array.isArray(h.objects) ? h.objects : []).map((o: unknown) => {
    const object = isRecord(o) ? o : {};
    const spec: Record<string, unknown> = isRecord(object.spec) ? { ...object.spec } : {};
    spec.data_type ??= "blob";
    if (object.keep === true) spec.keep = true;
    if (typeof object.data_size === "number") spec.data_size = object.data_size;
    return spec;
  });
  return JSON.stringify({
    type: "ClientSubmit",
    session: m.session,
    task_count: tasks.length,
    object_count: dataobjs.length,
    tasks,
    dataobjs,
  });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * `[start, end)` byte range of the value of `key` in the top-level JSON object `bytes` (UTF-8),
 * null if the object has no such key; throws if `bytes` is not a JSON object as expected.
 * A scan of structure only (strings skipped, depth counted): far cheaper than parsing.
 */
export function topLevelValue(bytes: Uint8Array, key: string): [number, number] | null {
  const n = bytes.length;
  // Callers check i < n first; past the end is not whitespace either.
  const ws = (c: number | undefined) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
  const skipWs = (i: number) => {
    while (i < n && ws(bytes[i])) i++;
    return i;
  };
  const endOfString = (i: number) => { // i at the opening quote
    i++;
    while (i < n && bytes[i] !== 0x22) i += bytes[i] === 0x5c ? 2 : 1;
    if (i >= n) throw new Error("unterminated string");
    return i + 1;
  };
  const endOfValue = (i: number) => {
    const c = bytes[i];
    if (c === 0x22) return endOfString(i);
    if (c === 0x7b || c === 0x5b) {
      let depth = 0;
      while (i < n) {
        const b = bytes[i];
        if (b === 0x22) {
          i = endOfString(i);
          continue;
        }
        if (b === 0x7b || b === 0x5b) depth++;
        else if (b === 0x7d || b === 0x5d) {
          if (--depth === 0) return i + 1;
        }
        i++;
      }
      throw new Error("unterminated value");
    }
    while (i < n && bytes[i] !== 0x2c && bytes[i] !== 0x7d && !ws(bytes[i])) i++;
    return i;
  };
  const wanted = new TextEncoder().encode(key);
  let i = skipWs(0);
  if (bytes[i] !== 0x7b) throw new Error("not an object");
  i = skipWs(i + 1);
  if (bytes[i] === 0x7d) return null;
  for (;;) {
    if (bytes[i] !== 0x22) throw new Error("expected a key");
    const keyEnd = endOfString(i);
    const same = keyEnd - i - 2 === wanted.length &&
      wanted.every((b, k) => bytes[i + 1 + k] === b);
    i = skipWs(keyEnd);
    if (bytes[i] !== 0x3a) throw new Error("expected ':'");
    const start = skipWs(i + 1);
    const end = endOfValue(start);
    if (same) return [start, end];
    i = skipWs(end);
    if (bytes[i] === 0x2c) {
      i = skipWs(i + 1);
      continue;
    }
    if (bytes[i] === 0x7d) return null;
    throw new Error("expected ',' or '}'");
  }
}

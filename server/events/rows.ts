/**
 * Rows of `events` (reference §4; docs/events.md): `[timestamp, event_type, session, event JSON]`.
 *
 * Every row's JSON is built by ONE function here, used on the server's thread (`toRow`) and in
 * the writer thread (`decodeTaskBatch`, for task events that travel as columns).
 */
import type { TaskInfo } from "../../common/attributes.ts";
import type { CloseReason, PendingEvent } from "./event.ts";
import type { RowCounts } from "./store.ts";
import { clientSubmitJson } from "./submit_json.ts";

/** `[timestamp, event_type, session, event JSON]` */
export type EventRow = [string, string, number | null, string];

/** `Date` → RFC 3339, cached for runs of events of the same millisecond. */
export class IsoClock {
  #lastMs = -1;
  #lastIso = "";
  iso(ms: number): string {
    if (ms !== this.#lastMs) {
      this.#lastMs = ms;
      this.#lastIso = new Date(ms).toISOString();
    }
    return this.#lastIso;
  }
}

/** `slots`: the governor's cpu slots it runs on (`info.slots`; none: not reported). */
export function taskStartedJson(
  session: number,
  task: number,
  governor: string,
  startTime: string,
  slots?: ArrayLike<number>,
): string {
  let slotsJson = "";
  if (slots !== undefined && slots.length > 0) {
    slotsJson = `,"slots":[${Array.prototype.join.call(slots, ",")}]`;
  }
  return `{"type":"TaskStarted","task":[${session},${task}],"info":{"governor":${
    JSON.stringify(governor)
  },"start_time":${JSON.stringify(startTime)}${slotsJson}}}`;
}

/** `infoJson`: the TaskInfo as JSON; `outputs`: `[id, size]` pairs (absent for a failure). */
export function taskFinishedJson(
  session: number,
  task: number,
  infoJson: string,
  outputs: ArrayLike<readonly [number, number]> | undefined,
): string {
  let json = `{"type":"TaskFinished","task":[${session},${task}],"info":${infoJson}`;
  if (outputs !== undefined) {
    json += `,"outputs":[`;
    for (let o = 0; o < outputs.length; o++) {
      const pair = outputs[o]!;
      json += `${o > 0 ? "," : ""}[${pair[0]},${pair[1]}]`;
    }
    json += "]";
  }
  return json + "}";
}

/** The info JSON of the common case `{governor, start_time, duration}` (key order kept). */
function simpleInfoJson(governor: string, startTime: string, duration: number): string {
  return `{"governor":${JSON.stringify(governor)},"start_time":${
    JSON.stringify(startTime)
  },"duration":${duration}}`;
}

export function sessionClosedJson(session: number, reason: CloseReason, message: string): string {
  return JSON.stringify({ type: "SessionClosed", session, reason, message });
}

export function clientUnkeepJson(session: number, objects: readonly number[]): string {
  return `{"type":"ClientUnkeep","session":${session},"dataobjs":[${
    objects.map((id) => `[${session},${id}]`).join(",")
  }]}`;
}

/** The stored row of an event. */
export function toRow(e: PendingEvent, clock: IsoClock): EventRow {
  const ts = clock.iso(e.time);
  switch (e.type) {
    case "TaskStarted":
      return [
        ts,
        e.type,
        e.session,
        taskStartedJson(e.session, e.task, e.governor, e.start_time, e.slots),
      ];
    case "TaskFinished":
      return [
        ts,
        e.type,
        e.session,
        taskFinishedJson(
          e.session,
          e.task,
          JSON.stringify(e.info),
          e.outputs?.map((o) => [o.id[1], o.size] as const),
        ),
      ];
    case "ServerStart": {
      const { version, pid, listen, http_listen } = e;
      return [
        ts,
        e.type,
        null,
        JSON.stringify({ type: e.type, version, pid, listen, http_listen }),
      ];
    }
    case "GovernorNew":
      return [
        ts,
        e.type,
        null,
        JSON.stringify({
          type: e.type,
          governor: e.governor,
          resources: { cpus: e.cpus },
          executors: e.executors,
        }),
      ];
    case "GovernorRemoved":
      return [
        ts,
        e.type,
        null,
        JSON.stringify({
          type: e.type,
          governor: e.governor,
          error: e.error,
          ...(e.orderly ? { orderly: true } : {}),
        }),
      ];
    case "ClientNew":
    case "ClientRemoved":
      return [ts, e.type, null, JSON.stringify({ type: e.type, client: e.client })];
    case "SessionNew":
      return [
        ts,
        e.type,
        e.session,
        JSON.stringify({ type: e.type, session: e.session, client: e.client, spec: e.spec }),
      ];
    case "SessionClosed":
      return [ts, e.type, e.session, sessionClosedJson(e.session, e.reason, e.message)];
    case "ClientSubmit":
      return [ts, e.type, e.session, clientSubmitJson(e.session, e.plan)];
    case "ClientUnkeep":
      return [ts, e.type, e.session, clientUnkeepJson(e.session, e.objects)];
    case "Monitoring": {
      const s = e.sample;
      return [
        ts,
        e.type,
        null,
        JSON.stringify({
          type: e.type,
          governor: e.governor,
          timestamp: s.timestamp,
          cpu_usage: s.cpu_usage,
          mem_usage: s.mem_usage,
          net_stat: s.net_stat,
        }),
      ];
    }
    case "GovernorStalled":
      return [
        ts,
        e.type,
        null,
        JSON.stringify({ type: e.type, governor: e.governor, stalled: e.stalled }),
      ];
    case "GovernorDrain":
      return [ts, e.type, null, JSON.stringify({ type: e.type, governor: e.governor })];
    case "ObjectLost":
      return [
        ts,
        e.type,
        e.session,
        `{"type":"ObjectLost","object":[${e.session},${e.object}]}`,
      ];
    case "TaskRequeued":
      return [
        ts,
        e.type,
        e.session,
        JSON.stringify({
          type: e.type,
          task: [e.session, e.task],
          attempt: e.attempt,
          crashes: e.crashes,
          reason: e.reason,
          started: e.started,
        }),
      ];
    case "TaskRerun":
      return [
        ts,
        e.type,
        e.session,
        JSON.stringify({
          type: e.type,
          task: [e.session, e.task],
          attempt: e.attempt,
          object: [e.session, e.object],
        }),
      ];
    case "TaskOutput":
      return [
        ts,
        e.type,
        e.session,
        JSON.stringify({
          type: e.type,
          task: [e.session, e.task],
          attempt: e.attempt,
          ...e.output,
        }),
      ];
    case "DataTransfer": {
      const t = e.transfer;
      return [
        ts,
        e.type,
        t.object[0],
        JSON.stringify({
          type: e.type,
          object: t.object,
          from: t.from,
          to: e.to,
          bytes: t.bytes,
          start_time: t.start_time,
          duration: t.duration,
        }),
      ];
    }
  }
}

// -------------------------------------------------------------------------------------------
// Task events as columns: a structured clone of three flat arrays is far cheaper than one of
// objects or of built JSON text; the writer thread builds the rows.

/** How one event is laid out in the columns. */
export enum RowKind {
  /** A ready row: numbers `time, session (-1: null)`; strings `event_type, event JSON`. */
  Ready = 0,
  /** numbers `time, session, task, slot count, slots…`; strings `governor, start_time`. */
  TaskStarted = 1,
  /** numbers `time, session, task, duration, outputs…`; strings `governor, start_time`. */
  TaskFinishedSimple = 2,
  /** numbers `time, session, task, failed (0 | 1), outputs…`; strings `info JSON`. */
  TaskFinished = 3,
}

/** A batch of events; `outputs…` is a count (-1: none) then `id, size` pairs. */
export interface RowColumns {
  kinds: RowKind[];
  numbers: number[];
  strings: string[];
}

export function newColumns(): RowColumns {
  return { kinds: [], numbers: [], strings: [] };
}

/** Appends a task event (the only events frequent enough to need columns) or a ready row. */
export function encodeEvent(c: RowColumns, e: PendingEvent, clock: IsoClock): void {
  if (e.type === "TaskStarted") {
    c.kinds.push(RowKind.TaskStarted);
    c.numbers.push(e.time, e.session, e.task);
    const slots = e.slots ?? NO_SLOTS;
    c.numbers.push(slots.length);
    for (let i = 0; i < slots.length; i++) c.numbers.push(slots[i]!);
    c.strings.push(e.governor, e.start_time);
    return;
  }
  if (e.type !== "TaskFinished") {
    const row = toRow(e, clock);
    c.kinds.push(RowKind.Ready);
    c.numbers.push(e.time, row[2] ?? -1);
    c.strings.push(row[1], row[3]);
    return;
  }
  const info: Readonly<TaskInfo> = e.info;
  c.numbers.push(e.time, e.session, e.task);
  if (isSimpleInfo(info)) {
    c.kinds.push(RowKind.TaskFinishedSimple);
    c.strings.push(info.governor, info.start_time);
    c.numbers.push(info.duration);
  } else {
    c.kinds.push(RowKind.TaskFinished);
    c.numbers.push(isFailure(info) ? 1 : 0);
    c.strings.push(JSON.stringify(info));
  }
  if (e.outputs === undefined) {
    c.numbers.push(-1);
  } else {
    c.numbers.push(e.outputs.length);
    for (const o of e.outputs) c.numbers.push(o.id[1], o.size);
  }
}

/** A finished task's info tells a failure by a non-empty `error` (docs/events.md). */
export function isFailure(info: Readonly<TaskInfo>): boolean {
  return typeof info.error === "string" && info.error !== "";
}

function isSimpleInfo(
  info: Readonly<TaskInfo>,
): info is { governor: string; start_time: string; duration: number } {
  return typeof info.governor === "string" && typeof info.start_time === "string" &&
    typeof info.duration === "number" && Number.isFinite(info.duration) &&
    Object.keys(info).length === 3;
}

/** The rows of a batch of `encodeEvent` (in the writer thread), and the failures' counts. */
export function decodeColumns(
  c: RowColumns,
  clock: IsoClock,
): { rows: EventRow[]; counts: (RowCounts | undefined)[] } {
  const { kinds, numbers, strings } = c;
  const rows: EventRow[] = new Array(kinds.length);
  const counts: (RowCounts | undefined)[] = [];
  let n = 0, s = 0;
  const num = () => numbers[n++]!;
  const str = () => strings[s++]!;
  for (let r = 0; r < kinds.length; r++) {
    const kind = kinds[r];
    const ts = clock.iso(num());
    const session = num();
    if (kind === RowKind.Ready) {
      const type = str();
      rows[r] = [ts, type, session < 0 ? null : session, str()];
      continue;
    }
    const task = num();
    if (kind === RowKind.TaskStarted) {
      const slots: number[] = new Array(num());
      for (let i = 0; i < slots.length; i++) slots[i] = num();
      const governor = str();
      rows[r] = [
        ts,
        "TaskStarted",
        session,
        taskStartedJson(session, task, governor, str(), slots),
      ];
      continue;
    }
    let infoJson: string;
    if (kind === RowKind.TaskFinishedSimple) {
      const governor = str();
      infoJson = simpleInfoJson(governor, str(), num());
    } else {
      if (num() === 1) counts[r] = FAILED;
      infoJson = str();
    }
    const count = num();
    let outputs: [number, number][] | undefined;
    if (count >= 0) {
      outputs = new Array(count);
      for (let o = 0; o < count; o++) outputs[o] = [num(), num()];
    }
    rows[r] = [ts, "TaskFinished", session, taskFinishedJson(session, task, infoJson, outputs)];
  }
  return { rows, counts };
}

const FAILED: RowCounts = { failed: 1 };
const NO_SLOTS: readonly number[] = [];

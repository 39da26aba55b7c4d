/**
 * An events.db read back into a ViewModel: the light state of every session and governor
 * (`loadLight`: rare rows one by one, task rows counted by SQLite, counts from event_counts: no
 * submit's text is parsed) and, when a session is looked at, its details (`replayDetail`: its
 * rows parsed and applied as the live server applies events).
 */
import type { DatabaseSync } from "node:sqlite";
import type { TaskInfo } from "../../common/attributes.ts";
import { type CloseReason, RERUN_FAILED_REASON, RETRY_PREFIX } from "./event.ts";
import { countsFrom } from "./store.ts";
import { SessionDetail, type SubmittedTask, type ViewModel } from "./view_model.ts";

type Json = Record<string, unknown>;

/** The reasons of governors that left in order, in logs written before `orderly` was. */
const ORDERLY_REASONS = new Set(["the governor stopped", "the server stopped"]);

function isRecord(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function array(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** The id within its session of `[session, id]`. */
function localId(v: unknown): number | undefined {
  const id = Array.isArray(v) ? v[1] : undefined;
  return typeof id === "number" ? id : undefined;
}

/**
 * Applies the light state of rows after `afterId`; returns the last row id seen. Sessions it
 * creates have no details in memory (`detailDropped`).
 */
export function loadLight(db: DatabaseSync, model: ViewModel, afterId = 0): number {
  const maxRow = db.prepare("SELECT max(id) AS m FROM events").get()?.m;
  if (typeof maxRow !== "number" || maxRow <= afterId) return afterId;
  const from = countsFrom(db);
  const counted = Number.isFinite(from);
  const join = counted ? "LEFT JOIN event_counts c ON c.id = e.id" : "";
  const count = (column: string, fallback: string) =>
    counted
      ? `CASE WHEN e.id >= ${from} THEN coalesce(c.${column}, 0) ELSE ${fallback} END`
      : fallback;
  const rare = db.prepare(
    `SELECT e.id, e.timestamp AS ts, e.event_type AS type, e.session,
       CASE WHEN e.event_type != 'ClientSubmit' THEN e.event END AS event,
       CASE WHEN e.event_type = 'ClientSubmit' THEN ${
      count(
        "tasks",
        "coalesce(json_extract(e.event, '$.task_count'), json_array_length(e.event, '$.tasks'))",
      )
    } END AS tasks,
       CASE WHEN e.event_type = 'ClientSubmit' THEN ${
      count(
        "objects",
        "coalesce(json_extract(e.event, '$.object_count'), json_array_length(e.event, '$.dataobjs'))",
      )
    } END AS objects
     FROM events e ${join}
     WHERE e.event_type IN ('SessionNew', 'SessionClosed', 'GovernorNew', 'GovernorRemoved',
       'GovernorStalled', 'GovernorDrain', 'ClientSubmit') AND e.id > ? AND e.id <= ?
     ORDER BY e.id`,
  );
  // `+event_type`: SQLite stays on the rowid range (not the event_type index).
  const tasks = db.prepare(
    `SELECT e.session, e.event_type AS type, count(*) AS n, max(e.timestamp) AS last,
       sum(CASE WHEN e.event_type = 'TaskFinished' THEN ${
      count("failed", "CASE WHEN json_extract(e.event, '$.info.error') != '' THEN 1 ELSE 0 END")
    } ELSE 0 END) AS failed,
       sum(CASE WHEN e.event_type = 'TaskRequeued'
         AND json_extract(e.event, '$.reason') LIKE '${RETRY_PREFIX}%' THEN 1 ELSE 0 END) AS retries,
       sum(CASE WHEN e.event_type = 'TaskRequeued'
         AND json_extract(e.event, '$.started') THEN 1 ELSE 0 END) AS started,
       sum(CASE WHEN e.event_type = 'TaskRequeued' AND json_extract(e.event, '$.started')
         AND json_extract(e.event, '$.reason') NOT LIKE '${RETRY_PREFIX}%'
         AND json_extract(e.event, '$.reason') != '${RERUN_FAILED_REASON}' THEN 1 ELSE 0 END)
         AS lost,
       sum(CASE WHEN e.event_type = 'TaskRequeued'
         AND json_extract(e.event, '$.reason') = '${RERUN_FAILED_REASON}' THEN 1 ELSE 0 END)
         AS unfailed
     FROM events e ${join}
     WHERE e.id > ? AND e.id <= ?
       AND +e.event_type IN ('TaskStarted', 'TaskFinished', 'TaskRequeued', 'TaskRerun')
     GROUP BY e.session, e.event_type`,
  );
  for (const r of rare.iterate(afterId, maxRow)) {
    const time = Date.parse(String(r.ts));
    const session = typeof r.session === "number" ? r.session : -1;
    if (r.type === "ClientSubmit") {
      const s = model.sessions.get(session);
      if (!s) continue;
      s.tasksTotal += Number(r.tasks ?? 0);
      s.objectsTotal += Number(r.objects ?? 0);
      s.submits++;
      if (time > s.last) s.last = time;
      continue;
    }
    const e: unknown = JSON.parse(String(r.event));
    if (!isRecord(e)) continue;
    switch (r.type) {
      case "SessionNew":
        model.apply({
          type: "SessionNew",
          time,
          session,
          client: typeof e.client === "number" ? e.client : null,
          spec: isRecord(e.spec) ? e.spec : {},
        });
        model.sessions.get(session)!.detailDropped = true;
        break;
      case "SessionClosed":
        model.apply({
          type: "SessionClosed",
          time,
          session,
          reason: String(e.reason) as CloseReason,
          message: String(e.message ?? ""),
        });
        break;
      case "GovernorNew":
        model.apply({
          type: "GovernorNew",
          time,
          governor: String(e.governor),
          cpus: Number((isRecord(e.resources) ? e.resources.cpus : 0) ?? 0),
          executors: array(e.executors).map(String),
        });
        break;
      case "GovernorRemoved":
        model.apply({
          type: "GovernorRemoved",
          time,
          governor: String(e.governor),
          error: String(e.error ?? ""),
          orderly: e.orderly === true || ORDERLY_REASONS.has(String(e.error)),
        });
        break;
      case "GovernorStalled":
        model.apply({
          type: "GovernorStalled",
          time,
          governor: String(e.governor),
          stalled: e.stalled === true,
        });
        break;
      case "GovernorDrain":
        model.apply({ type: "GovernorDrain", time, governor: String(e.governor) });
        break;
    }
  }
  for (const a of tasks.iterate(afterId, maxRow)) {
    const s = model.sessions.get(a.session as number);
    if (!s) continue;
    const n = Number(a.n);
    if (a.type === "TaskStarted") {
      s.started += n;
    } else if (a.type === "TaskRerun") {
      s.reruns += n;
    } else if (a.type === "TaskRequeued") {
      // As countRequeue (view_model.ts) counts them one by one.
      s.retries += Number(a.retries ?? 0);
      s.requeuedStarted += Number(a.started ?? 0);
      s.lostAttempts += Number(a.lost ?? 0);
      s.failed = Math.max(0, s.failed - Number(a.unfailed ?? 0));
    } else {
      const failed = Number(a.failed ?? 0);
      s.failed += failed;
      s.finished += n - failed;
    }
    const last = Date.parse(String(a.last));
    if (last > s.last) s.last = last;
  }
  return maxRow;
}

/**
 * Applies the detail rows of session `sid` after `afterId` to `detail` (a new one by default);
 * returns it and the last row id applied.
 */
export function replayDetail(
  db: DatabaseSync,
  sid: number,
  detail = new SessionDetail(),
  afterId = 0,
): { detail: SessionDetail; lastId: number } {
  let lastId = afterId;
  const rows = db.prepare(
    `SELECT id, timestamp AS ts, event_type AS type, event FROM events
     WHERE session = ? AND id > ? AND event_type IN
       ('ClientSubmit', 'TaskStarted', 'TaskFinished', 'DataTransfer', 'TaskRequeued', 'TaskRerun')
     ORDER BY id`,
  );
  for (const r of rows.iterate(sid, afterId)) {
    lastId = r.id as number;
    const time = Date.parse(String(r.ts));
    const e: unknown = JSON.parse(String(r.event));
    if (!isRecord(e)) continue;
    switch (r.type) {
      case "ClientSubmit":
        applySubmit(detail, time, e);
        break;
      case "TaskStarted": {
        const id = localId(e.task);
        const info = isRecord(e.info) ? e.info : {};
        if (id === undefined) break;
        const slots = Array.isArray(info.slots) && info.slots.every(Number.isInteger)
          ? info.slots as number[]
          : undefined;
        detail.started(id, String(info.governor ?? ""), String(info.start_time ?? ""), slots);
        break;
      }
      case "TaskFinished": {
        const id = localId(e.task);
        if (id === undefined) break;
        const outputs = Array.isArray(e.outputs)
          ? e.outputs.map((o) => {
            const [oid, size] = array(o) as [number, number];
            return { id: [sid, oid] as const, size: Number(size) };
          })
          : undefined;
        detail.finished(time, id, (isRecord(e.info) ? e.info : {}) as TaskInfo, outputs);
        break;
      }
      case "TaskRequeued": {
        const id = localId(e.task);
        if (id !== undefined) detail.requeued(time, id, String(e.reason ?? ""), e.started === true);
        break;
      }
      case "TaskRerun": {
        const id = localId(e.task);
        if (id !== undefined) detail.rerun(time, id, localId(e.object) ?? -1);
        break;
      }
      case "DataTransfer":
        detail.transferred(String(e.to), {
          object: [sid, localId(e.object) ?? -1],
          from: String(e.from),
          bytes: Number(e.bytes),
          start_time: String(e.start_time),
          duration: Number(e.duration),
        });
        break;
    }
  }
  return { detail, lastId };
}

function applySubmit(detail: SessionDetail, time: number, e: Json): void {
  const taskSpecs = array(e.tasks).filter(isRecord);
  const objectSpecs = array(e.dataobjs).filter(isRecord);
  const tasks: SubmittedTask[] = [];
  for (const t of taskSpecs) {
    const id = localId(t.id);
    if (id === undefined) continue;
    const taskType = String(t.task_type ?? "");
    tasks.push({
      id,
      taskType,
      name: typeof t.name === "string" ? t.name : undefined,
      inputs: array(t.inputs).flatMap((i) => {
        const input = isRecord(i) ? localId(i.id) : undefined;
        return input === undefined ? [] : [input];
      }),
      outputs: array(t.outputs).flatMap((o) => {
        const output = localId(o);
        return output === undefined ? [] : [output];
      }),
    });
  }
  const objects = objectSpecs.flatMap((o) => {
    const id = localId(o.id);
    return id === undefined ? [] : [{
      id,
      dataSize: typeof o.data_size === "number" ? o.data_size : undefined,
    }];
  });
  // Positions are those of the lists as filtered (entries without an id are skipped).
  const specTasks = taskSpecs.filter((t) => localId(t.id) !== undefined);
  const specObjects = objectSpecs.filter((o) => localId(o.id) !== undefined);
  detail.submitted(time, tasks, objects, {
    task: (pos) => specTasks[pos],
    object: (pos) => specObjects[pos],
  });
}

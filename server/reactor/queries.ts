/**
 * Queries: waiting for tasks and objects (and waking the waiters), their states (`update`) and
 * `server_info`. Nothing here changes the graph.
 */
import type { ObjectInfo, ObjectState, TaskInfo, TaskState } from "../../common/attributes.ts";
import type { ServerInfoResponse, UpdateResponse } from "../../common/messages.ts";
import { ApiError } from "../errors.ts";
import type { DataObject, Session, Task, Waiter, WaitOutcome } from "../state.ts";
import type { ReactorContext } from "./core.ts";
import { graphPartOf } from "./objects.ts";
import { allDoneOutcome } from "./failures.ts";

/**
 * Waits until the given tasks and objects are finished ("all") or one of them is ("some").
 * Resolves at once when already done.
 */
export function wait(
  session: Session,
  taskIds: number[],
  objectIds: number[],
  mode: "all" | "some",
): Promise<WaitOutcome> {
  const tasks = taskIds.map((id) => {
    const task = session.tasks.get(id);
    if (!task) throw new ApiError("NotFound", `task ${session.id}/${id} was not submitted`);
    return task;
  });
  const objects = objectIds.map((id) => {
    const obj = session.objects.get(id);
    if (!obj) throw new ApiError("NotFound", `object ${session.id}/${id} was not submitted`);
    return obj;
  });
  const over = sessionOver(session);
  if (over) return Promise.resolve(over);
  // Over without result ("continue" sessions, cancel): the wait fails at once.
  const failedTask = tasks.find((t) => t.state === "failed");
  const error = failedTask
    ? failedTask.info.error ?? "failed"
    : objects.find((o) => o.error)?.error;
  if (error !== undefined) return Promise.resolve({ kind: "taskFailed", error });
  const pending: (Task | DataObject)[] = [
    ...tasks.filter((t) => t.state !== "finished"),
    ...objects.filter((o) => o.state === "unfinished"),
  ];
  const total = tasks.length + objects.length;
  const finishedCount = total - pending.length;
  if (pending.length === 0 || (mode === "some" && finishedCount > 0)) {
    return Promise.resolve({ kind: "done" });
  }
  return new Promise((resolve) => {
    const waiter: Waiter = {
      remaining: mode === "all" ? pending.length : 1,
      settled: false,
      resolve,
    };
    for (const item of pending) (item.waiters ??= []).push(waiter);
  });
}

/**
 * The outcome of any wait of a session that failed or closed: it settled its waiters then, so a
 * later wait (a fetch's, say) would never be answered.
 */
function sessionOver(session: Session): WaitOutcome | undefined {
  if (session.error !== undefined) return { kind: "failed", error: session.error };
  if (session.closed) return { kind: "closed" };
  return undefined;
}

export function waitAll(session: Session): Promise<WaitOutcome> {
  const over = sessionOver(session);
  if (over) return Promise.resolve(over);
  if (session.unfinishedTasks === 0) return Promise.resolve(allDoneOutcome(session));
  return new Promise((resolve) => {
    session.allWaiters.push({ remaining: 1, settled: false, resolve });
  });
}

/** Which of the ids are finished (for answering a wait). */
export function finishedAmong(session: Session, taskIds: number[], objectIds: number[]): {
  tasks: number[];
  objects: number[];
} {
  return {
    tasks: taskIds.filter((id) => session.tasks.get(id)?.state === "finished"),
    objects: objectIds.filter((id) => {
      const obj = session.objects.get(id);
      return obj !== undefined && obj.state !== "unfinished";
    }),
  };
}

export function update(session: Session, taskIds: number[], objectIds: number[]): UpdateResponse {
  return {
    tasks: taskIds.map((id) => {
      const task = session.tasks.get(id);
      if (!task) throw new ApiError("NotFound", `task ${session.id}/${id} was not submitted`);
      return { id, state: task.state as TaskState, info: compact(task.info) as TaskInfo };
    }),
    objects: objectIds.map((id) => {
      const obj = session.objects.get(id);
      if (!obj) throw new ApiError("NotFound", `object ${session.id}/${id} was not submitted`);
      return { id, state: obj.state as ObjectState, info: compact(obj.info) as ObjectInfo };
    }),
  };
}

export function serverInfo(ctx: ReactorContext): ServerInfoResponse {
  return {
    governors: [...ctx.core.governors.values()].map((g) => ({
      governor_id: g.id,
      tasks: [...g.tasks].map((t) => t.fullId),
      objects: [...graphPartOf(ctx, g)].map((o) => o.fullId),
      objects_to_delete: [...g.toDelete].map((o) => o.fullId),
      resources: g.resources,
      resources_in_use: { cpus: Math.min(g.assignedCpus, g.cpus), ...g.pool.usage() },
      ...(g.stalled ? { stalled: true as const } : {}),
      ...(g.draining ? { draining: true as const } : {}),
    })),
  };
}

export function settleWaiter(waiter: Waiter, outcome: WaitOutcome): void {
  if (waiter.settled) return;
  if (outcome.kind === "done" && --waiter.remaining > 0) return;
  waiter.settled = true;
  waiter.resolve(outcome);
}

/** Tells the waiters of a task or object. */
export function settleWaiters(item: Task | DataObject, outcome: WaitOutcome): void {
  if (!item.waiters) return;
  for (const w of item.waiters) settleWaiter(w, outcome);
  item.waiters = undefined;
}

/** Answers every wait of the session with the outcome. */
export function settleAll(session: Session, outcome: WaitOutcome): void {
  const settle = (w: Waiter) => settleWaiter(w, outcome);
  session.allWaiters.forEach(settle);
  session.allWaiters = [];
  for (const task of session.tasks.values()) {
    task.waiters?.forEach(settle);
    task.waiters = undefined;
  }
  for (const obj of session.objects.values()) {
    obj.waiters?.forEach(settle);
    obj.waiters = undefined;
  }
}

/** Drops empty values, as the attributes are transmitted. */
function compact(info: object): object {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(info)) {
    if (v === undefined || v === null || v === "") continue;
    if (typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 0) continue;
    out[k] = v;
  }
  return out;
}

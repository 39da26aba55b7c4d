/**
 * Objects: removing those no one needs any more, deleting their copies on governors (batched
 * per turn) and finding the objects a governor holds.
 */
import type { Id } from "../../common/ids.ts";
import { type DataObject, type GovernorState, NO_GOVERNORS } from "../state.ts";
import { type ReactorContext, touch } from "./core.ts";

/**
 * Removes the object if no one needs it any more (not kept, no pending consumer). A client
 * constant stays usable by later submits until its session closes (Rain 0.4): the server keeps
 * its data and only the governors' copies go.
 */
export function releaseIfUnneeded(ctx: ReactorContext, obj: DataObject): void {
  if (obj.keep || obj.pendingConsumers > 0 || obj.state === "removed") return;
  if (obj.state === "unfinished") return; // removed when it is produced
  if (obj.isConstant) {
    deleteCopies(ctx, obj);
    return;
  }
  obj.state = "removed";
  deleteCopies(ctx, obj);
  dropConstant(ctx, obj);
}

/** Tells the governors holding the object to delete it (at the end of the turn). */
function deleteCopies(ctx: ReactorContext, obj: DataObject): void {
  if (obj.locations.length === 0) return;
  const deletes = ctx.core.deletes;
  for (const governor of obj.locations) {
    governor.toDelete.add(obj);
    const list = deletes.get(governor);
    if (list) list.push(obj);
    else deletes.set(governor, [obj]);
  }
  obj.locations = NO_GOVERNORS;
  touch(ctx);
}

/** Takes the object out of this turn's not yet sent `delete_objects` to the governor. */
export function cancelPendingDelete(
  ctx: ReactorContext,
  governor: GovernorState,
  obj: DataObject,
): void {
  const deletes = ctx.core.deletes;
  const list = deletes.get(governor);
  if (!list) return;
  const kept = list.filter((o) => o !== obj);
  if (kept.length) deletes.set(governor, kept);
  else deletes.delete(governor);
}

/** Sends this turn's `delete_objects`, one message per governor. */
export function sendDeletes(ctx: ReactorContext): void {
  const deletes = ctx.core.deletes;
  for (const [governor, objects] of deletes) {
    ctx.comm.send(governor.id, { type: "delete_objects", objects: objects.map((o) => o.fullId) });
  }
  deletes.clear();
}

/** Forgets the client's data of a constant (and deletes its spooled file). */
export function dropConstant(ctx: ReactorContext, obj: DataObject): void {
  if (obj.constantFile) ctx.dropFile?.(obj.constantFile);
  obj.constantFile = undefined;
  obj.constantBlock = undefined;
}

/** The governor deleted these objects. */
export function objectsRemoved(ctx: ReactorContext, governor: GovernorState, ids: Id[]): void {
  for (const [sid, id] of ids) {
    const obj = ctx.core.sessions.get(sid)?.objects.get(id);
    if (obj) governor.toDelete.delete(obj);
  }
}

/**
 * Objects held by a governor. A scan of all objects: it is needed only when a governor is lost
 * or `server_info` is asked, and an index would cost memory and time on every task.
 */
export function* objectsOn(ctx: ReactorContext, governor: GovernorState): Generator<DataObject> {
  for (const session of ctx.core.sessions.values()) {
    for (const obj of session.objects.values()) {
      if (obj.locations.includes(governor)) yield obj;
    }
  }
}

/**
 * Every object of a governor's part of the graph: the objects it holds, the outputs of the
 * tasks assigned to it (finished or not) and the objects waiting for deletion there.
 */
export function graphPartOf(ctx: ReactorContext, governor: GovernorState): Set<DataObject> {
  const objects = new Set(objectsOn(ctx, governor));
  for (const task of governor.tasks) {
    for (const obj of task.outputs) objects.add(obj);
  }
  for (const obj of governor.toDelete) objects.add(obj);
  return objects;
}

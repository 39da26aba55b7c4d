/**
 * Draining a governor (`rain drain`): it gets no new work, its tasks finish, the objects only it
 * holds that are still needed are copied to other governors, then it is told to stop. Its stop
 * is orderly: nothing it ran counts as a crash, and what could not be copied is recomputed.
 */
import type { Id } from "../../common/ids.ts";
import type { FetchObjectsMessage } from "../../common/messages.ts";
import { Logger } from "../../common/log.ts";
import { addLocation, type DataObject, type GovernorState, objectSpec } from "../state.ts";
import { type ReactorContext, touch } from "./core.ts";
import { objectsOn, releaseIfUnneeded } from "./objects.ts";

const log = new Logger("server");

/** Copies being made of each draining governor's sole copies. */
const copying = new WeakMap<GovernorState, Set<DataObject>>();

export function drainGovernor(ctx: ReactorContext, governor: GovernorState): void {
  if (governor.draining || ctx.core.governors.get(governor.id) !== governor) return;
  governor.draining = true;
  ctx.events?.push({ type: "GovernorDrain", time: Date.now(), governor: governor.id });
  log.info(`governor ${governor.id} drains: no new work; stops when its tasks are done`);
  continueDrain(ctx, governor);
  touch(ctx);
}

/** Next step of a drain, when a task left the governor or a copy was made. */
export function continueDrain(ctx: ReactorContext, governor: GovernorState): void {
  if (!governor.draining || governor.tasks.size > 0) return;
  if (ctx.core.governors.get(governor.id) !== governor) return;
  const pending = copying.get(governor);
  if (pending !== undefined) {
    if (pending.size > 0) return;
    copying.delete(governor);
    stop(ctx, governor);
    return;
  }
  const targets = [...ctx.core.governors.values()].filter((g) =>
    g !== governor && !g.draining && !g.stalled
  );
  const sole = [...objectsOn(ctx, governor)].filter((obj) =>
    obj.locations.length === 1 && !obj.isConstant && obj.state === "finished" &&
    obj.session.error === undefined && (obj.keep || obj.pendingConsumers > 0)
  );
  if (sole.length === 0 || targets.length === 0) {
    stop(ctx, governor);
    return;
  }
  copying.set(governor, new Set(sole));
  const batches = new Map<GovernorState, FetchObjectsMessage["objects"]>();
  sole.forEach((obj, i) => {
    const target = targets[i % targets.length]!;
    let batch = batches.get(target);
    if (!batch) batches.set(target, batch = []);
    batch.push({
      spec: objectSpec(obj),
      size: obj.size,
      source: { kind: "governors", governors: [governor.id] },
      ...(obj.info.content_type || obj.info.user ? { info: obj.info } : {}),
    });
  });
  for (const [target, objects] of batches) {
    ctx.comm.send(target.id, { type: "fetch_objects", objects });
  }
  log.info(`governor ${governor.id} drains: copying ${sole.length} objects elsewhere`);
  touch(ctx);
}

function stop(ctx: ReactorContext, governor: GovernorState): void {
  log.info(`governor ${governor.id} is drained: stopping it`);
  ctx.comm.send(governor.id, { type: "shutdown" });
  touch(ctx);
}

/** A governor stored copies asked by `fetch_objects` (or could not). */
export function objectsFetched(
  ctx: ReactorContext,
  governor: GovernorState,
  fetched: Id[],
  failed: Id[],
): void {
  const done: DataObject[] = [];
  for (const [sid, id] of fetched) {
    const obj = ctx.core.sessions.get(sid)?.objects.get(id);
    if (obj === undefined) continue;
    done.push(obj);
    if (obj.state === "finished") {
      addLocation(obj, governor);
      releaseIfUnneeded(ctx, obj);
    } else {
      // No longer needed meanwhile: the copy goes too.
      ctx.comm.send(governor.id, { type: "delete_objects", objects: [obj.fullId] });
    }
  }
  for (const [sid, id] of failed) {
    const obj = ctx.core.sessions.get(sid)?.objects.get(id);
    if (obj !== undefined) done.push(obj); // recomputed after the orderly stop if needed
  }
  for (const draining of ctx.core.governors.values()) {
    const pending = copying.get(draining);
    if (pending === undefined) continue;
    for (const obj of done) pending.delete(obj);
    continueDrain(ctx, draining);
  }
  touch(ctx);
}

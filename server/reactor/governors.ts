/**
 * Governors joining, stalling and leaving (a lost governor's work is recovered: recovery.ts), and
 * the samples and transfer reports they send.
 */
import type { GovernorId } from "../../common/ids.ts";
import type { DataTransfersMessage, MonitoringMessage, PeerState } from "../../common/messages.ts";
import { Logger } from "../../common/log.ts";
import { describeResources, type GovernorResources } from "../../common/resources.ts";
import { GovernorState } from "../state.ts";
import { GONE_KEPT, type ReactorContext, touch } from "./core.ts";
import { recoverFromLoss } from "./recovery.ts";

const log = new Logger("server");

export function addGovernor(
  ctx: ReactorContext,
  id: GovernorId,
  cpus: number,
  executors: string[],
  resources?: GovernorResources,
): GovernorState {
  const governors = ctx.core.governors;
  if (governors.has(id)) {
    throw new Error(`governor ${id} is already registered`);
  }
  const governor = new GovernorState(id, cpus, executors, resources);
  governors.set(id, governor);
  ctx.scheduler.governorAdded(governor);
  ctx.events?.push({ type: "GovernorNew", time: Date.now(), governor: id, cpus, executors });
  log.info(`governor ${id} registered with ${describeResources(governor.resources)}`);
  touch(ctx);
  return governor;
}

/**
 * A governor is gone (its connection closed, its heartbeat overdue, or it stopped): its tasks
 * go back to the scheduler and what only it held is recomputed if still needed (recovery.ts).
 * `orderly`: it stopped on purpose (`rain stop`, drain, SIGINT), which costs no task a crash.
 */
export function removeGovernor(
  ctx: ReactorContext,
  governor: GovernorState,
  reason: string,
  orderly = false,
): void {
  const governors = ctx.core.governors;
  if (governors.get(governor.id) !== governor) return;
  governors.delete(governor.id);
  ctx.scheduler.governorRemoved(governor);
  ctx.events?.push({
    type: "GovernorRemoved",
    time: Date.now(),
    governor: governor.id,
    error: reason,
    orderly,
  });
  if (orderly) log.info(`governor ${governor.id} left: ${reason}`);
  else log.warn(`governor ${governor.id} lost: ${reason}`);
  governor.gone.abort(
    new Error(`governor ${governor.id} ${orderly ? "left" : "was lost"}: ${reason}`),
  );
  const gone = ctx.core.gone;
  gone.delete(governor.id); // re-inserted last
  gone.set(governor.id, { id: governor.id, time: Date.now(), reason, orderly });
  if (gone.size > GONE_KEPT) gone.delete(gone.keys().next().value!);
  tellPeers(ctx, governor, "lost");
  recoverFromLoss(ctx, governor, { reason, orderly });
  touch(ctx);
}

/**
 * The other governors learn that a peer stalled, was heard again or was lost: their downloads
 * from it move to another copy, or end when it is lost (docs/protocol.md `peer_state`).
 */
function tellPeers(ctx: ReactorContext, peer: GovernorState, state: PeerState): void {
  for (const id of ctx.core.governors.keys()) {
    if (id !== peer.id) ctx.comm.send(id, { type: "peer_state", governor: peer.id, state });
  }
}

/**
 * The governor's heartbeat is overdue (`stalled`) or it was heard again: a stalled governor gets
 * no new work; its tasks stay there until it is heard again or declared lost.
 */
export function setStalled(ctx: ReactorContext, governor: GovernorState, stalled: boolean): void {
  if (governor.stalled === stalled || ctx.core.governors.get(governor.id) !== governor) return;
  governor.stalled = stalled;
  if (stalled) governor.stall.abort(new Error(`governor ${governor.id} is stalled`));
  else governor.stall = new AbortController();
  tellPeers(ctx, governor, stalled ? "stalled" : "heard");
  ctx.events?.push({ type: "GovernorStalled", time: Date.now(), governor: governor.id, stalled });
  if (stalled) log.warn(`governor ${governor.id}: heartbeat overdue, no new work for it`);
  else log.info(`governor ${governor.id} is heard again`);
  touch(ctx);
}

/** A governor's resource usage sample: kept for the status and logged. */
export function monitoring(
  ctx: ReactorContext,
  governor: GovernorState,
  message: MonitoringMessage,
): void {
  governor.monitoring = message;
  ctx.events?.push({
    type: "Monitoring",
    time: Date.now(),
    governor: governor.id,
    sample: message,
  });
}

/** Inputs a governor fetched (logged for the timeline). */
export function dataTransfers(
  ctx: ReactorContext,
  governor: GovernorState,
  message: DataTransfersMessage,
): void {
  const events = ctx.events;
  if (!events) return;
  const time = Date.now();
  for (const transfer of message.transfers) {
    events.push({ type: "DataTransfer", time, to: governor.id, transfer });
  }
}

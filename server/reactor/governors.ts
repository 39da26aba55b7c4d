/**
 * Governors joining and leaving (a lost governor fails the sessions whose work or sole data was
 * there), and the samples and transfer reports they send.
 */
import type { GovernorId } from "../../common/ids.ts";
import type { DataTransfersMessage, MonitoringMessage } from "../../common/messages.ts";
import { Logger } from "../../common/log.ts";
import { GovernorState, removeLocation } from "../state.ts";
import { type ReactorContext, touch } from "./core.ts";
import { objectsOn } from "./objects.ts";
import { releaseTask } from "./placement.ts";
import { failSession } from "./sessions.ts";
import { describeTask } from "./tasks.ts";

const log = new Logger("server");

export function addGovernor(
  ctx: ReactorContext,
  id: GovernorId,
  cpus: number,
  executors: string[],
): GovernorState {
  const governors = ctx.core.governors;
  if (governors.has(id)) {
    throw new Error(`governor ${id} is already registered`);
  }
  const governor = new GovernorState(id, cpus, executors);
  governors.set(id, governor);
  ctx.scheduler.governorAdded(governor);
  ctx.events?.push({ type: "GovernorNew", time: Date.now(), governor: id, cpus, executors });
  log.info(`governor ${id} registered with ${cpus} cpus`);
  touch(ctx);
  return governor;
}

/** A governor disconnected: fail the sessions whose work or data was only there. */
export function removeGovernor(ctx: ReactorContext, governor: GovernorState, reason: string): void {
  const governors = ctx.core.governors;
  if (governors.get(governor.id) !== governor) return;
  governors.delete(governor.id);
  ctx.scheduler.governorRemoved(governor);
  ctx.events?.push({
    type: "GovernorRemoved",
    time: Date.now(),
    governor: governor.id,
    error: reason,
  });
  log.warn(`governor ${governor.id} lost: ${reason}`);
  for (const task of [...governor.tasks]) {
    releaseTask(ctx, task);
    failSession(
      ctx,
      task.session,
      `governor ${governor.id} was lost (${reason}) while it had task ${describeTask(task)}`,
    );
  }
  for (const obj of objectsOn(ctx, governor)) {
    removeLocation(obj, governor);
    const needed = obj.keep || obj.pendingConsumers > 0;
    if (obj.locations.length === 0 && !obj.constant && needed && obj.state === "finished") {
      failSession(
        ctx,
        obj.session,
        `object ${obj.session.id}/${obj.id} was lost with governor ${governor.id} (${reason})`,
      );
    }
  }
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

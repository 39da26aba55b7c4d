/**
 * Recovery from a lost governor (docs/architecture.md "Failures"): its tasks go back to the
 * scheduler and the objects whose only copies it held are recomputed from lineage, recursively
 * (their producers run again; the producers' inputs that are gone too are recomputed first).
 *
 * Nothing here runs on the fault-free path: lineage is the graph the session keeps anyway (every
 * task knows its inputs, every object its producer), so a task event costs no extra bookkeeping.
 * A task's crash counter grows only when it was running on a governor lost unexpectedly; past its
 * crash limit the task fails (its session fails, listing each loss).
 */
import type { TaskAttempt, TaskInfo } from "../../common/attributes.ts";
import { formatId } from "../../common/ids.ts";
import { Logger } from "../../common/log.ts";
import { type DataObject, type GovernorState, removeLocation, type Task } from "../state.ts";
import { type ReactorContext, touch } from "./core.ts";
import { objectsOn } from "./objects.ts";
import { makeReady, releaseTask, requeueTask } from "./placement.ts";
import { failSession } from "./sessions.ts";
import { describeTask } from "./tasks.ts";
import { attemptOf } from "./failures.ts";
import { count } from "../../common/plural.ts";

const log = new Logger("server");

/** How the governor's `info.error` starts when an input could not be obtained. */
const TRANSFER_FAILURE = "cannot fetch input ";
/** Failed input transfers a task is run again for (beyond those explained by a loss). */
const MAX_TRANSFER_FAILURES = 10;

/** Losses of the governor running a task that it survives (then it fails); `crash_limit`. */
export const DEFAULT_CRASH_LIMIT = 5;

/** Why a governor went away: an orderly stop (`rain stop`, drain, SIGINT) costs no crash. */
export interface Loss {
  reason: string;
  orderly: boolean;
}

/**
 * The governor is gone (already out of `core.governors` and the scheduler): requeue its tasks,
 * recompute what was only there and still needed.
 */
export function recoverFromLoss(ctx: ReactorContext, governor: GovernorState, loss: Loss): void {
  const time = Date.now();
  // Objects first, so that requeued tasks count their lost inputs as waiting.
  const lost: DataObject[] = [];
  for (const obj of objectsOn(ctx, governor)) {
    removeLocation(obj, governor);
    if (obj.locations.length > 0 || obj.isConstant || obj.state !== "finished") continue;
    if (obj.session.error !== undefined) continue;
    if (obj.keep || obj.pendingConsumers > 0) {
      markLost(ctx, obj);
      lost.push(obj);
    }
  }
  governor.toDelete.clear();
  const why = `governor ${governor.id} lost: ${loss.reason}`;
  for (const task of [...governor.tasks]) {
    const running = task.state === "running";
    releaseTask(ctx, task);
    task.governor = undefined;
    if (task.session.error !== undefined) continue;
    if (running) logLostAttempt(task, governor, time, why);
    if (running && !loss.orderly) {
      (task.crashes ??= []).push({ governor: governor.id, time });
      const limit = crashLimitOf(task);
      if (task.crashes.length > limit) {
        failSession(ctx, task.session, crashLimitError(task, limit));
        continue;
      }
    }
    requeueTask(ctx, task, why);
  }
  for (const obj of lost) {
    if (obj.session.error === undefined && obj.producer) rerun(ctx, obj.producer, obj, why);
  }
  if (lost.length) {
    log.info(`governor ${governor.id}: ${lost.length} objects to recompute`);
  }
  touch(ctx);
}

/**
 * Finished objects that no governor holds any more (a restarted server whose governors did not
 * all come back, reattach.ts): those still needed are recomputed, as after a loss.
 */
export function recoverObjects(ctx: ReactorContext, objects: DataObject[]): void {
  const lost = objects.filter((obj) =>
    obj.state === "finished" && obj.locations.length === 0 && !obj.isConstant &&
    obj.session.error === undefined && (obj.keep || obj.pendingConsumers > 0)
  );
  for (const obj of lost) markLost(ctx, obj);
  for (const obj of lost) {
    if (obj.producer) {
      rerun(ctx, obj.producer, obj, "no governor brought it back after a server restart");
    }
  }
  if (lost.length) log.info(`${lost.length} objects no governor brought back: recomputed`);
  touch(ctx);
}

/**
 * A task on a live governor failed while one of its inputs was lost (its governor died during
 * the transfer): the failure is the loss's, not the task's; it runs again once its inputs are
 * back. Returns false for a genuine failure.
 */
export function requeueIfInputLost(ctx: ReactorContext, task: Task, info: TaskInfo): boolean {
  const error = info.error ?? "";
  const lost = task.inputLost || task.inputs.some((input) => input.state === "unfinished");
  // The transfer failed before the server saw its source go (they race): run it again; if the
  // source is gone the loss is seen meanwhile, else the limit stops a genuinely broken source.
  const transfer = !lost && error.startsWith(TRANSFER_FAILURE) &&
    (task.transferFailures = (task.transferFailures ?? 0) + 1) <= MAX_TRANSFER_FAILURES;
  if (!lost && !transfer) return false;
  task.inputLost = undefined;
  (task.attemptLog ??= []).push(attemptOf(info));
  task.info = { attempts: [...task.attemptLog] };
  releaseTask(ctx, task);
  task.governor = undefined;
  requeueTask(ctx, task, "an input was lost with its governor");
  touch(ctx);
  return true;
}

/**
 * The attempt that ran on the lost governor joins `info.attempts` (ended at the loss, `error`
 * says which governor and why); `info` starts afresh for the next attempt.
 */
function logLostAttempt(task: Task, governor: GovernorState, time: number, why: string): void {
  const attempt: TaskAttempt = { governor: governor.id, error: why };
  const start = task.info.start_time;
  if (start !== undefined) {
    attempt.start_time = start;
    const began = Date.parse(start);
    if (Number.isFinite(began)) attempt.duration = Math.max(0, (time - began) / 1000);
  }
  (task.attemptLog ??= []).push(attempt);
  task.info = { attempts: [...task.attemptLog] };
}

function crashLimitOf(task: Task): number {
  const limit = task.crashLimit;
  return limit !== undefined && Number.isInteger(limit) && limit >= 0 ? limit : DEFAULT_CRASH_LIMIT;
}

function crashLimitError(task: Task, limit: number): string {
  const losses = (task.crashes ?? []).map((c) =>
    `governor ${c.governor} at ${new Date(c.time).toISOString()}`
  );
  return `Task ${describeTask(task)} was running on ${count(losses.length, "governor")} that ` +
    `${losses.length === 1 ? "was" : "were"} lost ` +
    `(crash limit ${limit}):\n${losses.join("\n")}`;
}

/** No copy of a needed object is left: it is unfinished again and its consumers wait for it. */
function markLost(ctx: ReactorContext, obj: DataObject): void {
  obj.state = "unfinished";
  for (const consumer of obj.consumers) {
    if (consumer.state === "notAssigned" || consumer.state === "ready") {
      if (consumer.state === "ready") consumer.state = "notAssigned"; // its queue entry is skipped
      consumer.waitingInputs++;
    } else if (consumer.state === "assigned" || consumer.state === "running") {
      consumer.inputLost = true; // elsewhere: its transfer from the lost governor fails
    }
  }
  ctx.events?.push({
    type: "ObjectLost",
    time: Date.now(),
    session: obj.session.id,
    object: obj.id,
  });
}

/**
 * Runs a finished task again because `because` (one of its outputs) is needed and lost. Its
 * inputs that are gone too are recomputed first, recursively.
 */
function rerun(ctx: ReactorContext, task: Task, because: DataObject, why: string): void {
  if (task.state !== "finished") return; // pending already: it will produce the object
  const session = task.session;
  // The run that produced the lost object counts as an attempt too (it finished, its output
  // did not survive).
  (task.attemptLog ??= []).push({
    ...attemptOf(task.info),
    error: `finished, but its output ${formatId(because.fullId)} was lost (${why})`,
  });
  task.info = { attempts: [...task.attemptLog] };
  task.state = "notAssigned";
  task.attempts = (task.attempts ?? 1) + 1;
  session.reruns++;
  session.unfinishedTasks++;
  session.finishedTasks--;
  for (const output of task.outputs) {
    // Outputs no longer needed were removed: produced again, they are released at once.
    if (output.state === "removed") output.state = "unfinished";
  }
  let waiting = 0;
  for (const input of task.inputs) {
    input.pendingConsumers++;
    if (input.state === "finished" && (input.locations.length > 0 || input.isConstant)) continue;
    waiting++;
    if (input.state === "unfinished") continue; // being produced (or recomputed) already
    // Removed (no longer needed when it was) or finished without any copy: recompute it.
    input.state = "unfinished";
    if (input.producer) rerun(ctx, input.producer, input, why);
  }
  task.waitingInputs = waiting;
  ctx.events?.push({
    type: "TaskRerun",
    time: Date.now(),
    session: session.id,
    task: task.id,
    attempt: task.attempts,
    object: because.id,
  });
  log.debug(`rerunning ${describeTask(task)} for lost ${formatId(because.fullId)}`);
  if (waiting === 0) makeReady(ctx, task);
}

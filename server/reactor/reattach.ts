/**
 * Governors reattaching (docs/guide/server-restart.md): a governor that registers again after
 * its link dropped — the server restarted, or declared it lost meanwhile — reports its tasks,
 * the results the server has not journaled and the objects it holds. The server takes what it
 * still needs: reported results are applied, running tasks continue there, held objects count
 * as copies (an object being recomputed because its copies were lost is taken instead, and the
 * re-run of its producer stopped); what it no longer needs is cancelled or deleted.
 *
 * After a restart, tasks of restored sessions are held back from the scheduler until every
 * governor the journal knew has reattached, or the heartbeat timeout passed (`Reattachment`):
 * a task still running on a governor that is about to come back must not start elsewhere.
 */
import type { GovernorId, Id } from "../../common/ids.ts";
import type { ReattachReport } from "../../common/messages.ts";
import { Logger } from "../../common/log.ts";
import type { Assignment, Scheduler } from "../scheduler.ts";
import {
  addLocation,
  type DataObject,
  type GovernorState,
  type Session,
  type Task,
} from "../state.ts";
import { type ReactorContext, touch } from "./core.ts";
import { settleAllWaiters } from "./failures.ts";
import { releaseIfUnneeded } from "./objects.ts";
import { makeReady, releaseTask, requeueTask } from "./placement.ts";
import { settleWaiters } from "./queries.ts";
import { recoverObjects } from "./recovery.ts";
import { taskFailed, taskFinished } from "./tasks.ts";

const log = new Logger("server");

/** A scheduler whose ready tasks of some sessions (restored ones) wait until `release()`. */
export class HoldingScheduler implements Scheduler {
  readonly #held = new Set<Session>();
  #heldTasks: Task[] = [];

  constructor(readonly inner: Scheduler) {}

  hold(session: Session): void {
    this.#held.add(session);
  }

  /** Held tasks still ready go to the scheduler. */
  release(): void {
    this.#held.clear();
    const tasks = this.#heldTasks;
    this.#heldTasks = [];
    for (const task of tasks) if (task.state === "ready") this.inner.taskReady(task);
  }

  governorAdded(governor: GovernorState): void {
    this.inner.governorAdded(governor);
  }
  governorRemoved(governor: GovernorState): void {
    this.inner.governorRemoved(governor);
  }
  taskReady(task: Task): void {
    if (this.#held.has(task.session)) this.#heldTasks.push(task);
    else this.inner.taskReady(task);
  }
  taskFinished(task: Task, seconds: number): void {
    this.inner.taskFinished(task, seconds);
  }
  taskReleased(task: Task, governor: GovernorState): void {
    this.inner.taskReleased(task, governor);
  }
  schedule(): Assignment[] {
    return this.inner.schedule();
  }
  get readyCount(): number {
    return this.inner.readyCount + this.#heldTasks.length;
  }
}

/**
 * The wait of a restarted server for the governors its journal knew: ends when all are back or
 * after `timeoutMs`; then held tasks are scheduled and objects no governor brought back are
 * recomputed if still needed.
 */
export class Reattachment {
  readonly done: Promise<void>;
  #resolve!: () => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #ended = false;

  constructor(
    readonly ctx: ReactorContext,
    readonly holding: HoldingScheduler,
    readonly expected: Set<GovernorId>,
    timeoutMs: number,
  ) {
    this.done = new Promise((resolve) => this.#resolve = resolve);
    if (expected.size === 0) queueMicrotask(() => this.end());
    else this.#timer = setTimeout(() => this.end(), timeoutMs);
  }

  governorBack(id: GovernorId): void {
    this.expected.delete(id);
    if (this.expected.size === 0) this.end();
  }

  /** The server stops: no more waiting (nothing is released). */
  stop(): void {
    this.#ended = true;
    clearTimeout(this.#timer);
    this.#resolve();
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    clearTimeout(this.#timer);
    if (this.expected.size > 0) {
      log.warn(`governors not back after the restart: ${[...this.expected].join(", ")}`);
    }
    this.holding.release();
    const lost: DataObject[] = [];
    for (const session of this.ctx.core.sessions.values()) {
      if (session.error !== undefined) continue;
      for (const obj of session.objects.values()) {
        if (obj.state === "finished" && obj.locations.length === 0 && !obj.isConstant) {
          lost.push(obj);
        }
      }
    }
    recoverObjects(this.ctx, lost);
    touch(this.ctx);
    this.#resolve();
  }
}

function taskOf(ctx: ReactorContext, id: Id): Task | undefined {
  const session = ctx.core.sessions.get(id[0]);
  if (!session || session.error !== undefined) return undefined;
  return session.tasks.get(id[1]);
}

/**
 * The task runs (or is queued) on this governor, as it reported: the server counts it there.
 * The cpus are counted as the scheduler does when it places a task (released by its
 * `taskReleased` as for any task).
 */
function adopt(task: Task, governor: GovernorState, running: boolean): void {
  task.state = running ? "running" : "assigned";
  task.governor = governor;
  governor.tasks.add(task);
  governor.assignedCpus += task.cpus;
  if (task.request !== undefined) {
    try {
      task.allocation = governor.pool.allocate(task.request);
    } catch { /* what the governor gave it is not free here: counted by cpus only */ }
  }
}

/** Whether the task can be taken as the governor reports it (nothing else runs it). */
function adoptable(task: Task, governor: GovernorState): boolean {
  if (task.finished) return false;
  if (task.governor === governor) return true;
  return task.governor === undefined && (task.state === "notAssigned" || task.state === "ready");
}

/** Reconciles a reattaching governor's report with the server's state. */
export function reattach(
  ctx: ReactorContext,
  governor: GovernorState,
  report: ReattachReport,
): void {
  const cancel: Id[] = [];
  const remove: Id[] = [];
  const closed = new Set<number>();
  let applied = 0;
  for (const result of report.results) {
    const task = taskOf(ctx, result.task);
    if (!task || !adoptable(task, governor)) continue; // known already, or redone elsewhere
    if (task.governor !== governor) adopt(task, governor, true);
    if (result.type === "task_finished") taskFinished(ctx, governor, result);
    else taskFailed(ctx, governor, result);
    applied++;
  }
  let adopted = 0;
  const reported = new Set<Task>();
  for (const { id } of report.tasks) {
    const known = taskOf(ctx, id);
    if (known) reported.add(known);
  }
  // Resumed: assignments sent into the dropped link never arrived; they are placed again.
  for (const task of [...governor.tasks]) {
    if (reported.has(task) || task.finished) continue;
    releaseTask(ctx, task);
    task.governor = undefined;
    requeueTask(ctx, task, `its assignment to governor ${governor.id} was lost with the link`);
  }
  for (const { id, running } of report.tasks) {
    const task = taskOf(ctx, id);
    if (!task || !adoptable(task, governor)) {
      cancel.push(id);
      continue;
    }
    if (task.governor === governor) {
      if (running && task.state === "assigned") task.state = "running";
      continue;
    }
    adopt(task, governor, running);
    adopted++;
  }
  let taken = 0;
  for (const held of report.objects) {
    const [sid, oid] = held.id;
    const session = ctx.core.sessions.get(sid);
    if (!session || session.error !== undefined) {
      if (!closed.has(sid)) ctx.comm.send(governor.id, { type: "close_session", session: sid });
      closed.add(sid);
      continue;
    }
    const obj = session.objects.get(oid);
    if (!obj || obj.state === "removed") {
      remove.push(held.id);
      continue;
    }
    if (obj.state === "unfinished") {
      if (obj.producer?.governor === governor) continue; // produced here right now
      found(ctx, obj, governor, held);
      taken++;
      continue;
    }
    addLocation(obj, governor);
    releaseIfUnneeded(ctx, obj); // no longer needed: deleted there too
  }
  if (cancel.length) ctx.comm.send(governor.id, { type: "cancel_tasks", tasks: cancel });
  if (remove.length) ctx.comm.send(governor.id, { type: "delete_objects", objects: remove });
  log.info(
    `governor ${governor.id} reattached: ${applied} results applied, ${adopted} tasks ` +
      `continue there, ${cancel.length} cancelled, ${taken} objects taken back`,
  );
  touch(ctx);
}

/**
 * An object being recomputed (its copies were lost) is held by the reattaching governor: it is
 * finished again, and a re-run of its producer that is no longer needed is stopped.
 */
function found(
  ctx: ReactorContext,
  obj: DataObject,
  governor: GovernorState,
  held: ReattachReport["objects"][number],
): void {
  obj.state = "finished";
  obj.size = held.size;
  if (obj.info.size === undefined) {
    obj.info = held.content_type === undefined
      ? { size: held.size }
      : { size: held.size, content_type: held.content_type };
  }
  addLocation(obj, governor);
  settleWaiters(obj, { kind: "done" });
  for (const consumer of obj.consumers) {
    if (consumer.state === "notAssigned" && --consumer.waitingInputs === 0) {
      makeReady(ctx, consumer);
    }
  }
  const producer = obj.producer;
  if (!producer || producer.finished) return;
  if (producer.outputs.some((o) => o.state === "unfinished")) return;
  // Every output is back: the re-run is not needed.
  const running = producer.governor;
  if (running) {
    ctx.comm.send(running.id, { type: "cancel_tasks", tasks: [producer.fullId] });
    releaseTask(ctx, producer);
    producer.governor = undefined;
  }
  producer.state = "finished";
  const session = producer.session;
  session.finishedTasks++;
  settleWaiters(producer, { kind: "done" });
  for (const input of producer.inputs) {
    input.pendingConsumers--;
    releaseIfUnneeded(ctx, input);
  }
  if (--session.unfinishedTasks === 0) settleAllWaiters(session);
}

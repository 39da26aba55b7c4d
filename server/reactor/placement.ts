/**
 * Placement: ready tasks go to the scheduler; at the end of each turn its assignments go to the
 * governors, with everything else queued this turn. The scheduler owns `assignedCpus`: it adds
 * a task's cpus when it places the task and takes them back when told the task left.
 */
import type { AssignedTask, ObjectSource } from "../../common/messages.ts";
import {
  addLocation,
  type DataObject,
  type GovernorState,
  objectSpec,
  type Task,
  taskSpec,
} from "../state.ts";
import type { ReactorContext } from "./core.ts";
import { isRetryReason } from "../events/event.ts";
import { continueDrain } from "./drain.ts";
import { cancelPendingDelete, sendDeletes } from "./objects.ts";

/** The task's inputs are all finished: it waits for a governor. */
export function makeReady(ctx: ReactorContext, task: Task): void {
  task.state = "ready";
  ctx.scheduler.taskReady(task);
}

/**
 * The task waits again for its unfinished inputs (or is ready at once): a retry (failures.ts) or a
 * re-run after a lost governor (recovery.ts). `why` goes to the TaskRequeued event.
 */
export function requeueTask(ctx: ReactorContext, task: Task, why: string): void {
  const started = task.state === "running";
  const session = task.session;
  if (isRetryReason(why)) session.retries++;
  else if (started) session.lostAttempts++;
  task.state = "notAssigned";
  task.inputLost = undefined;
  task.attempts = (task.attempts ?? 1) + 1;
  let waiting = 0;
  for (const input of task.inputs) if (input.state === "unfinished") waiting++;
  task.waitingInputs = waiting;
  ctx.events?.push({
    type: "TaskRequeued",
    time: Date.now(),
    session: task.session.id,
    task: task.id,
    attempt: task.attempts,
    crashes: task.crashes?.length ?? 0,
    reason: why,
    started,
  });
  if (waiting === 0) makeReady(ctx, task);
}

/** The task no longer occupies its governor (finished, failed, session gone, governor lost). */
export function releaseTask(ctx: ReactorContext, task: Task): void {
  const governor = task.governor;
  if (!governor || !governor.tasks.delete(task)) return;
  ctx.scheduler.taskReleased(task, governor);
  // After the current report is applied (a finished task's outputs are located after this).
  if (governor.draining) queueMicrotask(() => continueDrain(ctx, governor));
}

/** Places ready tasks and sends everything queued. Queued once per turn by `touch()`. */
export function endTurn(ctx: ReactorContext): void {
  ctx.core.turnQueued = false;
  assign(ctx);
  sendDeletes(ctx);
  ctx.comm.flush();
}

function assign(ctx: ReactorContext): void {
  const assignments = ctx.scheduler.schedule();
  if (assignments.length === 0) return;
  const batches = new Map<GovernorState, AssignedTask[]>();
  for (const { task, governor } of assignments) {
    task.state = "assigned";
    task.governor = governor;
    governor.tasks.add(task);
    let batch = batches.get(governor);
    if (!batch) batches.set(governor, batch = []);
    batch.push({
      spec: taskSpec(task),
      inputs: task.inputs.map((obj) => {
        const input: AssignedTask["inputs"][number] = {
          spec: objectSpec(obj),
          size: obj.size,
          source: sourceFor(ctx, obj, governor),
        };
        const { content_type, user } = obj.info;
        if (content_type && content_type !== obj.contentType) {
          input.info = { content_type };
        }
        if (user) input.info = { ...input.info, user };
        return input;
      }),
      outputs: task.outputs.map(objectSpec),
      ...(task.allocation === undefined ? {} : { resources: task.allocation }),
      // The run's number (retries and recovery re-runs count), given to the task.
      ...(task.attempts === undefined ? {} : { attempt: task.attempts }),
    });
  }
  for (const [governor, tasks] of batches) {
    ctx.comm.send(governor.id, { type: "assign_tasks", tasks });
  }
}

/** Where the governor gets an input from. */
function sourceFor(ctx: ReactorContext, obj: DataObject, governor: GovernorState): ObjectSource {
  if (obj.locations.includes(governor)) return { kind: "local" };
  if (obj.isConstant) {
    // An evicted copy of a constant that is used again: the governor revives it if it still
    // holds it, else stores the data sent now; either way it is no longer to be deleted.
    if (governor.toDelete.delete(obj)) cancelPendingDelete(ctx, governor, obj);
    const data = obj.constantData();
    if (data) {
      // The governor stores inline data when it reads the message, so later tasks say "local".
      addLocation(obj, governor);
      return { kind: "inline", data };
    }
    return { kind: "server" };
  }
  const holders = obj.locations.some((g) => g.stalled)
    ? [...obj.locations].sort((a, b) => Number(a.stalled) - Number(b.stalled)) // stalled last
    : obj.locations;
  return { kind: "governors", governors: holders.map((g) => g.id) };
}

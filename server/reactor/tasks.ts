/**
 * A task's life on a governor, from the governor's reports: started, finished (outputs produced,
 * consumers made ready, inputs released) or failed (the session fails).
 */
import type { Id } from "../../common/ids.ts";
import type {
  TaskFailedMessage,
  TaskFinishedMessage,
  TaskOutputMessage,
  TaskStartedMessage,
} from "../../common/messages.ts";
import { Logger } from "../../common/log.ts";
import { addLocation, type GovernorState, sizeInfo, type Task } from "../state.ts";
import { type ReactorContext, touch } from "./core.ts";
import { releaseIfUnneeded } from "./objects.ts";
import { makeReady, releaseTask } from "./placement.ts";
import { settleWaiters } from "./queries.ts";
import { requeueIfInputLost } from "./recovery.ts";
import { failTaskOnly, retryTask, settleAllWaiters, withAttempts } from "./failures.ts";
import { shouldRetry } from "../policy.ts";
import { failSession } from "./sessions.ts";

const log = new Logger("server");

function isEmpty(info: object | undefined): boolean {
  for (const _ in info) return false;
  return true;
}

export function describeTask(task: Task): string {
  const id = `${task.session.id}/${task.id}`;
  return task.name ? `${id} '${task.name}' (${task.taskType})` : `${id} (${task.taskType})`;
}

/** The task named by a governor message, if it is still relevant. */
function reportedTask(ctx: ReactorContext, governor: GovernorState, id: Id): Task | undefined {
  const session = ctx.core.sessions.get(id[0]);
  if (!session || session.error !== undefined) return undefined; // late report: ignore
  const task = session.tasks.get(id[1]);
  if (!task || task.governor !== governor || task.finished) {
    log.warn(`governor ${governor.id} reported unexpected task ${id[0]}/${id[1]}`);
    return undefined;
  }
  return task;
}

/** What the task printed, to the event log (read back by `task.logs()`, `rain logs`). */
function recordOutput(
  ctx: ReactorContext,
  task: Task,
  message: TaskFinishedMessage | TaskFailedMessage,
): void {
  const output = message.output;
  if (output === undefined || ctx.events === undefined) return;
  ctx.events.push({
    type: "TaskOutput",
    time: Date.now(),
    session: task.session.id,
    task: task.id,
    attempt: task.attempts ?? 1,
    output,
  });
  // Only once per report: taskFinished may hand the same message on to taskFailed.
  delete message.output;
}

/**
 * What an attempt the governor stopped printed (the task was cancelled, its session closed): its
 * task was ended already, only the output is recorded, for a task of a session this server
 * opened (open, or closed since).
 */
export function stoppedTaskOutput(ctx: ReactorContext, message: TaskOutputMessage): void {
  if (ctx.events === undefined) return;
  const [sid, id] = message.task;
  const session = ctx.core.sessions.get(sid);
  if (session === undefined ? !ctx.core.isClosedSession(sid) : !session.tasks.has(id)) return;
  ctx.events.push({
    type: "TaskOutput",
    time: Date.now(),
    session: sid,
    task: id,
    attempt: message.attempt ?? 1,
    output: message.output,
  });
}

export function taskStarted(
  ctx: ReactorContext,
  governor: GovernorState,
  message: TaskStartedMessage,
): void {
  const task = reportedTask(ctx, governor, message.task);
  if (!task) return;
  task.state = "running";
  task.info = { ...task.info, start_time: message.start_time, governor: governor.id };
  ctx.events?.push({
    type: "TaskStarted",
    time: Date.now(),
    session: task.session.id,
    task: task.id,
    governor: governor.id,
    start_time: message.start_time,
    slots: message.slots,
  });
}

export function taskFinished(
  ctx: ReactorContext,
  governor: GovernorState,
  message: TaskFinishedMessage,
): void {
  const task = reportedTask(ctx, governor, message.task);
  if (!task) return;
  recordOutput(ctx, task, message);
  if (message.outputs.length !== task.outputs.length) {
    taskFailed(ctx, governor, {
      type: "task_failed",
      task: message.task,
      info: {
        ...message.info,
        error:
          `governor reported ${message.outputs.length} outputs, expected ${task.outputs.length}`,
      },
    });
    return;
  }
  task.state = "finished";
  // The decoded message has its own copy of the id string: keep the one every task shares.
  if (message.info.governor === governor.id) message.info.governor = governor.id;
  task.info = withAttempts(task, message.info);
  ctx.events?.push({
    type: "TaskFinished",
    time: Date.now(),
    session: task.session.id,
    task: task.id,
    info: message.info,
    outputs: message.outputs,
  });
  releaseTask(ctx, task);
  ctx.scheduler.taskFinished(task, message.info.duration ?? 0);
  const session = task.session;
  session.finishedTasks++;
  settleWaiters(task, { kind: "done" });
  message.outputs.forEach((reported, i) => {
    const obj = task.outputs[i]!;
    if (obj.state !== "unfinished") {
      // A re-run (recovery.ts) of an output that survived elsewhere: one more copy.
      if (obj.state === "finished") addLocation(obj, governor);
      return;
    }
    obj.state = "finished";
    obj.size = reported.size;
    obj.info = reported.info?.size !== undefined
      ? reported.info
      : isEmpty(reported.info)
      ? sizeInfo(reported.size)
      : { ...reported.info, size: reported.size };
    addLocation(obj, governor);
    settleWaiters(obj, { kind: "done" });
    for (const consumer of obj.consumers) {
      if (consumer.state === "notAssigned" && --consumer.waitingInputs === 0) {
        makeReady(ctx, consumer);
      }
    }
    releaseIfUnneeded(ctx, obj);
  });
  for (const input of task.inputs) {
    if (input.state !== "removed") addLocation(input, governor);
    input.pendingConsumers--;
    releaseIfUnneeded(ctx, input);
  }
  if (--session.unfinishedTasks === 0) settleAllWaiters(session);
  touch(ctx);
}

export function taskFailed(
  ctx: ReactorContext,
  governor: GovernorState,
  message: TaskFailedMessage,
): void {
  const task = reportedTask(ctx, governor, message.task);
  if (!task) return;
  recordOutput(ctx, task, message);
  // The loss's fault, not the task's.
  if (requeueIfInputLost(ctx, task, message.info)) return;
  if (shouldRetry(task.policy, task.retries ?? 0, message.info)) {
    retryTask(ctx, task, message.info);
    return;
  }
  task.state = "failed";
  task.info = withAttempts(task, message.info);
  ctx.events?.push({
    type: "TaskFinished",
    time: Date.now(),
    session: task.session.id,
    task: task.id,
    info: message.info,
  });
  releaseTask(ctx, task);
  const debug = message.info.debug ? `\n\nDebug:\n${message.info.debug}` : "";
  const tries = task.retries ? ` (attempt ${task.retries + 1}, after ${task.retries} retries)` : "";
  const error = `Task ${describeTask(task)} failed on governor ${governor.id}${tries}:\n${
    message.info.error || "unknown error"
  }${debug}`;
  if (task.session.onFailure === "continue") failTaskOnly(ctx, task, error);
  else failSession(ctx, task.session, error);
}

/**
 * A task's own failure beyond Rain 0.4 (docs/policies.md): retries (`policy.max_retries`), the
 * `"continue"` session (a failed task fails only its dependents), `cancel` and `rerun_failed`.
 * Rain 0.4's path (the first failure fails the session) stays in tasks.ts / sessions.ts.
 *
 * Nothing here runs on the fault-free path.
 */
import type { TaskAttempt, TaskInfo } from "../../common/attributes.ts";
import { formatId } from "../../common/ids.ts";
import { ApiError } from "../errors.ts";
import { RERUN_FAILED_REASON } from "../events/event.ts";
import type { DataObject, Session, Task } from "../state.ts";
import { type ReactorContext, touch } from "./core.ts";
import { releaseIfUnneeded } from "./objects.ts";
import { makeReady, releaseTask, requeueTask } from "./placement.ts";
import { settleWaiter, settleWaiters } from "./queries.ts";
import { describeTask } from "./tasks.ts";

/** Errors quoted in a `wait_all` summary of a `"continue"` session. */
const SUMMARY_ERRORS = 3;

export function attemptOf(info: TaskInfo): TaskAttempt {
  const attempt: TaskAttempt = {};
  if (info.governor !== undefined) attempt.governor = info.governor;
  if (info.start_time !== undefined) attempt.start_time = info.start_time;
  if (info.duration !== undefined) attempt.duration = info.duration;
  if (info.error) attempt.error = info.error;
  return attempt;
}

/** The final info of a task that ran more than once: `attempts` lists each run. */
export function withAttempts(task: Task, info: TaskInfo): TaskInfo {
  if (task.attemptLog === undefined) return info;
  return { ...info, attempts: [...task.attemptLog, attemptOf(info)] };
}

/** The attempt failed and the policy allows another: the task is ready again. */
export function retryTask(ctx: ReactorContext, task: Task, info: TaskInfo): void {
  (task.attemptLog ??= []).push(attemptOf(info));
  task.retries = (task.retries ?? 0) + 1;
  releaseTask(ctx, task);
  task.governor = undefined;
  task.info = { ...info, attempts: [...task.attemptLog] };
  requeueTask(
    ctx,
    task,
    `retry ${task.retries} of ${task.policy?.max_retries ?? 0}: ${
      (info.error ?? "failed").split("\n")[0]
    }`,
  );
  touch(ctx);
}

/**
 * In a `"continue"` session: the task failed (`error` says where and why); its dependents fail
 * too, every other task goes on. Its inputs stay, so that `rerun_failed` can run it again.
 */
export function failTaskOnly(ctx: ReactorContext, task: Task, error: string): void {
  endTask(ctx, task, error, false, true);
  endDependents(ctx, task, false);
  touch(ctx);
}

/** Stops the tasks (killing those running) and their dependents; returns the ids stopped. */
export function cancelTasks(ctx: ReactorContext, session: Session, ids: number[]): number[] {
  const tasks = ids.map((id) => {
    const task = session.tasks.get(id);
    if (!task) throw new ApiError("NotFound", `task ${session.id}/${id} was not submitted`);
    return task;
  });
  const cancelled: number[] = [];
  for (const task of tasks) {
    if (task.finished) continue;
    endTask(ctx, task, `Task ${describeTask(task)} was cancelled`, true);
    cancelled.push(task.id);
    cancelled.push(...endDependents(ctx, task, true));
  }
  touch(ctx);
  return cancelled;
}

/** The tasks failed in a `"continue"` session, with their errors. */
export function failedTasks(session: Session): { id: number; error: string }[] {
  return [...session.failed].map((t) => ({ id: t.id, error: t.info.error ?? "failed" }));
}

/** The failed tasks of a `"continue"` session and their dependents run again. */
export function rerunFailed(ctx: ReactorContext, session: Session): number[] {
  const tasks = [...session.failed];
  session.failed.clear();
  for (const task of tasks) {
    // Its failed attempt had started (a dependent failed with its input may never have).
    const started = task.info.start_time !== undefined;
    task.state = "notAssigned";
    task.info = task.attemptLog ? { attempts: [...task.attemptLog] } : {};
    task.retries = 0;
    // A new attempt: its output (TaskOutput) and RAIN_TASK_ATTEMPT are the next ones.
    task.attempts = (task.attempts ?? 1) + 1;
    for (const output of task.outputs) output.error = undefined;
    session.unfinishedTasks++;
    ctx.events?.push({
      type: "TaskRequeued",
      time: Date.now(),
      session: session.id,
      task: task.id,
      attempt: task.attempts,
      crashes: task.crashes?.length ?? 0,
      reason: RERUN_FAILED_REASON,
      started,
    });
  }
  for (const task of tasks) {
    if (task.finished) continue; // cancelled again below through another task
    const cancelledInput = task.inputs.find((input) => input.error !== undefined);
    if (cancelledInput) {
      // An input of it was cancelled (not failed): the task cannot run.
      endTask(ctx, task, inputError(task, cancelledInput, true), true);
      endDependents(ctx, task, true);
      continue;
    }
    let waiting = 0;
    for (const input of task.inputs) if (input.state === "unfinished") waiting++;
    task.waitingInputs = waiting;
    if (waiting === 0) makeReady(ctx, task);
  }
  touch(ctx);
  return tasks.map((t) => t.id);
}

/** What `wait_all` answers once no task of the session is pending. */
export function allDoneOutcome(
  session: Session,
): { kind: "done" } | { kind: "taskFailed"; error: string } {
  if (session.failed.size === 0) return { kind: "done" };
  const failed = [...session.failed];
  const first = failed.slice(0, SUMMARY_ERRORS).map((t) => `- ${t.info.error ?? "failed"}`);
  const more = failed.length > SUMMARY_ERRORS
    ? [`… and ${failed.length - SUMMARY_ERRORS} more (session.failed_tasks())`]
    : [];
  return {
    kind: "taskFailed",
    error: `${failed.length} task${failed.length === 1 ? "" : "s"} of session ${session.id} ` +
      `failed:\n${[...first, ...more].join("\n")}`,
  };
}

/** Answers `wait_all` when nothing of the session is pending any more. */
export function settleAllWaiters(session: Session): void {
  const outcome = allDoneOutcome(session);
  session.allWaiters.forEach((w) => settleWaiter(w, outcome));
  session.allWaiters = [];
}

function inputError(task: Task, input: DataObject, cancelled: boolean): string {
  const producer = input.producer ? ` (output of task ${describeTask(input.producer)})` : "";
  return `Task ${describeTask(task)} was not run: its input object ${
    formatId(input.fullId)
  }${producer} ${cancelled ? "was cancelled" : "failed"}`;
}

/** The task is over without result (state "failed"); waiters of it and its outputs told. */
function endTask(
  ctx: ReactorContext,
  task: Task,
  error: string,
  cancelled: boolean,
  alreadyLogged = false,
): void {
  const session = task.session;
  const governor = task.governor;
  if (governor && governor.tasks.has(task)) {
    // Running or queued there: the governor kills or drops it (it then reports nothing).
    ctx.comm.send(governor.id, { type: "cancel_tasks", tasks: [task.fullId] });
  }
  releaseTask(ctx, task);
  task.governor = undefined;
  task.state = "failed";
  task.info = { ...task.info, error };
  if (!alreadyLogged) {
    ctx.events?.push({
      type: "TaskFinished",
      time: Date.now(),
      session: session.id,
      task: task.id,
      info: task.info,
    });
  }
  if (cancelled) {
    task.cancelled = true;
    for (const input of task.inputs) {
      input.pendingConsumers--;
      releaseIfUnneeded(ctx, input);
    }
  } else {
    session.failed.add(task);
  }
  settleWaiters(task, { kind: "taskFailed", error });
  for (const output of task.outputs) {
    if (output.state !== "unfinished") continue;
    output.error = error;
    settleWaiters(output, { kind: "taskFailed", error });
  }
  if (--session.unfinishedTasks === 0) settleAllWaiters(session);
}

/** Ends every pending task depending on the task's outputs, transitively; returns their ids. */
function endDependents(ctx: ReactorContext, root: Task, cancelled: boolean): number[] {
  const ended: number[] = [];
  const stack = [root];
  while (stack.length) {
    const task = stack.pop()!;
    for (const output of task.outputs) {
      for (const consumer of output.consumers) {
        if (consumer.finished) continue;
        endTask(ctx, consumer, inputError(consumer, output, cancelled), cancelled);
        ended.push(consumer.id);
        stack.push(consumer);
      }
    }
  }
  return ended;
}

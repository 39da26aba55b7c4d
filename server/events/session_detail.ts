/**
 * The details of one session the event views need beyond its counts (view_model.ts): its tasks,
 * objects, groups and transfers, indexed from its submits and task events.
 */
import type { TaskInfo } from "../../common/attributes.ts";
import type { DataTransfer } from "../../common/messages.ts";
import { RERUN_FAILED_REASON } from "./event.ts";
import { isFailure } from "./rows.ts";
import type { TaskState } from "./view_types.ts";

/** A submitted task as the views need it (a PlannedTask has these fields). */
export interface SubmittedTask {
  id: number;
  taskType: string;
  name?: string;
  inputs: readonly number[];
  outputs: readonly number[];
}

export interface SubmittedObject {
  id: number;
  dataSize?: number;
}

/** The specs of one submit's tasks and objects (by position), for task details. */
export interface SubmitSpecs {
  task(pos: number): Record<string, unknown> | undefined;
  object(pos: number): Record<string, unknown> | undefined;
}

export interface TaskEntry {
  id: number;
  group: number;
  /** Index of its submit in `SessionDetail.specs`, and position there. */
  submit: number;
  pos: number;
  inputs: readonly number[];
  outputs: readonly number[];
  state: TaskState;
  governor?: string;
  startTime?: string;
  /** ms (governor clock, from info.start_time) */
  start?: number;
  end?: number;
  duration?: number;
  /** The finished info when it is more than `{governor, start_time, duration}`. */
  info?: Readonly<TaskInfo>;
  /** The governor's cpu slots its (last) attempt ran on, as the governor reported them. */
  slots?: readonly number[];
  /** First stream lane (the first slot, or a lane given by views.ts when none was reported). */
  lane: number;
  /** Runs that ended without finishing it (retried, requeued, output lost); absent if none. */
  attempts?: AttemptEntry[];
}

/** A run of a task that ended without finishing it. */
export interface AttemptEntry {
  governor?: string;
  /** ms (governor clock, from start_time) */
  start?: number;
  /** ms (server clock) */
  end: number;
  /** Why it ended (TaskRequeued `reason`, or its output was lost). */
  reason: string;
}

export interface ObjectEntry {
  submit: number;
  pos: number;
  producer?: number;
  consumers?: number[];
  size?: number;
}

export interface GroupEntry {
  name: string;
  task_type: string;
  count: number;
  finished: number;
  failed: number;
  running: number;
  durationTotal: number;
  durationMax: number;
  /** Largest `info.peak_memory` reported by a task of the group (0: none measured). */
  peakMemoryMax: number;
}

export interface TransferEntry {
  object: number;
  from: string;
  to: string;
  bytes: number;
  /** ms (governor clock) */
  start: number;
  duration: number;
}

/** The details of one session. */
export class SessionDetail {
  readonly tasks = new Map<number, TaskEntry>();
  readonly objects = new Map<number, ObjectEntry>();
  readonly groups: GroupEntry[] = [];
  readonly #groupIds = new Map<string, number>();
  readonly specs: SubmitSpecs[] = [];
  /** [server time ms, tasks submitted] */
  readonly submits: [number, number][] = [];
  /** server time (ms) of every TaskFinished, in order */
  readonly finishTimes: number[] = [];
  readonly transfers: TransferEntry[] = [];
  readonly governors = new Set<string>();
  bytes = 0;
  firstStart = Infinity;
  lastEnd = -Infinity;
  /** Changes to started tasks (lanes are recomputed when it moved). */
  version = 0;

  #group(name: string, taskType: string): number {
    const key = `${name}\u0000${taskType}`;
    let g = this.#groupIds.get(key);
    if (g === undefined) {
      g = this.groups.push({
        name,
        task_type: taskType,
        count: 0,
        finished: 0,
        failed: 0,
        running: 0,
        durationTotal: 0,
        durationMax: 0,
        peakMemoryMax: 0,
      }) - 1;
      this.#groupIds.set(key, g);
    }
    return g;
  }

  submitted(
    time: number,
    tasks: readonly SubmittedTask[],
    objects: readonly SubmittedObject[],
    specs: SubmitSpecs,
  ): void {
    const submit = this.beginSubmit(time, tasks.length, specs);
    this.addObjects(submit, objects, 0, objects.length);
    this.addTasks(submit, tasks, 0, tasks.length);
  }

  /** A submit's first step (then its objects, then its tasks, maybe in slices): its index. */
  beginSubmit(time: number, taskCount: number, specs: SubmitSpecs): number {
    this.submits.push([time, taskCount]);
    return this.specs.push(specs) - 1;
  }

  /** The objects `from..to` of submit `submit`. */
  addObjects(submit: number, objects: readonly SubmittedObject[], from: number, to: number): void {
    for (let pos = from; pos < to; pos++) {
      const o = objects[pos]!;
      this.objects.set(o.id, { submit, pos, size: o.dataSize });
    }
  }

  /** The tasks `from..to` of submit `submit` (after all its objects). */
  addTasks(submit: number, tasks: readonly SubmittedTask[], from: number, to: number): void {
    for (let pos = from; pos < to; pos++) {
      const t = tasks[pos]!;
      const group = this.#group(t.name ? t.name : t.taskType, t.taskType);
      this.groups[group]!.count++;
      this.tasks.set(t.id, {
        id: t.id,
        group,
        submit,
        pos,
        inputs: t.inputs,
        outputs: t.outputs,
        state: "waiting",
        lane: -1,
      });
      for (const o of t.outputs) {
        const obj = this.objects.get(o);
        if (obj) obj.producer = t.id;
      }
      for (const i of t.inputs) {
        const obj = this.objects.get(i);
        if (obj) (obj.consumers ??= []).push(t.id);
      }
    }
  }

  /** A task's attempt started (again, when its last one was retried or requeued). */
  started(id: number, governor: string, startTime: string, slots?: readonly number[]): void {
    const task = this.tasks.get(id);
    if (!task || (task.state !== "waiting" && task.state !== "running")) return;
    if (task.state === "waiting") this.groups[task.group]!.running++;
    task.state = "running";
    task.governor = governor;
    task.startTime = startTime;
    task.start = Date.parse(startTime);
    task.slots = slots;
    this.governors.add(governor);
    if (task.start < this.firstStart) this.firstStart = task.start;
    this.version++;
  }

  finished(
    time: number,
    id: number,
    info: Readonly<TaskInfo>,
    outputs: readonly { id: readonly [number, number]; size: number }[] | undefined,
  ): void {
    const task = this.tasks.get(id);
    if (!task || task.state === "finished" || task.state === "failed") return;
    const group = this.groups[task.group]!;
    if (task.state === "running") group.running--;
    const failed = isFailure(info);
    task.state = failed ? "failed" : "finished";
    task.governor = info.governor ?? task.governor;
    if (task.governor) this.governors.add(task.governor);
    if (info.start_time !== undefined) task.startTime = info.start_time;
    const start = info.start_time === undefined ? NaN : Date.parse(info.start_time);
    if (Number.isFinite(start)) task.start = start;
    const duration = typeof info.duration === "number" ? info.duration : 0;
    task.duration = duration;
    if (!isSimple(info)) task.info = info;
    if (task.start !== undefined && Number.isFinite(task.start)) {
      task.end = task.start + duration * 1000;
      if (task.start < this.firstStart) this.firstStart = task.start;
      if (task.end > this.lastEnd) this.lastEnd = task.end;
    }
    if (failed) group.failed++;
    else group.finished++;
    group.durationTotal += duration;
    if (duration > group.durationMax) group.durationMax = duration;
    const peak = info.peak_memory;
    if (typeof peak === "number" && peak > group.peakMemoryMax) group.peakMemoryMax = peak;
    if (outputs !== undefined) {
      for (const o of outputs) {
        const obj = this.objects.get(o.id[1]);
        if (obj) obj.size = o.size;
        this.bytes += o.size;
      }
    }
    this.finishTimes.push(time);
    this.version++;
  }

  /**
   * The task waits to run again (TaskRequeued): a retry, or its governor or an input was lost.
   * A run that had started is an attempt of its own.
   */
  requeued(time: number, id: number, reason: string, started: boolean): void {
    const task = this.tasks.get(id);
    if (task?.state === "failed" && reason === RERUN_FAILED_REASON) return this.#rerunFailed(task);
    if (!task || task.state === "finished" || task.state === "failed") return;
    if (task.state === "running") this.groups[task.group]!.running--;
    if (started) {
      (task.attempts ??= []).push({
        governor: task.governor,
        start: task.start,
        end: time,
        reason,
      });
    }
    this.#unstart(task);
  }

  /** A finished task runs again to recompute its output `object`, lost with its governor. */
  rerun(time: number, id: number, object: number): void {
    const task = this.tasks.get(id);
    if (!task || task.state !== "finished") return;
    const group = this.groups[task.group]!;
    group.finished--;
    (task.attempts ??= []).push({
      governor: task.governor,
      start: task.start,
      end: task.end ?? time,
      reason: `finished, but its output ${object} was lost with its governor`,
    });
    task.info = undefined;
    task.duration = undefined;
    this.#unstart(task);
  }

  /** A failed task runs again (`rerun_failed`): its failed run becomes an attempt of its own. */
  #rerunFailed(task: TaskEntry): void {
    this.groups[task.group]!.failed--;
    if (task.start !== undefined) {
      (task.attempts ??= []).push({
        governor: task.governor,
        start: task.start,
        end: task.end ?? task.start,
        reason: String(task.info?.error ?? "failed"),
      });
    }
    task.info = undefined;
    task.duration = undefined;
    this.#unstart(task);
  }

  #unstart(task: TaskEntry): void {
    task.state = "waiting";
    task.governor =
      task.startTime =
      task.start =
      task.end =
        undefined;
    this.version++;
  }

  transferred(to: string, t: Readonly<DataTransfer>): void {
    this.transfers.push({
      object: t.object[1],
      from: t.from,
      to,
      bytes: t.bytes,
      start: Date.parse(t.start_time),
      duration: t.duration,
    });
  }

  /** The info a task's detail shows: the finished one, else what its start told. */
  info(task: TaskEntry): Record<string, unknown> {
    if (task.info !== undefined) return { ...task.info };
    const info: Record<string, unknown> = {};
    if (task.governor !== undefined) info.governor = task.governor;
    if (task.startTime !== undefined) info.start_time = task.startTime;
    if (task.duration !== undefined) info.duration = task.duration;
    return info;
  }
}

function isSimple(info: Readonly<TaskInfo>): boolean {
  let keys = 0;
  for (const key in info) {
    if (key !== "governor" && key !== "start_time" && key !== "duration") return false;
    keys++;
  }
  return keys <= 3;
}

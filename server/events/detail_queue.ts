/**
 * A session's task events not indexed yet. Live, the reactor's thread only appends a few numbers
 * and shared strings per event here (O(1), no object kept of a governor message in the common
 * case); the session's details (view_model.ts `SessionDetail`) are brought up to date when a view
 * asks for them (`drainSome`, in slices), so a session nobody looks at costs next to nothing.
 */
import type { TaskInfo } from "../../common/attributes.ts";
import type { DataTransfer } from "../../common/messages.ts";
import type { SessionDetail, SubmitSpecs, SubmittedObject, SubmittedTask } from "./view_model.ts";

enum Kind {
  /** refs `tasks, objects, specs`; numbers `time` */
  Submit,
  /** numbers `task, slot count, slots…`; strings `governor, start_time` */
  Started,
  /** numbers `time, task, duration, outputs…`; strings `governor, start_time` */
  FinishedSimple,
  /** numbers `time, task, outputs…`; refs `info` */
  Finished,
  /** refs `to, transfer` */
  Transfer,
  /** numbers `time, task, started (0|1)`; strings `reason` */
  Requeued,
  /** numbers `time, task, object` */
  Rerun,
}

export class DetailQueue {
  #kinds: Kind[] = [];
  #numbers: number[] = [];
  #strings: string[] = [];
  #refs: unknown[] = [];
  /** Tasks of the submits queued (counted in the details' memory budget already). */
  queuedTasks = 0;

  /** Events not applied to the details yet. */
  get pending(): boolean {
    return this.#k < this.#kinds.length;
  }

  submitted(
    time: number,
    tasks: readonly SubmittedTask[],
    objects: readonly SubmittedObject[],
    specs: SubmitSpecs,
  ): void {
    this.#kinds.push(Kind.Submit);
    this.#numbers.push(time);
    this.#refs.push(tasks, objects, specs);
    this.queuedTasks += tasks.length;
  }

  started(task: number, governor: string, startTime: string, slots?: readonly number[]): void {
    this.#kinds.push(Kind.Started);
    this.#numbers.push(task, slots?.length ?? 0);
    if (slots !== undefined) { for (const slot of slots) this.#numbers.push(slot); }
    this.#strings.push(governor, startTime);
  }

  finished(
    time: number,
    task: number,
    info: Readonly<TaskInfo>,
    outputs: readonly { id: readonly [number, number]; size: number }[] | undefined,
  ): void {
    if (isSimple(info)) {
      this.#kinds.push(Kind.FinishedSimple);
      this.#numbers.push(time, task, info.duration);
      this.#strings.push(info.governor, info.start_time);
    } else {
      this.#kinds.push(Kind.Finished);
      this.#numbers.push(time, task);
      this.#refs.push(info);
    }
    if (outputs === undefined) {
      this.#numbers.push(-1);
    } else {
      this.#numbers.push(outputs.length);
      for (const o of outputs) this.#numbers.push(o.id[1], o.size);
    }
  }

  transferred(to: string, transfer: Readonly<DataTransfer>): void {
    this.#kinds.push(Kind.Transfer);
    this.#refs.push(to, transfer);
  }

  requeued(time: number, task: number, reason: string, started: boolean): void {
    this.#kinds.push(Kind.Requeued);
    this.#numbers.push(time, task, started ? 1 : 0);
    this.#strings.push(reason);
  }

  rerun(time: number, task: number, object: number): void {
    this.#kinds.push(Kind.Rerun);
    this.#numbers.push(time, task, object);
  }

  /** Where `drainSome` is in the queue, and in a submit it indexes in slices. */
  #k = 0;
  #n = 0;
  #s = 0;
  #r = 0;
  #submit: { index: number; objects: number; tasks: number } | undefined;

  /**
   * Applies what is queued to `detail`, in order, about `budget` tasks, objects or events at a
   * time (a submit of 100k tasks in slices); true once the queue is empty. Calls may interleave
   * with pushes and with each other: each resumes where the last one stopped.
   */
  drainSome(detail: SessionDetail, session: number, budget: number): boolean {
    const kinds = this.#kinds, numbers = this.#numbers, strings = this.#strings, refs = this.#refs;
    const num = () => numbers[this.#n++]!;
    const str = () => strings[this.#s++]!;
    const outputs = () => {
      const count = num();
      if (count < 0) return undefined;
      const list: { id: [number, number]; size: number }[] = new Array(count);
      for (let o = 0; o < count; o++) list[o] = { id: [session, num()], size: num() };
      return list;
    };
    while (budget > 0 && this.#k < kinds.length) {
      switch (kinds[this.#k]) {
        case Kind.Submit: {
          // refs stay put until the submit is indexed whole.
          const tasks = refs[this.#r] as readonly SubmittedTask[];
          const objects = refs[this.#r + 1] as readonly SubmittedObject[];
          const at = this.#submit ??= {
            index: detail.beginSubmit(
              numbers[this.#n]!,
              tasks.length,
              refs[this.#r + 2] as SubmitSpecs,
            ),
            objects: 0,
            tasks: 0,
          };
          const objectsTo = Math.min(objects.length, at.objects + budget);
          detail.addObjects(at.index, objects, at.objects, objectsTo);
          budget -= objectsTo - at.objects;
          at.objects = objectsTo;
          if (at.objects < objects.length) continue;
          const tasksTo = Math.min(tasks.length, at.tasks + Math.max(0, budget));
          detail.addTasks(at.index, tasks, at.tasks, tasksTo);
          budget -= tasksTo - at.tasks;
          at.tasks = tasksTo;
          if (at.tasks < tasks.length) continue;
          this.queuedTasks -= tasks.length;
          this.#submit = undefined;
          this.#n++;
          this.#r += 3;
          break;
        }
        case Kind.Started: {
          const task = num();
          const count = num();
          const slots = count === 0 ? undefined : new Array<number>(count);
          for (let i = 0; i < count; i++) slots![i] = num();
          const governor = str();
          detail.started(task, governor, str(), slots);
          break;
        }
        case Kind.FinishedSimple: {
          const time = num();
          const task = num();
          const duration = num();
          const governor = str();
          const info = { governor, start_time: str(), duration };
          detail.finished(time, task, info, outputs());
          break;
        }
        case Kind.Finished: {
          const time = num();
          const task = num();
          detail.finished(time, task, refs[this.#r++] as TaskInfo, outputs());
          break;
        }
        case Kind.Transfer: {
          const to = refs[this.#r++] as string;
          detail.transferred(to, refs[this.#r++] as DataTransfer);
          break;
        }
        case Kind.Requeued: {
          const time = num();
          const task = num();
          detail.requeued(time, task, str(), num() === 1);
          break;
        }
        case Kind.Rerun: {
          const time = num();
          const task = num();
          detail.rerun(time, task, num());
          break;
        }
      }
      this.#k++;
      budget--;
    }
    if (this.#k < kinds.length) return false;
    // Drained: start over with empty columns.
    this.#kinds = [];
    this.#numbers = [];
    this.#strings = [];
    this.#refs = [];
    this.#k =
      this.#n =
      this.#s =
      this.#r =
        0;
    return true;
  }
}

/** `{governor, start_time, duration}` and nothing else (most finished tasks). */
function isSimple(
  info: Readonly<TaskInfo>,
): info is { governor: string; start_time: string; duration: number } {
  if (
    typeof info.governor !== "string" || typeof info.start_time !== "string" ||
    typeof info.duration !== "number"
  ) {
    return false;
  }
  let keys = 0;
  for (const _ in info) keys++;
  return keys === 3;
}

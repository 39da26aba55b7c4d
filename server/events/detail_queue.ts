/**
 * A session's task events not indexed yet. Live, the reactor's thread only appends a few numbers
 * and shared strings per event here (O(1), no object kept of a governor message in the common
 * case); the session's details (view_model.ts `SessionDetail`) are brought up to date when a view
 * asks for them (`drainInto`), so a session nobody looks at costs next to nothing.
 */
import type { TaskInfo } from "../../common/attributes.ts";
import type { DataTransfer } from "../../common/messages.ts";
import type { SessionDetail, SubmitSpecs, SubmittedObject, SubmittedTask } from "./view_model.ts";

enum Kind {
  /** refs `tasks, objects, specs`; numbers `time` */
  Submit,
  /** numbers `task`; strings `governor, start_time` */
  Started,
  /** numbers `time, task, duration, outputs…`; strings `governor, start_time` */
  FinishedSimple,
  /** numbers `time, task, outputs…`; refs `info` */
  Finished,
  /** refs `to, transfer` */
  Transfer,
}

export class DetailQueue {
  #kinds: Kind[] = [];
  #numbers: number[] = [];
  #strings: string[] = [];
  #refs: unknown[] = [];
  /** Tasks of the submits queued (counted in the details' memory budget already). */
  queuedTasks = 0;

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

  started(task: number, governor: string, startTime: string): void {
    this.#kinds.push(Kind.Started);
    this.#numbers.push(task);
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

  /** Applies what is queued to `detail`, in order, and empties the queue. */
  drainInto(detail: SessionDetail, session: number): void {
    if (this.#kinds.length === 0) return;
    const kinds = this.#kinds, numbers = this.#numbers, strings = this.#strings, refs = this.#refs;
    this.#kinds = [];
    this.#numbers = [];
    this.#strings = [];
    this.#refs = [];
    this.queuedTasks = 0;
    let n = 0, s = 0, r = 0;
    const num = () => numbers[n++]!;
    const str = () => strings[s++]!;
    const outputs = () => {
      const count = num();
      if (count < 0) return undefined;
      const list: { id: [number, number]; size: number }[] = new Array(count);
      for (let o = 0; o < count; o++) list[o] = { id: [session, num()], size: num() };
      return list;
    };
    for (const kind of kinds) {
      switch (kind) {
        case Kind.Submit: {
          const tasks = refs[r++] as readonly SubmittedTask[];
          const objects = refs[r++] as readonly SubmittedObject[];
          detail.submitted(num(), tasks, objects, refs[r++] as SubmitSpecs);
          break;
        }
        case Kind.Started: {
          const task = num();
          const governor = str();
          detail.started(task, governor, str());
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
          detail.finished(time, task, refs[r++] as TaskInfo, outputs());
          break;
        }
        case Kind.Transfer: {
          const to = refs[r++] as string;
          detail.transferred(to, refs[r++] as DataTransfer);
          break;
        }
      }
    }
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

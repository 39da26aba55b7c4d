/**
 * Scheduling: which ready task runs on which governor.
 *
 * The reactor tells a `Scheduler` about governors and ready tasks and asks it for assignments
 * after each batch of events; the scheduler never touches sockets, so it is tested alone and can
 * be swapped.
 */
import type { GovernorState, Task } from "./state.ts";

export interface Assignment {
  task: Task;
  governor: GovernorState;
}

export interface Scheduler {
  governorAdded(governor: GovernorState): void;
  governorRemoved(governor: GovernorState): void;
  /** The task's inputs are all finished. */
  taskReady(task: Task): void;
  /** A task finished on a governor; `seconds` is its measured duration. */
  taskFinished(task: Task, seconds: number): void;
  /**
   * The task no longer occupies `governor` (finished, failed, its session gone or the governor
   * lost): its cpus are free again.
   */
  taskReleased(task: Task, governor: GovernorState): void;
  /**
   * Picks governors for ready tasks. The reactor applies the returned assignments (task state,
   * `governor.tasks`) before the next call. The scheduler owns `governor.assignedCpus`: it adds
   * a task's cpus here and subtracts them in `taskReleased`. Tasks no longer ready when met
   * (their session closed or failed) are dropped.
   */
  schedule(): Assignment[];
  /** Ready tasks waiting for a governor (for monitoring). */
  readonly readyCount: number;
}

/** A FIFO with O(1) push and shift (an array with a moving head, compacted now and then). */
class Fifo<T> {
  #items: T[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }
  push(item: T): void {
    this.#items.push(item);
  }
  peek(): T | undefined {
    return this.#items[this.#head];
  }
  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined as T;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }
}

/**
 * Tasks shorter than this (running mean of their group) may be queued on a governor beyond its
 * free cpus, so that it never idles waiting for the next assignment. Longer or unknown tasks are
 * only placed where cpus are free, so that no governor hoards work another could start now.
 */
export const SHORT_TASK_SECONDS = 0.05;
/** How many short tasks per cpu a governor may have queued beyond its free cpus. */
export const QUEUE_PER_CPU = 64;

interface DurationStats {
  count: number;
  mean: number;
}

/**
 * The Rain 0.4 heuristic, improved: a ready task goes to the governor with enough free cpus that
 * already holds the most bytes of its inputs (objects present on every governor count for
 * nothing); ties go to the governor with the most free cpus. Tasks asking for more cpus are
 * placed first. Known-short tasks may be queued on governors beyond their free cpus (see
 * `SHORT_TASK_SECONDS`); the governor still runs at most its cpus at once.
 */
export class LocalityScheduler implements Scheduler {
  readonly #governors: GovernorState[] = [];
  /** Ready tasks bucketed by cpus, served from the largest. */
  readonly #buckets = new Map<number, Fifo<Task>>();
  #bucketOrder: number[] = [];
  readonly #durations = new Map<string, DurationStats>();
  #ready = 0;

  get readyCount(): number {
    return this.#ready;
  }

  governorAdded(governor: GovernorState): void {
    this.#governors.push(governor);
  }

  governorRemoved(governor: GovernorState): void {
    const i = this.#governors.indexOf(governor);
    if (i >= 0) this.#governors.splice(i, 1);
  }

  taskReady(task: Task): void {
    // A task made ready again (after a governor loss) may still have its old entry: keep one.
    if (task.inReadyQueue) return;
    task.inReadyQueue = true;
    let bucket = this.#buckets.get(task.cpus);
    if (!bucket) {
      bucket = new Fifo();
      this.#buckets.set(task.cpus, bucket);
      this.#bucketOrder = [...this.#buckets.keys()].sort((a, b) => b - a);
    }
    bucket.push(task);
    this.#ready++;
  }

  taskFinished(task: Task, seconds: number): void {
    const key = durationKey(task);
    const stats = this.#durations.get(key);
    if (!stats) this.#durations.set(key, { count: 1, mean: seconds });
    else {
      stats.count++;
      // Running mean that follows recent behaviour (weight of the newest sample ≥ 1/32).
      stats.mean += (seconds - stats.mean) / Math.min(stats.count, 32);
    }
  }

  taskReleased(task: Task, governor: GovernorState): void {
    governor.assignedCpus -= task.cpus;
  }

  schedule(): Assignment[] {
    const out: Assignment[] = [];
    if (this.#governors.length === 0) return out;
    for (const cpus of this.#bucketOrder) {
      const bucket = this.#buckets.get(cpus)!;
      while (bucket.length > 0) {
        const task = bucket.peek()!;
        if (task.state !== "ready" || task.session.closed || task.session.error !== undefined) {
          bucket.shift();
          task.inReadyQueue = false;
          this.#ready--;
          continue;
        }
        const governor = this.#pick(task);
        if (!governor) break;
        bucket.shift();
        task.inReadyQueue = false;
        this.#ready--;
        governor.assignedCpus += task.cpus; // the next pick in this pass sees it
        out.push({ task, governor });
      }
    }
    return out;
  }

  #isShort(task: Task): boolean {
    const stats = this.#durations.get(durationKey(task));
    return stats !== undefined && stats.mean < SHORT_TASK_SECONDS;
  }

  #pick(task: Task): GovernorState | undefined {
    const governors = this.#governors;
    const short = this.#isShort(task);
    let localBytes: Map<GovernorState, number> | undefined;
    for (const input of task.inputs) {
      const locations = input.testLocations ?? input.locations;
      // Objects everywhere (or nowhere) say nothing about where to run.
      if (locations.length === 0 || locations.length >= governors.length) continue;
      localBytes ??= new Map();
      for (const g of locations) {
        localBytes.set(g, (localBytes.get(g) ?? 0) + input.size);
      }
    }
    let best: GovernorState | undefined;
    let bestBytes = -1;
    let bestFree = -Infinity;
    for (const g of governors) {
      if (task.cpus > g.cpus || g.stalled || g.draining) continue;
      const free = g.freeCpus;
      const fits = free >= task.cpus ||
        (short && g.assignedCpus + task.cpus <= g.cpus * (1 + QUEUE_PER_CPU));
      if (!fits) continue;
      const bytes = localBytes?.get(g) ?? 0;
      // Free cpus first (a governor that can start it now beats one that would queue it), then
      // locality, then load.
      const canStart = free >= task.cpus;
      const bestCanStart = best !== undefined && best.freeCpus >= task.cpus;
      if (
        best === undefined ||
        (canStart && !bestCanStart) ||
        (canStart === bestCanStart &&
          (bytes > bestBytes || (bytes === bestBytes && free > bestFree)))
      ) {
        best = g;
        bestBytes = bytes;
        bestFree = free;
      }
    }
    return best;
  }
}

function durationKey(task: Task): string {
  return task.name === undefined ? task.taskType : `${task.taskType}\u0000${task.name}`;
}

/**
 * Scheduling: which ready task runs on which governor.
 *
 * The reactor tells a `Scheduler` about governors and ready tasks and asks it for assignments
 * after each batch of events; the scheduler never touches sockets, so it is tested alone and can
 * be swapped.
 */
import type { GovernorState, Task } from "./state.ts";
import { neverFits, type ResourceRequest } from "../common/resources.ts";
import { GovernorHeap } from "./governor_heap.ts";

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
/**
 * A waiting task that no governor can take yet, bypassed by this many placements of other
 * tasks, reserves a governor: nothing else starts there until it has started. Bigger requests
 * are placed first, so they only wait while no governor has room; this bounds how long small
 * tasks may keep taking that room.
 */
export const RESERVE_AFTER_BYPASSES = 16;

interface Bucket {
  readonly tasks: Fifo<Task>;
  /** Sort key: bigger requests first (gpus, then cpus, memory, custom amounts). */
  readonly rank: number[];
}

function bucketKey(task: Task): string {
  return task.request === undefined ? String(task.cpus) : JSON.stringify(task.request);
}

function rankOf(task: Task): number[] {
  const r: ResourceRequest = task.request ?? { cpus: task.cpus };
  const custom = Object.values(r.custom ?? {}).reduce((a, b) => a + b, 0);
  return [r.gpus ?? 0, r.cpus, r.memory ?? 0, custom];
}

function compareRanks(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) {
    const d = (b[i] ?? 0) - (a[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

interface DurationStats {
  count: number;
  mean: number;
}

/**
 * The Rain 0.4 heuristic, improved: a ready task goes to the governor with enough free resources
 * (cpus, and memory, gpus, custom amounts it asks for: see common/resources.ts) that already
 * holds the most bytes of its inputs (objects present on every governor count for nothing); ties
 * go to the governor with the most free cpus. Bigger requests are placed first; a blocked one
 * does not stop smaller ones, and one bypassed too often reserves a governor (see
 * `RESERVE_AFTER_BYPASSES`). Known-short cpu-only tasks may be queued on governors beyond their
 * free cpus (see `SHORT_TASK_SECONDS`); the governor still runs at most its cpus at once.
 */
export class LocalityScheduler implements Scheduler {
  readonly #governors: GovernorState[] = [];
  /** Every governor by free cpus: a pick visits the few at the top, not all of them. */
  readonly #byFree = new GovernorHeap();
  /** Order of joining (the last tie-break). */
  readonly #joined = new Map<GovernorState, number>();
  #joinCount = 0;
  /** cpus of the largest governor. */
  #maxCpus = 0;
  /** Ready tasks bucketed by request (same request, one FIFO), served from the largest. */
  readonly #buckets = new Map<string, Bucket>();
  #bucketOrder: Bucket[] = [];
  /** Placements of other tasks since each blocked bucket head was first blocked. */
  readonly #bypassed = new Map<Task, number>();
  /** Governors held for a long-blocked task (see `RESERVE_AFTER_BYPASSES`). */
  readonly #reserved = new Map<GovernorState, Task>();
  readonly #durations = new Map<string, DurationStats>();
  #ready = 0;

  get readyCount(): number {
    return this.#ready;
  }

  governorAdded(governor: GovernorState): void {
    if (this.#joined.has(governor)) return;
    this.#governors.push(governor);
    this.#joined.set(governor, this.#joinCount++);
    this.#byFree.add(governor);
    governor.onFreeCpusChanged = (g) => this.#byFree.update(g);
    this.#maxCpus = Math.max(this.#maxCpus, governor.cpus);
  }

  governorRemoved(governor: GovernorState): void {
    const i = this.#governors.indexOf(governor);
    if (i >= 0) this.#governors.splice(i, 1);
    this.#joined.delete(governor);
    this.#byFree.remove(governor);
    governor.onFreeCpusChanged = undefined;
    this.#maxCpus = this.#governors.reduce((max, g) => Math.max(max, g.cpus), 0);
    this.#reserved.delete(governor);
  }

  taskReady(task: Task): void {
    // A task made ready again (after a governor loss) may still have its old entry: keep one.
    if (task.inReadyQueue) return;
    task.inReadyQueue = true;
    const key = bucketKey(task);
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      bucket = { tasks: new Fifo(), rank: rankOf(task) };
      this.#buckets.set(key, bucket);
      this.#bucketOrder = [...this.#buckets.values()].sort((a, b) => compareRanks(a.rank, b.rank));
    }
    bucket.tasks.push(task);
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
    if (task.allocation !== undefined) {
      governor.pool.release(task.allocation);
      task.allocation = undefined;
    }
  }

  /** Whether some connected governor could run the task once enough of it is free. */
  #canEverRun(task: Task): boolean {
    if (task.request === undefined) return task.cpus <= this.#maxCpus;
    return this.#governors.some((g) =>
      task.cpus <= g.cpus && (task.request === undefined || !neverFits(task.request, g.resources))
    );
  }

  /** Drops reservations of tasks that are no longer waiting. */
  #dropStaleReservations(): void {
    for (const [governor, task] of this.#reserved) {
      if (task.state !== "ready" || task.session.closed || task.session.error !== undefined) {
        this.#reserved.delete(governor);
        this.#bypassed.delete(task);
      }
    }
  }

  #reserve(task: Task): void {
    for (const reserving of this.#reserved.values()) if (reserving === task) return;
    let best: GovernorState | undefined;
    for (const g of this.#governors) {
      if (this.#reserved.has(g) || g.stalled || g.draining || task.cpus > g.cpus) continue;
      if (task.request !== undefined && neverFits(task.request, g.resources)) continue;
      if (best === undefined || g.freeCpus > best.freeCpus) best = g;
    }
    if (best !== undefined) this.#reserved.set(best, task);
  }

  #placed(task: Task): void {
    if (this.#bypassed.delete(task)) {
      for (const [governor, reserving] of this.#reserved) {
        if (reserving === task) this.#reserved.delete(governor);
      }
    }
  }

  schedule(): Assignment[] {
    const out: Assignment[] = [];
    if (this.#governors.length === 0) return out;
    this.#dropStaleReservations();
    /** Heads blocked in this pass, with the number of placements when they were met. */
    const blocked: [Task, number][] = [];
    let emptied = false;
    for (const { tasks: bucket } of this.#bucketOrder) {
      while (bucket.length > 0) {
        const task = bucket.peek()!;
        if (task.state !== "ready" || task.session.closed || task.session.error !== undefined) {
          bucket.shift();
          task.inReadyQueue = false;
          this.#bypassed.delete(task);
          this.#ready--;
          continue;
        }
        const governor = this.#pick(task);
        if (!governor) {
          if (this.#canEverRun(task)) blocked.push([task, out.length]);
          break;
        }
        bucket.shift();
        task.inReadyQueue = false;
        this.#ready--;
        this.#placed(task);
        governor.assignedCpus += task.cpus; // the next pick in this pass sees it
        if (task.request !== undefined) task.allocation = governor.pool.allocate(task.request);
        out.push({ task, governor });
      }
      if (bucket.length === 0) emptied = true;
    }
    for (const [task, placedBefore] of blocked) {
      const bypassed = (this.#bypassed.get(task) ?? 0) + out.length - placedBefore;
      this.#bypassed.set(task, bypassed);
      if (bypassed >= RESERVE_AFTER_BYPASSES) this.#reserve(task);
    }
    if (emptied) this.#dropEmptyBuckets();
    return out;
  }

  #dropEmptyBuckets(): void {
    for (const [key, bucket] of this.#buckets) {
      if (bucket.tasks.length === 0) this.#buckets.delete(key);
    }
    this.#bucketOrder = this.#bucketOrder.filter((b) => b.tasks.length > 0);
  }

  #isShort(task: Task): boolean {
    const stats = this.#durations.get(durationKey(task));
    return stats !== undefined && stats.mean < SHORT_TASK_SECONDS;
  }

  #pick(task: Task): GovernorState | undefined {
    const short = this.#isShort(task);
    const request = task.request;
    // Memory, gpus and custom resources are taken at assignment: never queued beyond them.
    const queueable = short && request === undefined;
    const fits = (g: GovernorState): boolean => {
      if (task.cpus > g.cpus || g.stalled || g.draining) return false;
      const reservedFor = this.#reserved.get(g);
      if (reservedFor !== undefined && reservedFor !== task) return false;
      if (request !== undefined && !g.pool.fitsNow(request)) return false;
      return g.freeCpus >= task.cpus ||
        (queueable && g.assignedCpus + task.cpus <= g.cpus * (1 + QUEUE_PER_CPU));
    };
    // The most free cpus among those that fit; below `minFree` none can take it.
    const minFree = queueable ? task.cpus - this.#maxCpus * QUEUE_PER_CPU : task.cpus;
    let best = this.#byFree.find(fits, minFree);
    const localBytes = this.#localBytes(task);
    if (localBytes === undefined) return best;
    // Free cpus first (a governor that can start it now beats one that would queue it), then
    // locality, then free cpus, then the order of joining. Any governor not holding an input is
    // no better than `best`, so only those holding one are compared.
    let bestBytes = best === undefined ? -1 : localBytes.get(best) ?? 0;
    const better = (a: GovernorState, aBytes: number, b: GovernorState, bBytes: number) => {
      const aStarts = a.freeCpus >= task.cpus, bStarts = b.freeCpus >= task.cpus;
      if (aStarts !== bStarts) return aStarts;
      if (aBytes !== bBytes) return aBytes > bBytes;
      if (a.freeCpus !== b.freeCpus) return a.freeCpus > b.freeCpus;
      return this.#joined.get(a)! < this.#joined.get(b)!;
    };
    for (const [g, bytes] of localBytes) {
      if (g === best || !this.#joined.has(g) || !fits(g)) continue;
      if (best === undefined || better(g, bytes, best, bestBytes)) {
        best = g;
        bestBytes = bytes;
      }
    }
    return best;
  }

  /** Bytes of the task's inputs on each governor holding some (none: locality says nothing). */
  #localBytes(task: Task): Map<GovernorState, number> | undefined {
    let localBytes: Map<GovernorState, number> | undefined;
    for (const input of task.inputs) {
      const locations = input.testLocations ?? input.locations;
      // Objects everywhere (or nowhere) say nothing about where to run.
      if (locations.length === 0 || locations.length >= this.#governors.length) continue;
      localBytes ??= new Map();
      for (const g of locations) {
        localBytes.set(g, (localBytes.get(g) ?? 0) + input.size);
      }
    }
    return localBytes;
  }
}

function durationKey(task: Task): string {
  return task.name === undefined ? task.taskType : `${task.taskType}\u0000${task.name}`;
}

/**
 * The governor's queue of assigned tasks and its cpu accounting.
 *
 * Policy: FIFO with bounded backfill.
 * - Tasks start in arrival order while they fit in the free cpus; cpus are never oversubscribed.
 * - When the oldest waiting task needs more cpus than are free, younger tasks that fit may start
 *   ahead of it (so a big task does not idle the governor), but only `maxBypass` times (default
 *   16 × total cpus); after that nothing else starts until the big task has started, so it cannot
 *   starve. The scan past a blocked head looks at no more than `SCAN_WINDOW` tasks, so scheduling
 *   is O(1) per event however long the queue is.
 * - `closeSession` aborts the session's running tasks (their AbortSignal fires), drops its queued
 *   tasks and frees their cpus at once, without waiting for the runners to settle.
 * - Every running task holds cpu slots `0..totalCpus-1` (the lowest free ones, consecutive when
 *   possible), given to its runner: the governor reports them, so the dashboard's lanes are the
 *   governor's real cpus.
 *
 * Tasks that need more cpus than the governor has must be rejected by the caller before `push`.
 */
import type { SessionId } from "../common/ids.ts";
import { Logger } from "../common/log.ts";
import { errorMessage } from "./fs_util.ts";
import { count } from "../common/plural.ts";

const log = new Logger("governor.queue");

/** How many waiting tasks past a blocked head are examined per scheduling pass. */
export const SCAN_WINDOW = 64;

export interface QueueItem {
  readonly session: SessionId;
  readonly cpus: number;
}

/**
 * Runs one task on cpu slots `slots` (ascending); settles when it is over. Must not throw (errors
 * are only logged).
 */
export type Runner<T> = (item: T, signal: AbortSignal, slots: number[]) => Promise<void> | void;

const QUEUED = 0;
const RUNNING = 1;
const DONE = 2;

interface Node<T> {
  item: T;
  state: number;
  prev: Node<T> | undefined;
  next: Node<T> | undefined;
  abort: AbortController | undefined;
  /** The cpu slots it holds while running. */
  slots: number[];
  /** Times a younger task started while this one waited at the head. */
  bypassed: number;
}

export class TaskQueue<T extends QueueItem> {
  readonly totalCpus: number;
  readonly maxBypass: number;
  #free: number;
  /** 1: the cpu slot is held by a running task. */
  readonly #busySlots: Uint8Array;
  #runner: Runner<T>;
  #head: Node<T> | undefined;
  #tail: Node<T> | undefined;
  #queued = 0;
  #running = new Set<Node<T>>();
  #sessions = new Map<SessionId, Set<Node<T>>>();
  #scheduling = false;
  #rescan = false;

  constructor(totalCpus: number, runner: Runner<T>, options: { maxBypass?: number } = {}) {
    this.totalCpus = totalCpus;
    this.#free = totalCpus;
    this.#busySlots = new Uint8Array(totalCpus);
    this.#runner = runner;
    this.maxBypass = options.maxBypass ?? 16 * totalCpus;
  }

  get freeCpus(): number {
    return this.#free;
  }
  /** Number of tasks waiting. */
  get queued(): number {
    return this.#queued;
  }
  /** Number of tasks running. */
  get running(): number {
    return this.#running.size;
  }

  /** Items waiting, in queue order. */
  queuedItems(): T[] {
    const out: T[] = [];
    for (let n = this.#head; n; n = n.next) out.push(n.item);
    return out;
  }

  /** Items running. */
  runningItems(): T[] {
    return [...this.#running].map((n) => n.item);
  }

  /** Adds a task at the end of the queue and starts what fits. */
  push(item: T): void {
    if (item.cpus > this.totalCpus) {
      throw new Error(
        `a task needing ${count(item.cpus, "cpu")} cannot run on ${count(this.totalCpus, "cpu")}`,
      );
    }
    const node: Node<T> = {
      item,
      state: QUEUED,
      prev: this.#tail,
      next: undefined,
      abort: undefined,
      slots: NO_SLOTS,
      bypassed: 0,
    };
    if (this.#tail) this.#tail.next = node;
    else this.#head = node;
    this.#tail = node;
    this.#queued++;
    let set = this.#sessions.get(item.session);
    if (set === undefined) {
      set = new Set();
      this.#sessions.set(item.session, set);
    }
    set.add(node);
    if (this.#free > 0) this.#schedule();
  }

  /** Aborts running tasks of the session, drops its queued ones and frees their cpus now. */
  closeSession(session: SessionId): void {
    const set = this.#sessions.get(session);
    if (set === undefined) return;
    this.#sessions.delete(session);
    for (const node of set) this.#cancel(node, `session ${session} was closed`);
    this.#schedule();
  }

  /** Aborts the session's running tasks that `match` and drops its queued ones that do. */
  cancelWhere(session: SessionId, match: (item: T) => boolean, reason: string): void {
    const set = this.#sessions.get(session);
    if (set === undefined) return;
    for (const node of [...set]) {
      if (!match(node.item)) continue;
      set.delete(node);
      this.#cancel(node, reason);
    }
    this.#schedule();
  }

  /** Aborts every running task and drops every queued one. */
  abortAll(reason = "governor is stopping"): void {
    this.#sessions.clear();
    for (let n = this.#head; n; n = n.next) n.state = DONE;
    this.#head = this.#tail = undefined;
    this.#queued = 0;
    for (const node of [...this.#running]) this.#cancel(node, reason);
  }

  #cancel(node: Node<T>, reason: string): void {
    if (node.state === QUEUED) {
      this.#unlink(node);
      node.state = DONE;
    } else if (node.state === RUNNING) {
      node.state = DONE;
      this.#running.delete(node);
      this.#releaseSlots(node);
      node.abort!.abort(new Error(reason));
    }
  }

  #unlink(node: Node<T>): void {
    if (node.prev) node.prev.next = node.next;
    else this.#head = node.next;
    if (node.next) node.next.prev = node.prev;
    else this.#tail = node.prev;
    node.prev = node.next = undefined;
    this.#queued--;
  }

  #schedule(): void {
    if (this.#scheduling) {
      this.#rescan = true;
      return;
    }
    this.#scheduling = true;
    try {
      do {
        this.#rescan = false;
        this.#scan();
      } while (this.#rescan);
    } finally {
      this.#scheduling = false;
    }
  }

  #scan(): void {
    let node = this.#head;
    let blocked: Node<T> | undefined;
    let skipped = 0;
    while (node !== undefined && this.#free > 0) {
      const next = node.next;
      if (node.item.cpus <= this.#free) {
        if (blocked !== undefined) {
          if (blocked.bypassed >= this.maxBypass) return;
          blocked.bypassed++;
        }
        this.#start(node);
      } else {
        if (blocked === undefined) {
          if (node.bypassed >= this.maxBypass) return;
          blocked = node;
        }
        if (++skipped > SCAN_WINDOW) return;
      }
      node = next;
    }
  }

  #start(node: Node<T>): void {
    this.#unlink(node);
    node.state = RUNNING;
    node.abort = new AbortController();
    node.slots = this.#takeSlots(node.item.cpus);
    this.#running.add(node);
    let result: Promise<void> | void;
    try {
      result = this.#runner(node.item, node.abort.signal, node.slots);
    } catch (e) {
      log.error(`task runner threw: ${errorMessage(e)}`);
      result = undefined;
    }
    if (result instanceof Promise) {
      result.then(
        () => this.#finish(node),
        (e) => {
          log.error(`task runner failed: ${errorMessage(e)}`);
          this.#finish(node);
        },
      );
    } else {
      this.#finish(node);
    }
  }

  #finish(node: Node<T>): void {
    if (node.state !== RUNNING) return;
    node.state = DONE;
    this.#running.delete(node);
    this.#releaseSlots(node);
    const set = this.#sessions.get(node.item.session);
    if (set !== undefined) {
      set.delete(node);
      if (set.size === 0) this.#sessions.delete(node.item.session);
    }
    this.#schedule();
  }

  /** `count` free slots (count <= free): the first run of consecutive ones, else the lowest. */
  #takeSlots(count: number): number[] {
    const busy = this.#busySlots;
    const slots: number[] = [];
    if (count > 1) {
      for (let from = 0, run = 0; from < busy.length; from++) {
        run = busy[from] ? 0 : run + 1;
        if (run === count) {
          for (let i = from - count + 1; i <= from; i++) slots.push(i);
          break;
        }
      }
    }
    for (let i = 0; slots.length < count && i < busy.length; i++) if (!busy[i]) slots.push(i);
    for (const i of slots) busy[i] = 1;
    this.#free -= count;
    return slots;
  }

  #releaseSlots(node: Node<T>): void {
    for (const i of node.slots) this.#busySlots[i] = 0;
    this.#free += node.item.cpus;
  }
}

const NO_SLOTS: number[] = [];

/**
 * The object store's delete list: objects waiting `deleteListTimeout` before their removal, with
 * one timer for all of them (not one per object).
 *
 * Every task's outputs pass through it, so it costs O(1) per object without a string key: a FIFO
 * of entries (deadlines are `now + timeout`, so insertion order is deadline order) and a map from
 * the object to its entry. An entry taken off the list stays in the FIFO, dead, until its
 * deadline passes the head.
 */
import type { Id } from "../common/ids.ts";
import type { StoredObject } from "./object_store.ts";

interface Entry {
  obj: StoredObject;
  /** ms, performance.now() */
  deadline: number;
  live: boolean;
}

/** Dead entries at the head of the FIFO beyond which it is compacted. */
const COMPACT_AFTER = 4096;

export class DeleteList {
  /** Milliseconds between `delete()` and the real removal; 0 = at once. */
  readonly timeoutMs: number;
  #queue: Entry[] = [];
  #head = 0;
  #live = new Map<StoredObject, Entry>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  /** Told the objects whose deadline passed, oldest first, once they are off the list. */
  readonly #onDue: (due: StoredObject[]) => void;

  constructor(timeoutMs: number, onDue: (due: StoredObject[]) => void) {
    this.timeoutMs = timeoutMs;
    this.#onDue = onDue;
  }

  get size(): number {
    return this.#live.size;
  }

  /** Ids on the list, oldest first. */
  ids(): Id[] {
    return [...this.#live.values()].map((e) => e.obj.id);
  }

  /** Puts an object on the list, unless it is on it already (it keeps its first deadline). */
  add(obj: StoredObject, deadline: number): void {
    if (this.#live.has(obj)) return;
    const entry = { obj, deadline, live: true };
    this.#live.set(obj, entry);
    this.#queue.push(entry);
  }

  /** Takes an object off the list; true if it was on it. */
  remove(obj: StoredObject): boolean {
    const entry = this.#live.get(obj);
    if (entry === undefined) return false;
    entry.live = false;
    this.#live.delete(obj);
    return true;
  }

  /** Starts the timer for the oldest entry, unless it runs already. */
  arm(): void {
    if (this.#timer !== undefined || this.#closed) return;
    this.#dropDeadHead();
    const first = this.#queue[this.#head];
    if (first === undefined) return;
    const delay = Math.max(0, first.deadline - performance.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#sweep();
    }, delay + 1);
  }

  #sweep(): void {
    const now = performance.now();
    const due: StoredObject[] = [];
    const queue = this.#queue;
    while (this.#head < queue.length) {
      const entry = queue[this.#head]!;
      if (entry.deadline > now) break;
      this.#head++;
      if (entry.live) {
        entry.live = false;
        this.#live.delete(entry.obj);
        due.push(entry.obj);
      }
    }
    this.#compact();
    this.#onDue(due);
    this.arm();
  }

  /** Skips dead entries at the head (their objects were taken off the list). */
  #dropDeadHead(): void {
    const queue = this.#queue;
    while (this.#head < queue.length && !queue[this.#head]!.live) this.#head++;
    this.#compact();
  }

  #compact(): void {
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > COMPACT_AFTER && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Stops the timer and forgets every entry. */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#queue = [];
    this.#head = 0;
    this.#live.clear();
  }
}

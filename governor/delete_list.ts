/**
 * The object store's delete list: objects waiting `deleteListTimeout` before their removal, with
 * one timer for all of them (not one per object).
 */
import type { Id } from "../common/ids.ts";
import { idKey } from "../common/ids.ts";
import type { StoredObject } from "./object_store.ts";

export class DeleteList {
  /** Milliseconds between `delete()` and the real removal; 0 = at once. */
  readonly timeoutMs: number;
  /** idKey → deadline (ms, performance.now()); insertion order = deadline order. */
  #entries = new Map<string, { obj: StoredObject; deadline: number }>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  /** Told the objects whose deadline passed, oldest first, once they are off the list. */
  readonly #onDue: (due: StoredObject[]) => void;

  constructor(timeoutMs: number, onDue: (due: StoredObject[]) => void) {
    this.timeoutMs = timeoutMs;
    this.#onDue = onDue;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Ids on the list, oldest first. */
  ids(): Id[] {
    return [...this.#entries.values()].map((e) => e.obj.id);
  }

  /** Puts an object on the list, unless it is on it already (it keeps its first deadline). */
  add(obj: StoredObject, deadline: number): void {
    const key = idKey(obj.id);
    if (!this.#entries.has(key)) this.#entries.set(key, { obj, deadline });
  }

  /** Takes an object off the list; true if it was on it. */
  remove(id: Id): boolean {
    return this.#entries.delete(idKey(id));
  }

  /** Starts the timer for the oldest entry, unless it runs already. */
  arm(): void {
    if (this.#timer !== undefined || this.#entries.size === 0 || this.#closed) return;
    const first = this.#entries.values().next().value!;
    const delay = Math.max(0, first.deadline - performance.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#sweep();
    }, delay + 1);
  }

  #sweep(): void {
    const now = performance.now();
    const due: StoredObject[] = [];
    for (const [key, entry] of this.#entries) {
      if (entry.deadline > now) break;
      this.#entries.delete(key);
      due.push(entry.obj);
    }
    this.#onDue(due);
    this.arm();
  }

  /** Stops the timer and forgets every entry. */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#entries.clear();
  }
}

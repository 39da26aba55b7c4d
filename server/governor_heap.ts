/**
 * Governors ordered by free cpus (most first; equal ones in the order they joined), so that the
 * scheduler finds the governor with the most free cpus that fits a task without scanning them
 * all: the top fits nearly always, and a search for one that does visits the heap best-first and
 * never descends below a floor of free cpus.
 */
import type { GovernorState } from "./state.ts";

interface Entry {
  readonly governor: GovernorState;
  /** Order of joining: the tie-break, so placement is deterministic. */
  readonly seq: number;
  /** `governor.freeCpus` when last placed in the heap. */
  free: number;
  /** Index in `#heap`. */
  index: number;
}

export class GovernorHeap {
  readonly #heap: Entry[] = [];
  readonly #entries = new Map<GovernorState, Entry>();
  #seq = 0;
  /** Scratch for `find` (indexes into `#heap`, a max-heap of its own). */
  readonly #frontier: number[] = [];

  get size(): number {
    return this.#heap.length;
  }

  add(governor: GovernorState): void {
    if (this.#entries.has(governor)) return;
    const entry: Entry = { governor, seq: this.#seq++, free: governor.freeCpus, index: -1 };
    this.#entries.set(governor, entry);
    entry.index = this.#heap.length;
    this.#heap.push(entry);
    this.#up(entry.index);
  }

  remove(governor: GovernorState): void {
    const entry = this.#entries.get(governor);
    if (!entry) return;
    this.#entries.delete(governor);
    const last = this.#heap.pop()!;
    if (last === entry) return;
    last.index = entry.index;
    this.#heap[entry.index] = last;
    this.#up(last.index);
    this.#down(last.index);
  }

  /** The governor's free cpus changed: restores its place. O(log governors). */
  update(governor: GovernorState): void {
    const entry = this.#entries.get(governor);
    if (!entry) return;
    const free = governor.freeCpus;
    if (free === entry.free) return;
    const rose = free > entry.free;
    entry.free = free;
    if (rose) this.#up(entry.index);
    else this.#down(entry.index);
  }

  /**
   * The governor with the most free cpus (ties: the first to join) for which `fits` holds,
   * among those with at least `minFree` free cpus. Visits only governors at least as free as
   * the answer (or than `minFree`), best first.
   */
  find(fits: (g: GovernorState) => boolean, minFree: number): GovernorState | undefined {
    const heap = this.#heap;
    if (heap.length === 0 || heap[0]!.free < minFree) return undefined;
    if (fits(heap[0]!.governor)) return heap[0]!.governor;
    const frontier = this.#frontier;
    frontier.length = 0;
    const push = (i: number) => {
      if (i >= heap.length || heap[i]!.free < minFree) return;
      frontier.push(i);
      for (let c = frontier.length - 1; c > 0;) {
        const p = (c - 1) >> 1;
        if (!this.#before(heap[frontier[c]!]!, heap[frontier[p]!]!)) break;
        [frontier[c], frontier[p]] = [frontier[p]!, frontier[c]!];
        c = p;
      }
    };
    const pop = (): number => {
      const top = frontier[0]!;
      const last = frontier.pop()!;
      if (frontier.length > 0) {
        frontier[0] = last;
        for (let p = 0;;) {
          const l = 2 * p + 1, r = l + 1;
          let m = p;
          if (l < frontier.length && this.#before(heap[frontier[l]!]!, heap[frontier[m]!]!)) m = l;
          if (r < frontier.length && this.#before(heap[frontier[r]!]!, heap[frontier[m]!]!)) m = r;
          if (m === p) break;
          [frontier[m], frontier[p]] = [frontier[p]!, frontier[m]!];
          p = m;
        }
      }
      return top;
    };
    push(1);
    push(2);
    while (frontier.length > 0) {
      const i = pop();
      const governor = heap[i]!.governor;
      if (fits(governor)) return governor;
      push(2 * i + 1);
      push(2 * i + 2);
    }
    return undefined;
  }

  /** Whether `a` comes before `b`: more free cpus, then joined earlier. */
  #before(a: Entry, b: Entry): boolean {
    return a.free > b.free || (a.free === b.free && a.seq < b.seq);
  }

  #up(i: number): void {
    const heap = this.#heap;
    const entry = heap[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = heap[p]!;
      if (!this.#before(entry, parent)) break;
      heap[i] = parent;
      parent.index = i;
      i = p;
    }
    heap[i] = entry;
    entry.index = i;
  }

  #down(i: number): void {
    const heap = this.#heap;
    const entry = heap[i]!;
    const n = heap.length;
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = entry;
      let mi = i;
      if (l < n && this.#before(heap[l]!, m)) m = heap[mi = l]!;
      if (r < n && this.#before(heap[r]!, m)) m = heap[mi = r]!;
      if (mi === i) break;
      heap[i] = m;
      m.index = i;
      i = mi;
    }
    heap[i] = entry;
    entry.index = i;
  }
}

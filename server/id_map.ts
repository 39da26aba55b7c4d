/**
 * A map from a session's ids to its tasks or objects, as compact as the ids allow: clients number
 * ids in order, so ids up to a few times the count live in a plain array (8 bytes a slot, where a
 * `Map` entry costs ~45), and any others in a `Map`. Iteration: array ids in order, then the
 * others in insertion order.
 */
export class IdMap<T> {
  /** `dense[id]` for 0 <= id < dense.length; holes are `undefined`. */
  readonly #dense: (T | undefined)[] = [];
  readonly #sparse = new Map<number, T>();
  #size = 0;

  /** Array indexes are below 2^31, so `| 0` tells an integer id in range. */
  #inDense(id: number): boolean {
    return (id | 0) === id && id >= 0 && id < this.#dense.length;
  }

  get size(): number {
    return this.#size;
  }

  get(id: number): T | undefined {
    return this.#inDense(id) ? this.#dense[id] : this.#sparse.get(id);
  }

  has(id: number): boolean {
    return this.get(id) !== undefined;
  }

  set(id: number, value: T): this {
    const dense = this.#dense;
    if (this.#inDense(id)) {
      if (dense[id] === undefined) this.#size++;
      dense[id] = value;
      return this;
    }
    // Grown in order (never with holes V8 would turn into a dictionary), while the array stays
    // at least a quarter full: tasks and objects share one numbering.
    if (Number.isSafeInteger(id) && id >= dense.length && id < 4 * (this.#size + 1024)) {
      if (this.#sparse.has(id)) this.#sparse.delete(id);
      else this.#size++;
      while (dense.length < id) dense.push(undefined);
      dense.push(value);
      return this;
    }
    if (!this.#sparse.has(id)) this.#size++;
    this.#sparse.set(id, value);
    return this;
  }

  delete(id: number): boolean {
    const dense = this.#dense;
    if (this.#inDense(id)) {
      if (dense[id] === undefined) return false;
      dense[id] = undefined;
      this.#size--;
      return true;
    }
    if (!this.#sparse.delete(id)) return false;
    this.#size--;
    return true;
  }

  clear(): void {
    this.#dense.length = 0;
    this.#sparse.clear();
    this.#size = 0;
  }

  *entries(): IterableIterator<[number, T]> {
    const dense = this.#dense;
    for (let id = 0; id < dense.length; id++) {
      const value = dense[id];
      if (value !== undefined) yield [id, value];
    }
    yield* this.#sparse.entries();
  }

  *keys(): IterableIterator<number> {
    for (const [id] of this.entries()) yield id;
  }

  *values(): IterableIterator<T> {
    for (const value of this.#dense) if (value !== undefined) yield value;
    yield* this.#sparse.values();
  }

  forEach(fn: (value: T, id: number) => void): void {
    for (const [id, value] of this.entries()) fn(value, id);
  }

  [Symbol.iterator](): IterableIterator<[number, T]> {
    return this.entries();
  }
}

/**
 * A read-only list whose items may carry unique labels: the inputs and outputs of a task.
 *
 * @module
 */

/**
 * Items in order, each with an optional unique label. Index by position or label with `get`;
 * iterate it like an array.
 *
 * @example
 * ```ts
 * import { LabeledList } from "@rain/client";
 * const list = new LabeledList(["a", "b"], ["first", undefined]);
 * list.get("first"); // "a"
 * list.get(1); // "b"
 * [...list]; // ["a", "b"]
 * ```
 */
export class LabeledList<T> implements Iterable<T> {
  readonly #items: T[];
  readonly #labels: (string | undefined)[];
  readonly #byLabel = new Map<string, number>();

  /** `items` with `labels` (same length; undefined = no label). Duplicate labels throw. */
  constructor(items: Iterable<T> = [], labels?: Iterable<string | undefined>) {
    this.#items = [...items];
    this.#labels = labels ? [...labels] : this.#items.map(() => undefined);
    if (this.#labels.length !== this.#items.length) {
      throw new RangeError(
        `${this.#items.length} items but ${this.#labels.length} labels`,
      );
    }
    this.#labels.forEach((label, index) => {
      if (label === undefined) return;
      if (this.#byLabel.has(label)) {
        throw new RangeError(`duplicate label '${label}'`);
      }
      this.#byLabel.set(label, index);
    });
  }

  /** Number of items. */
  get length(): number {
    return this.#items.length;
  }

  /** The items, in order (a copy). */
  get items(): T[] {
    return [...this.#items];
  }

  /** The labels, in item order (undefined where an item has none). */
  get labels(): (string | undefined)[] {
    return [...this.#labels];
  }

  /** The item at a position (negative counts from the end) or with a label; throws if none. */
  get(key: number | string): T {
    if (typeof key === "string") {
      const index = this.#byLabel.get(key);
      if (index === undefined) {
        throw new RangeError(`no item labelled '${key}'`);
      }
      return this.#items[index]!; // the label map only holds valid indexes
    }
    const index = key < 0 ? this.#items.length + key : key;
    if (!Number.isInteger(index) || index < 0 || index >= this.#items.length) {
      throw new RangeError(
        `index ${key} out of range (length ${this.#items.length})`,
      );
    }
    return this.#items[index]!; // in range: checked above
  }

  /** True if an item has this label. */
  has(label: string): boolean {
    return this.#byLabel.has(label);
  }

  /** The label of the item at `index`. */
  labelAt(index: number): string | undefined {
    this.get(index);
    return this.#labels[index < 0 ? this.#labels.length + index : index];
  }

  /** `[label, item]` pairs in order. */
  entries(): [string | undefined, T][] {
    return this.#items.map((item, i) => [this.#labels[i], item]);
  }

  /** The items as a plain array (a copy). */
  toArray(): T[] {
    return [...this.#items];
  }

  /** Iterates over the items. */
  [Symbol.iterator](): Iterator<T> {
    return this.#items[Symbol.iterator]();
  }
}

/**
 * Framing of the two binary client bodies (submit and fetch): a 4-byte big-endian length, that
 * many bytes of UTF-8 JSON (the header), then raw data bytes. Data is never base64-encoded.
 */

export const SUBMIT_CONTENT_TYPE = "application/x-rain-submit";
export const OBJECT_CONTENT_TYPE = "application/x-rain-object";

/** Largest JSON header accepted (a submit of a million tasks fits). */
export const MAX_HEADER_BYTES = 1 << 30;

export function encodeHeader(header: unknown): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(4 + json.length);
  new DataView(out.buffer).setUint32(0, json.length);
  out.set(json, 4);
  return out;
}

/** Reads exact byte counts from a stream without buffering more than one chunk ahead. */
export class ExactReader {
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #pending: Uint8Array = new Uint8Array(0);
  #done = false;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.getReader();
  }

  async #more(): Promise<boolean> {
    if (this.#done) return false;
    const { value, done } = await this.#reader.read();
    if (done) {
      this.#done = true;
      return false;
    }
    this.#pending = this.#pending.length ? concat(this.#pending, value) : value;
    return true;
  }

  /** Exactly `n` bytes; throws if the stream ends first. */
  async read(n: number): Promise<Uint8Array> {
    while (this.#pending.length < n) {
      if (!await this.#more()) {
        throw new Error(`body ended early: expected ${n} more bytes, got ${this.#pending.length}`);
      }
    }
    const out = this.#pending.subarray(0, n);
    this.#pending = this.#pending.subarray(n);
    return out;
  }

  /** Up to `max` bytes as they arrive (at least 1), or null at the end of the stream. */
  async chunk(max: number): Promise<Uint8Array | null> {
    if (this.#pending.length === 0 && !await this.#more()) return null;
    const out = this.#pending.subarray(0, max);
    this.#pending = this.#pending.subarray(out.length);
    return out;
  }

  /** Reads a framed JSON header. */
  async header<T>(): Promise<T> {
    const len = new DataView((await this.read(4)).slice().buffer).getUint32(0);
    if (len > MAX_HEADER_BYTES) throw new Error(`header of ${len} bytes is too large`);
    const text = new TextDecoder().decode(await this.read(len));
    return JSON.parse(text) as T;
  }

  /** True when nothing is left. */
  async atEnd(): Promise<boolean> {
    return this.#pending.length === 0 && !await this.#more();
  }

  cancel(): Promise<void> {
    return this.#reader.cancel().catch(() => {});
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

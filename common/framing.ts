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

/**
 * Reads exact byte counts from a stream. Chunks are kept in a list and joined once per read, so
 * reading a large header costs O(size), and nothing beyond the current chunk is buffered.
 */
export class ExactReader {
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
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
    if (value.length) {
      this.#chunks.push(value);
      this.#buffered += value.length;
    }
    return true;
  }

  #take(n: number): Uint8Array {
    // Called with n <= #buffered: the chunks hold at least n bytes.
    const first = this.#chunks[0]!;
    if (first.length >= n) {
      const out = first.subarray(0, n);
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
      this.#buffered -= n;
      return out;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.#chunks[0]!;
      const part = Math.min(chunk.length, n - filled);
      out.set(chunk.subarray(0, part), filled);
      filled += part;
      if (part === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(part);
    }
    this.#buffered -= n;
    return out;
  }

  /** Exactly `n` bytes; throws if the stream ends first. */
  async read(n: number): Promise<Uint8Array> {
    while (this.#buffered < n) {
      if (!await this.#more()) {
        throw new Error(`body ended early: expected ${n} bytes, got ${this.#buffered}`);
      }
    }
    return n === 0 ? new Uint8Array(0) : this.#take(n);
  }

  /** Exactly `n` bytes if they are buffered already (no await), else undefined. */
  readBuffered(n: number): Uint8Array | undefined {
    if (n === 0) return new Uint8Array(0);
    return this.#buffered >= n ? this.#take(n) : undefined;
  }

  /** Up to `max` bytes as they arrive (at least 1), or null at the end of the stream. */
  async chunk(max: number): Promise<Uint8Array | null> {
    while (this.#buffered === 0) {
      if (!await this.#more()) return null;
    }
    return this.#take(Math.min(max, this.#chunks[0]!.length));
  }

  /** Reads a framed JSON header. */
  async header<T>(): Promise<T> {
    return (await this.headerAndBytes<T>()).header;
  }

  /** Reads a framed JSON header; also answers its UTF-8 bytes (owned by the caller). */
  async headerAndBytes<T>(): Promise<{ header: T; bytes: Uint8Array }> {
    const len = new DataView((await this.read(4)).slice().buffer).getUint32(0);
    if (len > MAX_HEADER_BYTES) throw new Error(`header of ${len} bytes is too large`);
    const bytes = await this.read(len);
    const header = JSON.parse(new TextDecoder().decode(bytes)) as T;
    return { header, bytes };
  }

  /** True when nothing is left. */
  async atEnd(): Promise<boolean> {
    while (this.#buffered === 0) {
      if (!await this.#more()) return true;
    }
    return false;
  }

  cancel(): Promise<void> {
    return this.#reader.cancel().catch(() => {});
  }
}

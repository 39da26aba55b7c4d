/**
 * Framing of the binary bodies of submit and fetch: a 4-byte big-endian length, that many bytes
 * of UTF-8 JSON (the header), then raw data bytes. Internal to the client.
 *
 * @module
 */
import { RainError } from "./errors.ts";

/** Content type of a submit body. */
export const SUBMIT_CONTENT_TYPE = "application/x-rain-submit";
/** Content type of a fetched object's body. */
export const OBJECT_CONTENT_TYPE = "application/x-rain-object";
const MAX_HEADER_BYTES = 1 << 30;

/** The framed JSON header: length prefix and JSON bytes. */
export function encodeHeader(header: unknown): Uint8Array<ArrayBuffer> {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(4 + json.length);
  new DataView(out.buffer).setUint32(0, json.length);
  out.set(json, 4);
  return out;
}

/** Reads exact byte counts from a stream, buffering no more than the current chunk. */
export class ByteReader {
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
        throw new RainError(
          `data ended early: expected ${n} more bytes, got ${this.#buffered}`,
          "Connection",
        );
      }
    }
    return n === 0 ? new Uint8Array(0) : this.#take(n);
  }

  /** Exactly `n` bytes, or null if the stream is at its end. */
  async readOrEnd(n: number): Promise<Uint8Array | null> {
    return await this.atEnd() ? null : await this.read(n);
  }

  /** Up to `max` bytes as they arrive (at least 1), or null at the end of the stream. */
  async chunk(max: number): Promise<Uint8Array | null> {
    while (this.#buffered === 0) {
      if (!await this.#more()) return null;
    }
    return this.#take(Math.min(max, this.#chunks[0]!.length));
  }

  /** Skips exactly `n` bytes. */
  async skip(n: number): Promise<void> {
    let left = n;
    while (left > 0) {
      const chunk = await this.chunk(left);
      if (chunk === null) throw new RainError("data ended early", "Connection");
      left -= chunk.length;
    }
  }

  /** Reads a framed JSON header. */
  async header<T>(): Promise<T> {
    const len = new DataView((await this.read(4)).slice().buffer).getUint32(0);
    if (len > MAX_HEADER_BYTES) {
      throw new RainError(`header of ${len} bytes is too large`);
    }
    return JSON.parse(new TextDecoder().decode(await this.read(len))) as T;
  }

  /** True when nothing is left. */
  async atEnd(): Promise<boolean> {
    while (this.#buffered === 0) {
      if (!await this.#more()) return true;
    }
    return false;
  }

  /**
   * The next `limit` bytes (or everything left) as a stream. With `last`, the stream must end
   * right after them (more data is an error).
   */
  rest(limit?: number, last = false): ReadableStream<Uint8Array<ArrayBuffer>> {
    let left = limit ?? Infinity;
    return new ReadableStream<Uint8Array<ArrayBuffer>>({
      pull: async (controller) => {
        if (left <= 0) {
          if (!last || await this.atEnd()) {
            controller.close();
          } else {
            await this.cancel();
            controller.error(
              new RainError("more data than announced", "Connection"),
            );
          }
          return;
        }
        const chunk = await this.chunk(Math.min(left, 1 << 20));
        if (chunk === null) {
          if (left !== Infinity) {
            controller.error(
              new RainError(`data ended ${left} bytes early`, "Connection"),
            );
          } else {
            controller.close();
          }
          return;
        }
        left -= chunk.length;
        controller.enqueue(chunk as Uint8Array<ArrayBuffer>);
      },
      cancel: () => this.cancel(),
    }, { highWaterMark: 0 });
  }

  /** Everything left, as one array. */
  async readAll(): Promise<Uint8Array<ArrayBuffer>> {
    const parts: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const chunk = await this.chunk(1 << 24);
      if (chunk === null) break;
      parts.push(chunk);
      size += chunk.length;
    }
    return concatBytes(parts, size);
  }

  /** Stops reading; the stream is cancelled. */
  cancel(): Promise<void> {
    return this.#reader.cancel().catch(() => {});
  }
}

/** `parts` joined into one array. */
export function concatBytes(
  parts: Uint8Array[],
  size?: number,
): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size ?? parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

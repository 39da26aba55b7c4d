/**
 * A plain HTTP/1.1 GET on its own TCP connection, for large blobs from a peer's data listener
 * (governor/data_server.ts serves those on the accepted connection with `content-length` and
 * `connection: close`). The body is read with reads of up to `READ_BYTES` straight from the
 * socket: `fetch()` hands a body over in chunks of at most 64 KiB, and each chunk costs a
 * promise and a file write on the receiving side.
 *
 * Only a `200` with `content-length` is streamed; any other answer rejects with a message (the
 * caller then tries `fetch()`), so the peer's ordinary HTTP routes answer everything else.
 */

/** Bytes per read from the socket at most, and what a slab of read buffers holds. */
const READ_BYTES = 1 << 20;
const SLAB_BYTES = 8 << 20;
const MIN_READ_BYTES = 256 * 1024;
const HEAD_LIMIT = 64 * 1024;

export class NotDirect extends Error {}

export interface RawBody {
  status: number;
  headers: Headers;
  length: number;
  /** The body in large chunks; closes the connection at its end (or when cancelled). */
  body: ReadableStream<Uint8Array>;
  /**
   * Instead of `body` (never both): reads the next bytes of the body into `into` straight from
   * the socket (null at its end; rejects when it ends short). For relays that copy each byte
   * once (server/direct_fetch.ts): no stream, no chunk allocated per read.
   */
  readInto(into: Uint8Array): Promise<number | null>;
  /** Closes the connection (at once; after `readInto` returned null it is closed already). */
  close(): void;
}

/** GETs `http://host:port/path`; rejects `NotDirect` when the answer is not a plain body. */
export async function rawGet(
  host: string,
  port: number,
  path: string,
  headers: Record<string, string>,
  signal?: AbortSignal,
): Promise<RawBody> {
  const conn = await Deno.connect({ hostname: host.replace(/^\[|\]$/g, ""), port });
  const onAbort = () => {
    try {
      conn.close();
    } catch { /* closed */ }
  };
  signal?.addEventListener("abort", onAbort, { once: true });
  const done = () => {
    signal?.removeEventListener("abort", onAbort);
    onAbort();
  };
  try {
    const lines = [`GET ${path} HTTP/1.1`, `host: ${host}:${port}`, "connection: close"];
    for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
    const request = new TextEncoder().encode(lines.join("\r\n") + "\r\n\r\n");
    let sent = 0;
    while (sent < request.length) sent += await conn.write(request.subarray(sent));
    // The head, and whatever of the body came with it.
    const buffer = new Uint8Array(READ_BYTES);
    let filled = 0;
    let end = -1;
    while (end < 0) {
      if (filled === buffer.length) throw new NotDirect("answer head too large");
      const n = await conn.read(buffer.subarray(filled));
      if (n === null) throw new NotDirect("closed before the answer head");
      filled += n;
      end = headEnd(buffer, filled);
      if (end < 0 && filled > HEAD_LIMIT) throw new NotDirect("answer head too large");
    }
    const text = new TextDecoder().decode(buffer.subarray(0, end));
    const [statusLine, ...headerLines] = text.split("\r\n");
    const status = Number(statusLine?.split(" ")[1]);
    const answer = new Headers();
    for (const line of headerLines) {
      const i = line.indexOf(":");
      if (i > 0) answer.append(line.slice(0, i).trim(), line.slice(i + 1).trim());
    }
    const length = Number(answer.get("content-length"));
    if (status !== 200 || !Number.isSafeInteger(length) || answer.has("transfer-encoding")) {
      throw new NotDirect(`answer ${status} without a plain body`);
    }
    let first: Uint8Array | undefined = buffer.slice(end + 4, filled);
    let left = length - first.length;
    let slab = new Uint8Array(0);
    let used = 0;
    const body = new ReadableStream<Uint8Array>({
      type: "bytes",
      pull: async (controller) => {
        if (first !== undefined) {
          const chunk = first;
          first = undefined;
          if (chunk.length > 0) return controller.enqueue(chunk);
        }
        if (left <= 0) {
          done();
          return controller.close();
        }
        // Reads go into a slab, each chunk a view of it: a fresh buffer per read would cost a
        // zeroed MiB for a read that often returns 64 KiB.
        if (slab.length - used < MIN_READ_BYTES) {
          slab = new Uint8Array(Math.min(SLAB_BYTES, Math.max(left, MIN_READ_BYTES)));
          used = 0;
        }
        const into = slab.subarray(used, used + Math.min(READ_BYTES, left, slab.length - used));
        const n = await conn.read(into);
        if (n === null) {
          done();
          return controller.error(new Error(`the body ended ${left} bytes short`));
        }
        left -= n;
        used += n;
        controller.enqueue(into.subarray(0, n));
      },
      cancel: done,
    });
    const readInto = async (into: Uint8Array): Promise<number | null> => {
      if (first !== undefined && first.length > 0) {
        const n = Math.min(first.length, into.length);
        into.set(first.subarray(0, n));
        first = first.subarray(n);
        return n;
      }
      if (left <= 0) {
        done();
        return null;
      }
      const n = await conn.read(into.subarray(0, Math.min(into.length, left)));
      if (n === null) {
        done();
        throw new Error(`the body ended ${left} bytes short`);
      }
      left -= n;
      return n;
    };
    return { status, headers: answer, length, body, readInto, close: done };
  } catch (e) {
    done();
    throw e;
  }
}

/** Index of the `\r\n\r\n` ending the head within the first `filled` bytes, or -1. */
function headEnd(b: Uint8Array, filled: number): number {
  for (let i = 0; i + 3 < filled; i++) {
    if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) return i;
  }
  return -1;
}

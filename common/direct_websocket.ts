/**
 * A server-side WebSocket on a connection the guard hands over (`GuardOptions.direct`), so that
 * its frames do not cross the guard's relay and a second, private socket (the governor links:
 * docs/architecture.md "The governor link"). The npm `ws` package speaks the protocol, over a
 * node `Duplex` of the connection.
 */
import { Buffer } from "node:buffer";
import type { IncomingMessage } from "node:http";
import { Duplex } from "node:stream";
// @deno-types="@types/ws"
import { WebSocketServer } from "ws";
import type { DirectConn, DirectRequest } from "./conn_guard.ts";
import { joinBytes } from "./bytes.ts";

/** What the server uses of a WebSocket: Deno's (`Deno.upgradeWebSocket`) and `ws`'s both fit. */
export interface ServerSocket {
  binaryType: string;
  readonly readyState: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  onmessage: ((event: MessageEvent) => void) | null;
  onclose: ((event: CloseEvent) => void) | null;
  onerror: ((event: Event) => void) | null;
}

/** True for a WebSocket upgrade request (what `acceptDirectWebSocket` takes). */
export function isWebSocketUpgrade(request: DirectRequest): boolean {
  return request.method === "GET" &&
    (request.headers.get("upgrade") ?? "").toLowerCase() === "websocket";
}

const READ_BYTES = 64 * 1024;
/** Corked chunks up to this many bytes in all are joined into one write. */
const JOIN_BYTES = 1024 * 1024;

/** The connection as the node stream `ws` reads and writes. */
class ConnStream extends Duplex {
  readonly #conn: DirectConn;
  readonly #buffer = new Uint8Array(READ_BYTES);
  #reading = false;

  constructor(conn: DirectConn) {
    super({ allowHalfOpen: false });
    this.#conn = conn;
  }

  override _read(): void {
    if (this.#reading) return;
    this.#reading = true;
    void this.#readLoop();
  }

  async #readLoop(): Promise<void> {
    for (;;) {
      const n = await this.#conn.read(this.#buffer);
      if (n === null) {
        this.push(null);
        return;
      }
      // Copied: the buffer is read into again at once.
      if (!this.push(Buffer.from(this.#buffer.subarray(0, n)))) {
        this.#reading = false;
        return;
      }
    }
  }

  override _write(chunk: Uint8Array, _encoding: string, done: (e?: Error | null) => void): void {
    this.#conn.write(chunk).then(() => done(), (e) => done(e));
  }

  /**
   * `ws` writes a frame as its header and its payload, corked: one write of both (the payload
   * copied behind the header) rather than a system call each, unless they are big.
   */
  override _writev(
    chunks: { chunk: Uint8Array }[],
    done: (e?: Error | null) => void,
  ): void {
    let total = 0;
    for (const { chunk } of chunks) total += chunk.length;
    if (total > JOIN_BYTES) {
      (async () => {
        for (const { chunk } of chunks) await this.#conn.write(chunk);
      })().then(() => done(), (e) => done(e));
      return;
    }
    const joined = joinBytes(chunks.map(({ chunk }) => chunk), total);
    this.#conn.write(joined).then(() => done(), (e) => done(e));
  }

  override _final(done: (e?: Error | null) => void): void {
    this.#conn.closeWrite().then(() => done(), () => done());
  }

  override _destroy(error: Error | null, done: (e?: Error | null) => void): void {
    this.#conn.close();
    done(error);
  }

  // `ws` sets both on a net.Socket; the guard's sockets have no Nagle and no timeout already.
  setNoDelay(): this {
    return this;
  }

  setTimeout(): this {
    return this;
  }
}

/**
 * Completes the upgrade on the connection and hands the open socket to `onOpen` (binary frames
 * as ArrayBuffers); resolves once the connection is closed. A malformed upgrade is answered
 * with an HTTP error by `ws` and closed, without `onOpen`.
 */
export function acceptDirectWebSocket(
  request: DirectRequest,
  conn: DirectConn,
  options: { maxPayload: number },
  onOpen: (socket: ServerSocket) => void,
): Promise<void> {
  const server = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: options.maxPayload,
  });
  return new Promise((resolve) => {
    const stream = new ConnStream(conn);
    stream.once("close", () => resolve());
    const headers: Record<string, string> = {};
    request.headers.forEach((value, key) => headers[key] = value);
    const head = { method: request.method, url: request.target, headers };
    server.handleUpgrade(head as IncomingMessage, stream, Buffer.alloc(0), (socket) => {
      socket.binaryType = "arraybuffer";
      // A bad frame (over maxPayload, invalid) closes the link; unheard, it would be thrown.
      socket.on("error", () => {});
      onOpen(socket as unknown as ServerSocket);
    });
  });
}

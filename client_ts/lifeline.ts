/**
 * The lifeline (`GET /api/v1/connect`) held open on a raw TCP connection that does not keep the
 * process alive (docs/protocol.md). Internal to the client.
 *
 * @module
 */
import { RainError } from "./errors.ts";
import type { ConnectResponse } from "./types.ts";
import {
  API_PREFIX,
  type Endpoint,
  errorFromBody,
  formatAddress,
  type Transport,
} from "./transport.ts";

const CRLF2 = new Uint8Array([13, 10, 13, 10]);

function indexOf(haystack: Uint8Array, needle: Uint8Array, from = 0): number {
  outer: for (let i = from; i <= haystack.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (haystack[i + j] !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}

function append(a: Uint8Array, b: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Decodes an HTTP/1.1 body given in pieces (chunked or with a content length). */
class BodyDecoder {
  #raw: Uint8Array = new Uint8Array(0);
  body: Uint8Array = new Uint8Array(0);
  complete = false;
  readonly #chunked: boolean;
  readonly #length: number | undefined;

  constructor(chunked: boolean, length: number | undefined) {
    this.#chunked = chunked;
    this.#length = length;
  }

  push(data: Uint8Array): void {
    if (!this.#chunked) {
      this.body = append(this.body, data);
      if (this.#length !== undefined && this.body.length >= this.#length) {
        this.complete = true;
      }
      return;
    }
    this.#raw = append(this.#raw, data);
    for (;;) {
      const lineEnd = indexOf(this.#raw, new Uint8Array([13, 10]));
      if (lineEnd < 0) return;
      const size = parseInt(
        new TextDecoder().decode(this.#raw.subarray(0, lineEnd)),
        16,
      );
      if (!(size >= 0)) {
        throw new RainError("malformed chunked body", "Connection");
      }
      if (size === 0) {
        this.complete = true;
        return;
      }
      if (this.#raw.length < lineEnd + 2 + size + 2) return;
      this.body = append(
        this.body,
        this.#raw.subarray(lineEnd + 2, lineEnd + 2 + size),
      );
      this.#raw = this.#raw.slice(lineEnd + 2 + size + 2);
    }
  }
}

/**
 * `GET /api/v1/connect`, held open for the client's whole life: the server closes every session
 * of the client when it breaks. The connection is `unref`ed, so a program that forgets to close
 * its client still exits (and the server then sees the client leave), like the Python client's
 * daemon thread.
 */
export class Lifeline {
  /** The server's greeting (the latest, after connecting again). */
  hello: ConnectResponse;
  #conn: Deno.Conn;
  #alive = true;
  #closed = false;
  #reading: Promise<void>;
  /** Where it reconnects after a crash of the server, and who is told of an orderly stop. */
  #transport: Transport | undefined;

  private constructor(conn: Deno.Conn, hello: ConnectResponse) {
    this.#conn = conn;
    this.hello = hello;
    conn.unref();
    this.#reading = this.#readHeartbeats();
  }

  /**
   * Connects again under this client's id when the stream breaks without the server ending it
   * (a crash: a restarted server restores the client's sessions), for the transport's
   * `serverLostTimeout`; an ended stream (the server stopped) tells the transport not to retry.
   */
  watch(transport: Transport): void {
    this.#transport = transport;
  }

  /** True while the connection to the server holds. */
  get alive(): boolean {
    return this.#alive;
  }

  async #readHeartbeats(): Promise<void> {
    const buffer = new Uint8Array(4096);
    let tail = "";
    try {
      for (;;) {
        const n = await this.#conn.read(buffer);
        if (n === null) break;
        // heartbeats; the end of a chunked body ("0\r\n\r\n") means the server ended it
        tail = (tail + new TextDecoder().decode(buffer.subarray(0, n))).slice(-5);
      }
    } catch {
      // closed by close(), or the server went away
    }
    this.#alive = false;
    if (this.#closed || !this.#transport) return;
    if (tail === "0\r\n\r\n") {
      this.#transport.serverStopped = true;
      return;
    }
    await this.#reconnect(this.#transport);
  }

  async #reconnect(transport: Transport): Promise<void> {
    try {
      const { conn, hello } = await transport.retrying(() =>
        connectLifeline(transport.endpoint, transport.headers, this.hello.client_id)
      );
      if (this.#closed) return void conn.close();
      conn.unref();
      this.#conn = conn;
      this.hello = hello;
      this.#alive = true;
      this.#reading = this.#readHeartbeats();
    } catch {
      // not back in time: requests fail from now on
    }
  }

  /** Connects and reads the greeting. */
  static async open(
    endpoint: Endpoint,
    headers: Record<string, string>,
  ): Promise<Lifeline> {
    const { conn, hello } = await connectLifeline(endpoint, headers);
    return new Lifeline(conn, hello);
  }

  /** Breaks the connection (the server then closes this client's sessions). */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#alive) {
      this.#alive = false;
      try {
        this.#conn.close();
      } catch {
        // already closed
      }
    }
    await this.#reading;
  }
}

async function readGreeting(
  conn: Deno.Conn,
  endpoint: Endpoint,
): Promise<ConnectResponse> {
  const buffer = new Uint8Array(16384);
  let head: Uint8Array = new Uint8Array(0);
  let end = -1;
  while (end < 0) {
    const n = await conn.read(buffer);
    if (n === null) {
      throw new RainError("the server closed the connection", "Connection");
    }
    head = append(head, buffer.subarray(0, n));
    end = indexOf(head, CRLF2);
    if (end < 0 && head.length > 65536) {
      throw new RainError("HTTP header too large", "Connection");
    }
  }
  const headText = new TextDecoder().decode(head.subarray(0, end));
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(headText)?.[1]);
  if (!status) {
    throw new RainError(
      `${formatAddress(endpoint)} does not speak HTTP: ${headText.slice(0, 100)}`,
      "Connection",
    );
  }
  const chunked = /^transfer-encoding:\s*chunked\s*$/im.test(headText);
  const lengthMatch = /^content-length:\s*(\d+)\s*$/im.exec(headText);
  const body = new BodyDecoder(
    chunked,
    lengthMatch ? Number(lengthMatch[1]) : undefined,
  );
  body.push(head.subarray(end + 4));
  const done = () => status >= 400 ? body.complete : body.body.includes(10);
  while (!done()) {
    const n = await conn.read(buffer);
    if (n === null) break;
    body.push(buffer.subarray(0, n));
  }
  const text = new TextDecoder().decode(body.body);
  if (status >= 400) throw errorFromBody(status, text);
  const newline = text.indexOf("\n");
  if (newline < 0) {
    throw new RainError("the server closed the connection", "Connection");
  }
  const line = text.slice(0, newline);
  try {
    const hello = JSON.parse(line) as ConnectResponse;
    if (typeof hello.client_id !== "number") throw new Error("no client_id");
    return hello;
  } catch {
    throw new RainError(
      `unexpected answer to connect: ${line.slice(0, 200)}`,
      "Connection",
    );
  }
}

/** `GET /connect` (`?client=ID`: connecting again) on a new connection, greeting read. */
async function connectLifeline(
  endpoint: Endpoint,
  headers: Record<string, string>,
  resume?: number,
): Promise<{ conn: Deno.Conn; hello: ConnectResponse }> {
  let conn: Deno.Conn;
  try {
    conn = await Deno.connect({
      hostname: endpoint.host,
      port: endpoint.port,
    });
  } catch (e) {
    throw new RainError(
      `cannot connect to Rain server at ${formatAddress(endpoint)}: ${(e as Error).message}`,
      "Connection",
      { cause: e },
    );
  }
  try {
    const lines = [
      `GET ${API_PREFIX}/connect${resume === undefined ? "" : `?client=${resume}`} HTTP/1.1`,
      `host: ${formatAddress(endpoint)}`,
      "accept: application/x-ndjson",
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    ];
    const request = new TextEncoder().encode(lines.join("\r\n") + "\r\n\r\n");
    for (let written = 0; written < request.length;) {
      written += await conn.write(request.subarray(written));
    }
    const hello = await readGreeting(conn, endpoint);
    return { conn, hello };
  } catch (e) {
    conn.close();
    if (e instanceof RainError) throw e;
    throw new RainError(
      `connection to Rain server at ${formatAddress(endpoint)} failed: ${(e as Error).message}`,
      "Connection",
      { cause: e },
    );
  }
}

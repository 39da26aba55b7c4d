/**
 * A fake Rain server for governor tests: accepts governor WebSockets on 127.0.0.1, decodes the
 * msgpack batches, records every message and lets the test send messages back.
 */
import { decode, encode } from "@msgpack/msgpack";
import type { ToGovernorWire, ToServer } from "../common/messages.ts";
import { GOVERNOR_WS_PATH } from "../common/messages.ts";

export class FakeGovernorConnection {
  readonly received: ToServer[] = [];
  frames = 0;
  closed = false;
  #waiters: (() => void)[] = [];

  constructor(readonly ws: WebSocket) {
    ws.binaryType = "arraybuffer";
    ws.onmessage = (ev) => {
      this.frames++;
      const batch = decode(new Uint8Array(ev.data as ArrayBuffer)) as ToServer[];
      this.received.push(...batch);
      this.#wake();
    };
    ws.onclose = () => {
      this.closed = true;
      this.#wake();
    };
  }

  #wake() {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  send(...messages: ToGovernorWire[]): void {
    this.ws.send(encode(messages));
  }

  /** The first received message matching `pred` (waits for it). */
  async waitFor<T extends ToServer = ToServer>(
    pred: (m: ToServer) => boolean,
    what = "message",
    timeoutMs = 30_000,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.find(pred);
      if (found) return found as T;
      if (this.closed) throw new Error(`connection closed while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) {
        const last = JSON.stringify(this.received.slice(-5)).slice(0, 2000);
        throw new Error(`timeout waiting for ${what}; last messages: ${last}`);
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
  }

  /** Waits until `pred` is true of the received messages. */
  async waitUntil(pred: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
    await this.waitFor(() => pred(), what, timeoutMs);
  }

  close(): void {
    this.ws.close();
  }
}

export class FakeServer {
  readonly port: number;
  readonly connections: FakeGovernorConnection[] = [];
  #server: Deno.HttpServer;
  #waiters: (() => void)[] = [];

  constructor() {
    this.#server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
      if (new URL(req.url).pathname !== GOVERNOR_WS_PATH) {
        return new Response("not found", { status: 404 });
      }
      const { socket, response } = Deno.upgradeWebSocket(req);
      socket.onopen = () => {
        this.connections.push(new FakeGovernorConnection(socket));
        const w = this.#waiters;
        this.#waiters = [];
        for (const f of w) f();
      };
      return response;
    });
    this.port = (this.#server.addr as Deno.NetAddr).port;
  }

  /** The i-th governor connection (waits for it). */
  async connection(i = 0): Promise<FakeGovernorConnection> {
    while (this.connections.length <= i) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    return this.connections[i]!;
  }

  /** Accepts governor i: waits for `register`, answers `registered` with its data address. */
  async register(i = 0): Promise<{ conn: FakeGovernorConnection; governorId: string }> {
    const conn = await this.connection(i);
    const reg = await conn.waitFor((m) => m.type === "register", "register");
    if (reg.type !== "register") throw new Error("unreachable");
    const governorId = `127.0.0.1:${reg.listen_port}`;
    conn.send({ type: "registered", governor_id: governorId });
    return { conn, governorId };
  }

  async close(): Promise<void> {
    for (const c of this.connections) if (!c.closed) c.close();
    await this.#server.shutdown();
  }
}

/**
 * The governor's Unix socket for executors (docs/executors.md). Every executor process connects
 * to it and sends `register` with the id it was started with; the hub hands the connection to
 * whoever `expect`s that id. Connections with an unknown id or a bad first frame are closed.
 */
import { join } from "node:path";
import {
  decodeFrameBody,
  EXECUTOR_PROTOCOL_VERSION,
  type ExecutorRegister,
  FrameSplitter,
} from "../../common/executor_protocol.ts";
import { Logger } from "../../common/log.ts";
import { errorMessage } from "../fs_util.ts";

const log = new Logger("governor.executors");

/** Unix socket paths longer than this do not fit `sockaddr_un`. */
const MAX_SOCKET_PATH = 100;

export interface Registration {
  conn: Deno.UnixConn;
  /** Holds any bytes received after the `register` frame. */
  splitter: FrameSplitter;
  register: ExecutorRegister;
}

export class ExecutorHub {
  readonly socketPath: string;
  #listener: Deno.Listener<Deno.UnixConn>;
  #expected = new Map<string, { resolve: (r: Registration) => void; reject: (e: Error) => void }>();
  #closed = false;

  private constructor(socketPath: string, listener: Deno.Listener<Deno.UnixConn>) {
    this.socketPath = socketPath;
    this.#listener = listener;
    this.#acceptLoop();
  }

  /** Listens on `<dir>/executors.sock` (or a short path in the temp dir if that is too long). */
  static open(dir: string): ExecutorHub {
    let path = join(dir, "executors.sock");
    if (new TextEncoder().encode(path).length > MAX_SOCKET_PATH) {
      const tmp = Deno.env.get("TMPDIR") || "/tmp";
      const random = crypto.getRandomValues(new Uint32Array(1))[0]!.toString(36);
      path = join(tmp, `rain-${Deno.pid}-${random}.sock`);
    }
    try {
      Deno.removeSync(path);
    } catch {
      // not there: fine
    }
    const listener = Deno.listen({ transport: "unix", path });
    Deno.chmodSync(path, 0o600); // executors run as the governor's user; nobody else connects
    return new ExecutorHub(path, listener);
  }

  /**
   * Resolves when an executor registers with `id` (rejects if it registers wrongly, e.g. with
   * another protocol version); `cancel(id)` stops waiting.
   */
  expect(id: string): Promise<Registration> {
    return new Promise((resolve, reject) => this.#expected.set(id, { resolve, reject }));
  }

  cancel(id: string): void {
    this.#expected.delete(id);
  }

  async #acceptLoop(): Promise<void> {
    for (;;) {
      let conn: Deno.UnixConn;
      try {
        conn = await this.#listener.accept();
      } catch (e) {
        if (!this.#closed) log.error(`executor socket failed: ${errorMessage(e)}`);
        return;
      }
      this.#handshake(conn).catch((e) => {
        log.warn(`rejected an executor connection: ${errorMessage(e)}`);
        try {
          conn.close();
        } catch {
          // already closed
        }
      });
    }
  }

  async #handshake(conn: Deno.UnixConn): Promise<void> {
    const splitter = new FrameSplitter();
    let body: Uint8Array | undefined;
    while ((body = splitter.next()) === undefined) {
      const n = await conn.read(splitter.space());
      if (n === null) throw new Error("closed before registering");
      splitter.commit(n);
    }
    const { message } = decodeFrameBody<ExecutorRegister>(body);
    if (message.type !== "register" || typeof message.executor_id !== "string") {
      throw new Error(`expected 'register', got '${message.type}'`);
    }
    const waiter = this.#expected.get(message.executor_id);
    if (waiter === undefined) throw new Error(`unknown executor id '${message.executor_id}'`);
    this.#expected.delete(message.executor_id);
    if (message.protocol_version !== EXECUTOR_PROTOCOL_VERSION) {
      const error = new Error(
        `the executor speaks executor protocol version ${message.protocol_version}, ` +
          `the governor version ${EXECUTOR_PROTOCOL_VERSION}`,
      );
      waiter.reject(error);
      throw error;
    }
    waiter.resolve({ conn, splitter, register: message });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#listener.close();
    } catch {
      // already closed
    }
    try {
      Deno.removeSync(this.socketPath);
    } catch {
      // gone
    }
  }
}

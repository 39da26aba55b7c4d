/**
 * `Client`: one connection to a Rain server.
 *
 * @module
 */
import { Api } from "./api.ts";
import { RainError } from "./errors.ts";
import { sessionState } from "./internal.ts";
import { type EchoSink, OutputEcho } from "./logs.ts";
import { env, findSecret } from "./secret.ts";
import { Session, type SessionItem } from "./session.ts";
import { Lifeline } from "./lifeline.ts";
import { formatAddress, Transport } from "./transport.ts";
import type { ServerInfoResponse } from "./types.ts";

/** Wire protocol version this client speaks. */
export const PROTOCOL_VERSION = 2;
/** Default port of a Rain server. */
export const DEFAULT_PORT = 7210;
const SUBMIT_ENCODING_ENV = "RAIN_SUBMIT_ENCODING";

/**
 * How to reach and authenticate to the server.
 *
 * @example
 * ```ts
 * import { Client, type ClientOptions } from "@rain/client";
 * const options: ClientOptions = { secret: Deno.env.get("MY_RAIN_SECRET") };
 * await using client = await Client.connect("cluster.example.org:7210", options);
 * ```
 */
export interface ClientOptions {
  /**
   * Cluster secret, sent as `Authorization: Bearer <secret>`. Default: the environment variable
   * `RAIN_SECRET`, else the secret a server of this user on this machine published for that
   * address (`$RAIN_SECRETS_DIR` or `~/.rain/secrets/<host>_<port>`), else none (a server
   * started with `--insecure`).
   */
  secret?: string;
  /**
   * Seconds to keep trying to reach a server that went away (default 60): a restarted server
   * restores the client's sessions, and a wait, fetch or submit in progress simply continues.
   */
  serverLostTimeout?: number;
  /**
   * How submits are encoded: `"compact"` (MessagePack columns, ~75 bytes per simple task) or
   * `"json"` (the JSON header of Rain 0.4's protocol, ~4 times bigger). Default: the environment
   * variable `RAIN_SUBMIT_ENCODING` if readable (as for the Python client), else `"compact"`.
   */
  submitEncoding?: "compact" | "json";
}

/**
 * Options of a new session.
 *
 * @example
 * ```ts
 * import { Client, type SessionOptions } from "@rain/client";
 * await using client = await Client.connect();
 * const options: SessionOptions = { name: "nightly build" };
 * await using session = await client.newSession(options);
 * ```
 */
export interface SessionOptions {
  /** Name of the session (default `"Unnamed Session"`). */
  name?: string;
  /**
   * Tasks no connected governor can ever run wait for such a governor instead of failing the
   * submit (docs/resources.md).
   */
  wait_for_resources?: boolean;
  /**
   * `"fail"` (default, Rain 0.4: the first failed task fails the session) or `"continue"` (a
   * failed task fails only its dependents; `waitAll` then throws one summary; see
   * `Session.failedTasks`, `rerunFailed`, docs/policies.md).
   */
  on_failure?: "fail" | "continue";
  /**
   * Print what each task prints, as it is recorded, each line prefixed by the task
   * (`(task 3/11 name) line`): `true` on the console (stdout lines with `console.log`, stderr
   * lines with `console.error`), or a function of your own. Off by default. Not sent to the server.
   */
  echo?: boolean | EchoSink;
  /**
   * Every task records where it was created, for the message of a `TaskError` (a stack costs
   * ~3 µs a task, more than the rest of making it). Off by default: then only the first 1,000
   * tasks of the session record it. Not sent to the server.
   */
  recordSites?: boolean;
  /** Further free attributes of the session. */
  [key: string]: unknown;
}

/** `host[:port]`, `[v6]:port` or `{host, port}` → host and port. */
export function parseAddress(
  address: string | { host: string; port?: number } = "localhost",
): { host: string; port: number } {
  if (typeof address !== "string") {
    return { host: address.host, port: address.port ?? DEFAULT_PORT };
  }
  let host = address;
  let port = DEFAULT_PORT;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(address);
  if (v6) {
    host = v6[1]!; // the group is not optional
    if (v6[2] !== undefined) port = Number(v6[2]);
  } else {
    const colon = address.lastIndexOf(":");
    if (colon >= 0 && address.indexOf(":") === colon) {
      host = address.slice(0, colon);
      const text = address.slice(colon + 1);
      port = Number(text);
      if (!/^\d+$/.test(text)) port = NaN;
    }
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RainError(
      `invalid server address '${address}' (expected HOST[:PORT])`,
    );
  }
  return { host: host || "localhost", port };
}

/**
 * A connection to a Rain server. The server keeps the client's sessions while the client lives;
 * `close()` (or `await using`, or the end of the process) closes them all.
 *
 * @example
 * ```ts
 * import { Client } from "@rain/client";
 * await using client = await Client.connect("localhost:7210");
 * const info = await client.serverInfo();
 * console.log(info.governors.map((g) => g.governor_id));
 * await using session = await client.newSession({ name: "my pipeline" });
 * ```
 */
export class Client implements AsyncDisposable {
  /** Host of the server. */
  readonly host: string;
  /** Port of the server. */
  readonly port: number;
  readonly #api: Api;
  readonly #sessions: Session[] = [];

  private constructor(host: string, port: number, api: Api) {
    this.host = host;
    this.port = port;
    this.#api = api;
  }

  /**
   * Connects to the server at `address` (`"host[:port]"`, default `localhost:7210`).
   * Throws a `RainError` of kind `"Connection"` if no server answers there, `"Unauthorized"` if
   * the server wants another secret.
   */
  static async connect(
    address?: string | { host: string; port?: number },
    options: ClientOptions = {},
  ): Promise<Client> {
    const { host, port } = parseAddress(address);
    const secret = options.secret ?? await findSecret(host, port);
    const transport = new Transport({
      host,
      port,
      secret,
      ...(options.serverLostTimeout === undefined
        ? {}
        : { serverLostTimeout: options.serverLostTimeout }),
    });
    const lifeline = await Lifeline.open(transport.endpoint, transport.headers);
    lifeline.watch(transport);
    if (lifeline.hello.protocol_version !== PROTOCOL_VERSION) {
      await lifeline.close();
      throw new RainError(
        `server speaks protocol ${lifeline.hello.protocol_version}, this client ` +
          `${PROTOCOL_VERSION}`,
        "Connection",
      );
    }
    const encoding = options.submitEncoding ?? env(SUBMIT_ENCODING_ENV) ?? "compact";
    if (encoding !== "compact" && encoding !== "json") {
      await lifeline.close();
      throw new RainError(
        `submitEncoding must be "compact" or "json", not ${JSON.stringify(encoding)}`,
      );
    }
    return new Client(host, port, new Api(transport, lifeline, encoding));
  }

  /** Id of this client at the server. */
  get id(): number {
    return this.#api.clientId;
  }

  /** Version of the server's `rain` program. */
  get serverVersion(): string {
    return this.#api.lifeline.hello.server_version;
  }

  /** False once closed or when the connection to the server broke. */
  get connected(): boolean {
    return this.#api.lifeline.alive;
  }

  /** Opens a session on the server. */
  async newSession(options: SessionOptions = {}): Promise<Session> {
    const name = options.name ?? "Unnamed Session";
    const onFailure = options.on_failure ?? "fail";
    if (onFailure !== "fail" && onFailure !== "continue") {
      throw new RainError(
        `on_failure must be "fail" or "continue", not ${JSON.stringify(onFailure)}`,
      );
    }
    const { echo, recordSites, ...spec } = options;
    const id = await this.#api.newSession({ ...spec, name });
    const session = new Session(this, id, name);
    const state = sessionState(session);
    state.api = this.#api;
    if (recordSites) state.sitesLeft = Infinity;
    if (echo) {
      const sink = typeof echo === "function" ? echo : undefined;
      state.echo = new OutputEcho(this.#api, id, state.submittedTasks, sink);
    }
    this.#sessions.push(session);
    return session;
  }

  /** The governors: id, cpus, the tasks and objects they hold. */
  serverInfo(): Promise<ServerInfoResponse> {
    return this.#api.serverInfo();
  }

  /** Downloads the state and info of tasks and objects, which may be of several sessions. */
  async update(items: Iterable<SessionItem>): Promise<void> {
    const bySession = new Map<Session, SessionItem[]>();
    for (const item of items) {
      if (item.session.client !== this) {
        throw new RainError(`${item} belongs to another client`);
      }
      const list = bySession.get(item.session) ?? [];
      list.push(item);
      bySession.set(item.session, list);
    }
    for (const [session, list] of bySession) await session.update(list);
  }

  /** Closes every open session of this client, then disconnects. */
  async close(): Promise<void> {
    for (const session of this.#sessions) {
      if (sessionState(session).active) {
        try {
          await session.close();
        } catch {
          // the server is going away anyway
        }
      }
    }
    this.#sessions.length = 0;
    await this.#api.close();
  }

  /** `await using client = …` closes it at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** `<Client 127.0.0.1:7210 id=1>` */
  toString(): string {
    return `<Client ${formatAddress(this)} id=${this.id}>`;
  }
}

/**
 * HTTP transport to the server's client API (docs/protocol.md): JSON requests with `fetch` and
 * error answers turned into typed errors; the lifeline is lifeline.ts. Internal to the client.
 *
 * @module
 */
import { RainError, serverError } from "./errors.ts";
import type { ErrorKind } from "./types.ts";

/** Prefix of every client API path. */
export const API_PREFIX = "/api/v1";

/** Where the server is and how to authenticate. */
export interface Endpoint {
  /** Host name or IP address. */
  host: string;
  /** TCP port of the server's `--listen` address. */
  port: number;
  /** Cluster secret sent as `Authorization: Bearer <secret>`, if any. */
  secret?: string;
  /**
   * Seconds to keep trying to reach a server that went away (a restarted server restores the
   * client's sessions); default 60.
   */
  serverLostTimeout?: number;
}

/** Default of `Endpoint.serverLostTimeout`, seconds (as governors' `--server-lost-timeout`). */
export const DEFAULT_SERVER_LOST_TIMEOUT = 60;
/** First and longest pause between two attempts to reach the server again, ms. */
const RETRY_FIRST_MS = 50;
const RETRY_MAX_MS = 1000;

/** Whether a request body can be sent again (a stream cannot). */
function resendable(body: BodyInit | undefined): boolean {
  return body === undefined || typeof body === "string" || body instanceof Uint8Array;
}

function hostPart(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

/** `host:port` (IPv6 hosts in brackets). */
export function formatAddress(
  endpoint: { host: string; port: number },
): string {
  return `${hostPart(endpoint.host)}:${endpoint.port}`;
}

const ERROR_KINDS = new Set<string>([
  "BadRequest",
  "InvalidGraph",
  "NotFound",
  "SessionFailed",
  "TaskFailed",
  "SessionClosed",
  "NotAvailable",
  "Unauthorized",
  "Internal",
]);

/** The error for a non-2xx answer (its body is read). */
export async function errorFromResponse(
  response: Response,
): Promise<RainError> {
  const text = await response.text().catch(() => "");
  return errorFromBody(response.status, text);
}

export function errorFromBody(status: number, text: string): RainError {
  try {
    const error = JSON.parse(text).error;
    if (ERROR_KINDS.has(error.kind) && typeof error.message === "string") {
      return serverError(error.kind as ErrorKind, error.message);
    }
  } catch {
    // not an ErrorResponse
  }
  const kind: ErrorKind = status === 401
    ? "Unauthorized"
    : status === 404
    ? "NotFound"
    : "Internal";
  return new RainError(
    `server answered HTTP ${status}: ${text.slice(0, 500)}`,
    kind,
  );
}

/** Options of one request. */
export interface RequestOptions {
  /** JSON body. */
  json?: unknown;
  /** Raw body (binary or streamed). */
  body?: BodyInit;
  /** Extra headers. */
  headers?: Record<string, string>;
  /** Not sent again when the server cannot be reached. */
  noRetry?: boolean;
  /**
   * Sent on a connection of its own, as its first request: the server answers an object fetch
   * sent that way on the accepted socket itself, past its connection guard's relay
   * (server/direct_fetch.ts): a 512 MiB fetch went from 381–563 to 582–691 MiB/s.
   */
  freshConnection?: boolean;
}

/** JSON calls and raw requests to one server. */
export class Transport {
  #fresh: Deno.HttpClient | undefined;
  readonly endpoint: Endpoint;
  readonly #base: string;
  readonly #headers: Record<string, string>;
  readonly #abort = new AbortController();
  /** The server ended the lifeline itself (an orderly stop): nothing is retried. */
  serverStopped = false;

  constructor(endpoint: Endpoint) {
    this.endpoint = endpoint;
    this.#base = `http://${formatAddress(endpoint)}${API_PREFIX}`;
    this.#headers = endpoint.secret ? { authorization: `Bearer ${endpoint.secret}` } : {};
  }

  /** Headers sent with every request (authorization). */
  get headers(): Record<string, string> {
    return { ...this.#headers };
  }

  /**
   * `attempt()`, tried again while the server cannot be reached (it restarts), with pauses
   * growing from 50 ms to 1 s, for `serverLostTimeout` seconds from the first failure.
   */
  async retrying<T>(attempt: () => Promise<T>, retry = true): Promise<T> {
    let deadline: number | undefined;
    let pause = RETRY_FIRST_MS;
    for (;;) {
      try {
        return await attempt();
      } catch (e) {
        if (!(e instanceof RainError) || e.kind !== "Connection") throw e;
        const now = performance.now();
        deadline ??= now +
          (this.endpoint.serverLostTimeout ?? DEFAULT_SERVER_LOST_TIMEOUT) * 1000;
        if (!retry || now >= deadline || this.serverStopped || this.#abort.signal.aborted) {
          throw e;
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(pause, deadline! - now)));
        pause = Math.min(pause * 2, RETRY_MAX_MS);
      }
    }
  }

  /**
   * Sends a request; resolves to the response (status < 400, body unread). Sent again while the
   * server cannot be reached, unless its body is a stream.
   */
  request(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<Response> {
    return this.retrying(
      () => this.requestOnce(method, path, options),
      resendable(options.body) && !options.noRetry,
    );
  }

  /** Sends a request once. */
  async requestOnce(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<Response> {
    const headers: Record<string, string> = {
      ...this.#headers,
      ...options.headers,
    };
    let body = options.body;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers["content-type"] = "application/json";
    }
    let response: Response;
    try {
      response = await fetch(this.#base + path, {
        method,
        headers,
        body,
        signal: this.#abort.signal,
        ...(options.freshConnection ? { client: this.#freshConnections() } : {}),
      });
    } catch (e) {
      if (this.#abort.signal.aborted) {
        throw new RainError("the client is closed", "Connection", { cause: e });
      }
      throw new RainError(
        `cannot reach Rain server at ${formatAddress(this.endpoint)}: ${(e as Error).message}`,
        "Connection",
        { cause: e },
      );
    }
    if (response.status >= 400) throw await errorFromResponse(response);
    return response;
  }

  /** A JSON call; resolves to the parsed answer. Sent again while the server is lost. */
  call<T>(method: string, path: string, json?: unknown, retry = true): Promise<T> {
    return this.retrying(async () => {
      const response = await this.requestOnce(method, path, { json });
      try {
        return await response.json() as T;
      } catch (e) {
        throw new RainError(
          `invalid answer to ${method} ${path}: ${e}`,
          "Connection",
          { cause: e },
        );
      }
    }, retry);
  }

  /** Aborts every request in flight; later requests fail. */
  close(): void {
    this.#abort.abort();
    this.#fresh?.close();
    this.#fresh = undefined;
  }

  /** An HTTP client that keeps no idle connection: each request opens its own. */
  #freshConnections(): Deno.HttpClient {
    return this.#fresh ??= Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
  }
}

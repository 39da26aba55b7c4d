/**
 * Authentication of the server's two ports (docs/security.md).
 *
 * - Client port (`--listen`): every request — client API, governor link, constants — needs the
 *   cluster secret (`Authorization: Bearer <secret>`), except the read-only `GET /api/v1/status`,
 *   which follows the monitoring rule.
 * - Monitoring port (`--http-listen`, read-only: dashboard, `POST /events`, status): open
 *   without the secret only to loopback tools of the server's own user (the peer's uid, from
 *   /proc/net/tcp) that are not a web page of another origin; anyone else — other local users
 *   included — needs it: the header, a `rain_token` cookie, or `?token=<secret>` (a browser opening
 *   `http://host:7222/?token=<secret>` gets the cookie and is redirected to the plain URL).
 *
 * Refusals answer 401 with an `ErrorResponse` and are logged (at most a few lines per interval).
 * Secrets are compared in constant time. Without a secret (`--insecure`) everything is open.
 */
import type { ErrorResponse } from "../common/messages.ts";
import { API_PREFIX } from "../common/messages.ts";
import { join } from "node:path";
import {
  isLoopback,
  type PublishedSecret,
  publishSecret,
  secretKey,
  secretsDir,
  secretsEqual,
} from "../common/secret.ts";
import { Logger } from "../common/log.ts";
import { loopbackPeerUid, ownUid } from "../common/peer_uid.ts";

const log = new Logger("server.auth");

export const TOKEN_COOKIE = "rain_token";
export const TOKEN_PARAM = "token";
/** Paths of the client port that follow the monitoring rule (read-only). */
const OPEN_ON_CLIENT_PORT = new Set([`${API_PREFIX}/status`]);

/** How many refusals are logged per interval; the rest are counted. */
const LOG_BURST = 10;
const LOG_INTERVAL_MS = 10_000;

/** `localAddr`: the address the peer reached (common/conn_guard.ts gives it). */
type Handler = (
  request: Request,
  info: Deno.ServeHandlerInfo & { localAddr?: Deno.NetAddr },
) => Response | Promise<Response>;

export type Port = "client" | "monitoring";

export class Auth {
  readonly #secret: string | undefined;
  #logged = 0;
  #suppressed = 0;
  #windowStart = 0;
  /** Requests refused so far (for tests and status). */
  refused = 0;

  /** `secret` undefined: authentication off (`--insecure`). */
  constructor(secret: string | undefined) {
    this.#secret = secret;
  }

  get enabled(): boolean {
    return this.#secret !== undefined;
  }

  #published: PublishedSecret | undefined;

  /**
   * Publishes the secret for clients of this user on this machine (`~/.rain/secrets`), or warns
   * loudly that authentication is off.
   */
  async announce(listenHost: string, port: number): Promise<void> {
    if (this.#secret === undefined) {
      // A secret a killed server left for this address would mislead local governors.
      const stale = join(secretsDir(), secretKey(listenHost, port));
      for (const f of [stale, `${stale}.owner`]) await Deno.remove(f).catch(() => {});
      log.warn(
        `AUTHENTICATION IS OFF (--insecure): anyone who can reach ${listenHost}:${port} can run ` +
          `programs as this user on every governor and read all data`,
      );
      return;
    }
    this.#published = await publishSecret(listenHost, port, this.#secret);
    log.info(`cluster secret published for this user in ${this.#published.path}`);
  }

  /** Removes the published secret (at shutdown). */
  async withdraw(): Promise<void> {
    await this.#published?.unpublish();
  }

  /** The same, synchronously (uncaught errors, exit). */
  withdrawSync(): void {
    this.#published?.unpublishSync();
  }

  /**
   * True when a request head proves its sender holds the secret (header, token cookie or
   * `?token=`): the connection guard (common/conn_guard.ts) gives such connections the long
   * limits. Always true without a secret.
   */
  knowsSecret(headers: Headers, target: string): boolean {
    if (this.#secret === undefined) return true;
    const given = bearerOf(headers.get("authorization"));
    if (given !== undefined) return secretsEqual(given, this.#secret);
    const cookie = cookieOf(headers.get("cookie"), TOKEN_COOKIE);
    if (cookie !== undefined && secretsEqual(cookie, this.#secret)) return true;
    const token = new URL(target, "http://x").searchParams.get(TOKEN_PARAM);
    return token !== null && secretsEqual(token, this.#secret);
  }

  /** `handler` behind the rules of `port`. */
  protect(handler: Handler, port: Port): Handler {
    if (!this.enabled) return handler;
    return (request, info) => {
      const peer = (info.remoteAddr as Deno.NetAddr).hostname ?? "";
      const url = new URL(request.url);
      const monitoring = port === "monitoring" ||
        (request.method === "GET" && OPEN_ON_CLIENT_PORT.has(url.pathname));
      const denied = monitoring
        ? this.#checkMonitoring(request, url, peer, () => sameUser(info))
        : this.#checkSecret(request, url, peer);
      return denied ?? handler(request, info);
    };
  }

  #checkSecret(request: Request, url: URL, peer: string): Response | undefined {
    const given = bearer(request);
    if (given === undefined) {
      return this.#refuse(
        request,
        url,
        peer,
        "missing cluster secret",
        "this Rain server requires its cluster secret: send 'Authorization: Bearer <secret>' " +
          "(Python: Client(host, port, secret=...) or RAIN_SECRET; on the server's machine the " +
          "server's user finds it in ~/.rain/secrets); see docs/security.md",
      );
    }
    if (!secretsEqual(given, this.#secret!)) {
      return this.#refuse(request, url, peer, "wrong cluster secret", "wrong cluster secret");
    }
    return undefined;
  }

  #checkMonitoring(
    request: Request,
    url: URL,
    peer: string,
    fromThisUser: () => boolean,
  ): Response | undefined {
    if (request.headers.has("authorization")) return this.#checkSecret(request, url, peer);
    const token = url.searchParams.get(TOKEN_PARAM);
    if (token !== null) {
      if (!secretsEqual(token, this.#secret!)) {
        return this.#refuse(request, url, peer, "wrong token", "wrong cluster secret in ?token=");
      }
      if (request.method === "GET" && (request.headers.get("accept") ?? "").includes("html")) {
        // A browser: keep the secret in an HttpOnly cookie, not in the address bar and history.
        url.searchParams.delete(TOKEN_PARAM);
        return new Response(null, {
          status: 303,
          headers: {
            location: url.pathname + url.search,
            "set-cookie": `${TOKEN_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict`,
            "cache-control": "no-store",
          },
        });
      }
      return undefined;
    }
    const cookie = cookieValue(request, TOKEN_COOKIE);
    // A stale cookie (of an earlier server) counts as none. A cookie sent for a web page of
    // another origin is refused too (SameSite=Strict keeps browsers from sending it; this
    // also covers DNS rebinding).
    if (cookie !== undefined && secretsEqual(cookie, this.#secret!) && !foreignPage(request)) {
      return undefined;
    }
    // Loopback alone gives no exception (other users of a login node are loopback too); this
    // user's own tools are let in, as they could read the published secret anyway.
    if (isLoopback(peer) && !foreignPage(request) && fromThisUser()) return undefined;
    return this.#refuse(
      request,
      url,
      peer,
      foreignPage(request)
        ? "web page of another origin"
        : isLoopback(peer)
        ? "no secret from another local user"
        : "no secret from a remote address",
      `monitoring from ${
        foreignPage(request) ? "a web page of another origin" : peer
      } requires the cluster secret: the 'Authorization: Bearer <secret>' header ` +
        `('rain status' of the server's user finds it in ~/.rain/secrets), or open the ` +
        `dashboard once with the address 'rain start' printed, http://<server>:<port>/?token=<secret>`,
    );
  }

  #refuse(request: Request, url: URL, peer: string, why: string, message: string): Response {
    this.refused++;
    this.#log(`refused ${request.method} ${url.pathname} from ${peer}: ${why}`);
    const body: ErrorResponse = { error: { kind: "Unauthorized", message } };
    return new Response(JSON.stringify(body), {
      status: 401,
      headers: {
        "content-type": "application/json",
        "www-authenticate": 'Bearer realm="rain"',
      },
    });
  }

  #log(line: string): void {
    const now = Date.now();
    if (now - this.#windowStart > LOG_INTERVAL_MS) {
      if (this.#suppressed > 0) {
        log.warn(`... and ${this.#suppressed} more refused requests not logged`);
      }
      this.#windowStart = now;
      this.#logged = 0;
      this.#suppressed = 0;
    }
    if (this.#logged++ < LOG_BURST) log.warn(line);
    else this.#suppressed++;
  }
}

/** True when a loopback peer runs as this process's user (Linux; false when unknown). */
function sameUser(info: Deno.ServeHandlerInfo & { localAddr?: Deno.NetAddr }): boolean {
  const remote = info.remoteAddr as Deno.NetAddr;
  if (info.localAddr === undefined || typeof remote.port !== "number") return false;
  const uid = loopbackPeerUid(remote.port, info.localAddr.port);
  return uid !== undefined && uid === ownUid();
}

/** The bearer token of the Authorization header. */
function bearer(request: Request): string | undefined {
  return bearerOf(request.headers.get("authorization"));
}

function bearerOf(h: string | null): string | undefined {
  if (h === null) return undefined;
  const m = /^\s*bearer\s+(\S+)\s*$/i.exec(h);
  return m ? m[1] : "";
}

function cookieValue(request: Request, name: string): string | undefined {
  return cookieOf(request.headers.get("cookie"), name);
}

function cookieOf(header: string | null, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const i = part.indexOf("=");
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

/**
 * True when a browser sends the request for a page of another origin (a site the user visits
 * must not read the loopback-open monitoring data), or with a Host that is not a loopback name
 * (DNS rebinding: evil.example resolving to 127.0.0.1).
 */
function foreignPage(request: Request): boolean {
  const host = (request.headers.get("host") ?? "").toLowerCase();
  const hostname = host.startsWith("[")
    ? host.slice(0, host.indexOf("]") + 1)
    : host.split(":", 1)[0] ?? "";
  if (hostname !== "" && hostname !== "localhost" && !isLoopback(hostname)) return true;
  const origin = request.headers.get("origin");
  if (origin === null || origin === "null") return origin === "null";
  try {
    return new URL(origin).host.toLowerCase() !== host;
  } catch {
    return true;
  }
}

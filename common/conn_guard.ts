/**
 * A listener that no peer can exhaust (docs/security.md "Resource limits"), in front of a
 * `Deno.serve` handler.
 *
 * `Deno.serve` has no header or idle timeout and its accept loop dies on `EMFILE` (the whole
 * listener fails with "Too many open files"). So the public port is a plain `Deno.listen` whose
 * connections this module accounts for and relays to a `Deno.serve` on a private loopback port:
 *
 * - the first request's head must arrive within `headerTimeoutMs` and `maxHeaderBytes`;
 * - a connection whose first request does not carry the secret (`trusted` says) is
 *   "unauthenticated": at most `maxUnauthenticated` of them at once (a new one closes the
 *   oldest), closed after
 *   `unauthenticatedIdleMs` without traffic; every connection is closed after `idleTimeoutMs`
 *   without traffic (above the longest long-poll);
 * - at most `maxConnections` at once (default: what the open-file limit allows); beyond it, and
 *   on `EMFILE`/`ENFILE` from accept, new connections are refused (closed at once), logged once
 *   per minute, and the process never crashes;
 * - the private listener answers only connections relayed here; if it fails anyway it is served
 *   again on the same port.
 *
 * The handler sees the real peer as `info.remoteAddr`.
 *
 * `direct` may answer a connection's first request itself, on the accepted connection, once its
 * head is in and judged (bulk data, e.g. a governor's object bodies: the relay would copy every
 * byte twice more; a governor's WebSocket: every frame would cross two more sockets). The
 * connection stays accounted for (caps, idle timeout) and is closed once `direct` resolves.
 */
import { Logger } from "./log.ts";

const log = new Logger("guard");

export interface GuardOptions {
  hostname: string;
  port: number;
  /** What the port is, for the error when it cannot be opened (e.g. `--listen`). */
  what?: string;
  /** The first request's head must be complete within this (default 10 s). */
  headerTimeoutMs?: number;
  /** Largest request head of the first request (default 64 KiB; larger: 431). */
  maxHeaderBytes?: number;
  /** Any connection idle (no byte either way) this long is closed (default 15 min). */
  idleTimeoutMs?: number;
  /** Idle limit of unauthenticated connections (default 15 s). */
  unauthenticatedIdleMs?: number;
  /**
   * Unauthenticated connections (incl. those still sending their head) at once (default 256,
   * at most half of `maxConnections`); one more closes the oldest.
   */
  maxUnauthenticated?: number;
  /**
   * All connections at once (default: (open-file limit - reserve) / 3, as each costs up to 3
   * descriptors; the reserve is a quarter of the limit, at most 256).
   */
  maxConnections?: number;
  /** True when the first request's head proves the peer knows the secret (default: all true). */
  trusted?: (head: Headers, target: string) => boolean;
  /**
   * Answers a first request without a body on the connection itself (resolves true: the guard
   * closes the connection afterwards), or declines (false: the request is relayed as usual).
   */
  direct?: (request: DirectRequest, conn: DirectConn) => Promise<boolean>;
  onError?: (error: unknown) => Response | Promise<Response>;
}

/** What was refused or closed so far (tests, status). */
export interface GuardStats {
  accepted: number;
  open: number;
  unauthenticated: number;
  refusedOverLimit: number;
  /** Unauthenticated connections closed to make room for newer ones. */
  refusedUnauthenticated: number;
  headerTimeouts: number;
  idleTimeouts: number;
  headerTooLarge: number;
  acceptErrors: number;
}

/** A listener's counts as `/api/v1/status` shows them (docs/security.md "Resource limits"). */
export interface ListenerCounts {
  /** Connections open now, and of them without the secret. */
  open: number;
  unauthenticated: number;
  accepted: number;
  /** Closed at once: over the connection cap, or accept failed (EMFILE/ENFILE). */
  refused: number;
  /** Unauthenticated connections closed to make room for newer ones. */
  evicted: number;
  /** Closed for a request head that came too slowly, or for silence. */
  timed_out: number;
  /** Answered 431: a request head over the limit. */
  header_too_large: number;
}

export function listenerCounts(s: GuardStats): ListenerCounts {
  return {
    open: s.open,
    unauthenticated: s.unauthenticated,
    accepted: s.accepted,
    refused: s.refusedOverLimit + s.acceptErrors,
    evicted: s.refusedUnauthenticated,
    timed_out: s.headerTimeouts + s.idleTimeouts,
    header_too_large: s.headerTooLarge,
  };
}

/** The first request of a connection, as `GuardOptions.direct` sees it. */
export interface DirectRequest {
  method: string;
  target: string;
  headers: Headers;
  /** `trusted` said yes. */
  authenticated: boolean;
}

/** The accepted connection, for `GuardOptions.direct`; traffic either way counts as activity. */
export interface DirectConn {
  /** The real peer. */
  readonly remoteAddr: Deno.NetAddr;
  /** Writes all of `bytes` (rejects when the connection is gone or closed by the guard). */
  write(bytes: Uint8Array): Promise<void>;
  /** Reads what follows the first request's head (null: the peer closed, or the guard did). */
  read(into: Uint8Array): Promise<number | null>;
  /** Half-closes: the peer reads the end after what was written. */
  closeWrite(): Promise<void>;
  /** Closes the connection (the guard forgets it). */
  close(): void;
}

export interface GuardedServer {
  readonly addr: Deno.NetAddr;
  readonly stats: GuardStats;
  /** Stops accepting, waits for responses in flight (like `Deno.HttpServer.shutdown`). */
  shutdown(): Promise<void>;
}

/** What the handler learns of a connection: the real peer and the public address it reached. */
export interface GuardedInfo extends Deno.ServeHandlerInfo<Deno.NetAddr> {
  localAddr: Deno.NetAddr;
}

type Handler = (request: Request, info: GuardedInfo) => Response | Promise<Response>;

interface Relay {
  outer: Deno.TcpConn;
  inner?: Deno.TcpConn;
  /** Head deadline (ms since epoch) while the head is awaited. */
  headDeadline?: number;
  lastActivity: number;
  authenticated: boolean;
  closed: boolean;
}

const HEAD_END = new Uint8Array([13, 10, 13, 10]);
/** Relay buffers: small while a connection is quiet, large once it moves bulk data. */
const SMALL_BUFFER_BYTES = 16 * 1024;
const LARGE_BUFFER_BYTES = 1024 * 1024;

/** The soft open-file limit of this process (Linux /proc; undefined elsewhere). */
export function openFileLimit(): number | undefined {
  try {
    const limits = Deno.readTextFileSync("/proc/self/limits");
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(limits);
    if (!m || m[1] === undefined) return undefined;
    return m[1] === "unlimited" ? undefined : Number(m[1]);
  } catch {
    return undefined;
  }
}

export function serveGuarded(options: GuardOptions, handler: Handler): Promise<GuardedServer> {
  const headerTimeoutMs = options.headerTimeoutMs ?? 10_000;
  const maxHeaderBytes = options.maxHeaderBytes ?? 64 * 1024;
  const idleTimeoutMs = options.idleTimeoutMs ?? 15 * 60_000;
  const unauthenticatedIdleMs = options.unauthenticatedIdleMs ?? 15_000;
  // Without a fixed cap, follow the open-file limit (re-read every second: it may change).
  const connectionCap = () => {
    if (options.maxConnections !== undefined) return options.maxConnections;
    const limit = openFileLimit() ?? 4096;
    return Math.max(16, Math.floor((limit - Math.min(256, Math.floor(limit / 4))) / 3));
  };
  let maxConnections = connectionCap();
  // Half the connections at most are unauthenticated: secret holders always find room.
  const unauthenticatedCap = () =>
    Math.max(1, Math.min(options.maxUnauthenticated ?? 256, Math.floor(maxConnections / 2)));
  let maxUnauthenticated = unauthenticatedCap();
  const trusted = options.trusted ?? (() => true);
  const stats: GuardStats = {
    accepted: 0,
    open: 0,
    unauthenticated: 0,
    refusedOverLimit: 0,
    refusedUnauthenticated: 0,
    headerTimeouts: 0,
    idleTimeouts: 0,
    headerTooLarge: 0,
    acceptErrors: 0,
  };
  const relays = new Set<Relay>();
  /** Unauthenticated relays, oldest first. */
  const unauthenticated = new Set<Relay>();
  /** Private-port source port of a relayed connection → the real connection. */
  const peers = new Map<number, Deno.TcpConn>();
  let lastRefusalLog = 0;
  const logRefusal = (why: string) => {
    const now = Date.now();
    if (now - lastRefusalLog < 60_000) return;
    lastRefusalLog = now;
    log.warn(`refusing connections on ${options.hostname}:${listener.addr.port}: ${why}`);
  };

  // The private HTTP server; served again if its accept loop ever fails.
  let innerPort = 0;
  let inner: Deno.HttpServer<Deno.NetAddr> | undefined;
  let stopping = false;
  const serveInner = () =>
    new Promise<void>((resolve) => {
      inner = Deno.serve({
        hostname: "127.0.0.1",
        port: innerPort,
        onListen: (addr) => {
          innerPort = addr.port;
          resolve();
        },
        onError: options.onError,
      }, (request, info) => {
        const outer = peers.get(info.remoteAddr.port);
        if (outer === undefined) {
          // Not relayed by this process: nobody may bypass the limits.
          return new Response(null, { status: 403, headers: { connection: "close" } });
        }
        return handler(request, {
          remoteAddr: outer.remoteAddr,
          localAddr: outer.localAddr,
          completed: info.completed,
        });
      });
      inner.finished.catch((e) => {
        if (stopping) return;
        log.warn(`private HTTP listener failed (${e}); serving it again`);
        setTimeout(() => serveInner(), 100);
      });
    });

  const close = (relay: Relay) => {
    if (relay.closed) return;
    relay.closed = true;
    relays.delete(relay);
    stats.open--;
    if (unauthenticated.delete(relay)) stats.unauthenticated--;
    for (const conn of [relay.outer, relay.inner]) {
      if (conn === undefined) continue;
      if (conn === relay.inner) peers.delete(conn.localAddr.port);
      try {
        conn.close();
      } catch { /* already closed */ }
    }
  };

  const sweep = setInterval(() => {
    const now = Date.now();
    maxConnections = connectionCap();
    maxUnauthenticated = unauthenticatedCap();
    for (const relay of relays) {
      if (relay.headDeadline !== undefined) {
        if (now > relay.headDeadline) {
          stats.headerTimeouts++;
          close(relay);
        }
      } else if (
        now - relay.lastActivity > (relay.authenticated ? idleTimeoutMs : unauthenticatedIdleMs)
      ) {
        stats.idleTimeouts++;
        close(relay);
      }
    }
  }, Math.min(1000, Math.max(50, Math.floor(headerTimeoutMs / 4))));

  const pump = async (relay: Relay, from: Deno.TcpConn, to: Deno.TcpConn, half: boolean) => {
    let buffer = new Uint8Array(SMALL_BUFFER_BYTES);
    try {
      while (!relay.closed) {
        const n = await from.read(buffer);
        if (n === null) break;
        relay.lastActivity = Date.now();
        if (n === buffer.length && n < LARGE_BUFFER_BYTES) {
          const full = buffer;
          buffer = new Uint8Array(LARGE_BUFFER_BYTES);
          let sent = 0;
          while (sent < n) sent += await to.write(full.subarray(sent, n));
          continue;
        }
        let sent = 0;
        while (sent < n) sent += await to.write(buffer.subarray(sent, n));
      }
      if (half && !relay.closed) {
        await to.closeWrite().catch(() => close(relay));
        return;
      }
    } catch { /* a side went away */ }
    close(relay);
  };

  const relay = async (outer: Deno.TcpConn) => {
    const relay: Relay = {
      outer,
      headDeadline: Date.now() + headerTimeoutMs,
      lastActivity: Date.now(),
      authenticated: false,
      closed: false,
    };
    relays.add(relay);
    unauthenticated.add(relay);
    stats.open++;
    stats.unauthenticated++;
    try {
      // The first request's head, so that its sender can be judged before anything is relayed.
      let head = new Uint8Array(0);
      let end = -1;
      const chunk = new Uint8Array(16 * 1024);
      while (end < 0) {
        const n = await outer.read(chunk);
        if (n === null || relay.closed) return close(relay);
        const grown = new Uint8Array(head.length + n);
        grown.set(head);
        grown.set(chunk.subarray(0, n), head.length);
        end = indexOf(grown, HEAD_END, Math.max(0, head.length - 3));
        head = grown;
        if (end < 0 && head.length > maxHeaderBytes) {
          stats.headerTooLarge++;
          await outer.write(
            new TextEncoder().encode(
              "HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\n" +
                "content-length: 0\r\n\r\n",
            ),
          ).catch(() => {});
          return close(relay);
        }
      }
      relay.headDeadline = undefined;
      relay.lastActivity = Date.now();
      const parsed = parseHead(new TextDecoder().decode(head.subarray(0, end)));
      if (parsed && trusted(parsed.headers, parsed.target)) {
        relay.authenticated = true;
        unauthenticated.delete(relay);
        stats.unauthenticated--;
      }
      if (
        options.direct && parsed && head.length === end + 4 &&
        !parsed.headers.has("content-length") && !parsed.headers.has("transfer-encoding")
      ) {
        const conn: DirectConn = {
          remoteAddr: outer.remoteAddr,
          write: async (bytes) => {
            let sent = 0;
            while (sent < bytes.length) {
              if (relay.closed) throw new Error("the connection was closed");
              sent += await outer.write(bytes.subarray(sent));
              relay.lastActivity = Date.now();
            }
          },
          read: async (into) => {
            if (relay.closed) return null;
            const n = await outer.read(into).catch(() => null);
            if (n !== null) relay.lastActivity = Date.now();
            return n;
          },
          closeWrite: () => outer.closeWrite().catch(() => close(relay)),
          close: () => close(relay),
        };
        const request = { ...parsed, authenticated: relay.authenticated };
        if (await options.direct(request, conn).catch(() => true)) return close(relay);
      }
      const innerConn = await Deno.connect({ hostname: "127.0.0.1", port: innerPort });
      // No Nagle on the relay: a small frame behind an unacknowledged one (a task_finished just
      // after its task_started) would wait ~40 ms for the delayed ACK.
      innerConn.setNoDelay(true);
      if (relay.closed) {
        innerConn.close();
        return;
      }
      relay.inner = innerConn;
      peers.set(innerConn.localAddr.port, outer);
      let sent = 0;
      while (sent < head.length) sent += await innerConn.write(head.subarray(sent));
      await Promise.all([
        pump(relay, outer, innerConn, true),
        pump(relay, innerConn, outer, false),
      ]);
    } catch {
      close(relay);
    }
  };

  let listener!: Deno.TcpListener;
  const acceptLoop = async () => {
    while (!stopping) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch (e) {
        if (stopping || e instanceof Deno.errors.BadResource) return;
        // EMFILE/ENFILE and the like: keep the authenticated connections, free a descriptor
        // by closing the oldest unauthenticated one, back off, try again.
        stats.acceptErrors++;
        logRefusal(String(e));
        const oldest = unauthenticated.values().next().value;
        if (oldest !== undefined) {
          close(oldest);
          stats.refusedUnauthenticated++;
        }
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      stats.accepted++;
      try {
        conn.setNoDelay(true); // relayed frames go out as they come (see the inner side)
      } catch { /* closed already */ }
      if (stats.unauthenticated >= maxUnauthenticated) {
        // The oldest unauthenticated connection makes room: a legitimate peer sends its head
        // within milliseconds, so a flood cannot keep it out.
        const oldest = unauthenticated.values().next().value;
        if (oldest !== undefined) close(oldest);
        stats.refusedUnauthenticated++;
        logRefusal(
          `${maxUnauthenticated} unauthenticated connections at once: the oldest are closed`,
        );
      }
      if (stats.open >= maxConnections) {
        stats.refusedOverLimit++;
        logRefusal(`${stats.open} connections open (limit ${maxConnections})`);
        try {
          conn.close();
        } catch { /* gone */ }
        continue;
      }
      void relay(conn);
    }
  };

  return (async () => {
    await serveInner();
    try {
      listener = Deno.listen({ hostname: options.hostname, port: options.port });
    } catch (e) {
      throw listenError(e, options);
    }
    void acceptLoop();
    return {
      addr: listener.addr,
      stats,
      shutdown: async () => {
        if (stopping) return;
        stopping = true;
        clearInterval(sweep);
        try {
          listener.close();
        } catch { /* closed */ }
        // Connections still sending their first head have nothing in flight.
        for (const r of relays) if (r.inner === undefined) close(r);
        await inner?.shutdown();
        for (const r of relays) close(r);
      },
    };
  })();
}

function indexOf(haystack: Uint8Array, needle: Uint8Array, from: number): number {
  outer: for (let i = from; i <= haystack.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** Request target and headers of an HTTP/1 request head (undefined if malformed). */
function parseHead(
  text: string,
): { method: string; target: string; headers: Headers } | undefined {
  const lines = text.split("\r\n");
  const [method, target] = lines[0]?.split(" ") ?? [];
  if (method === undefined || target === undefined) return undefined;
  const headers = new Headers();
  for (const line of lines.slice(1)) {
    const i = line.indexOf(":");
    if (i <= 0) continue;
    try {
      headers.append(line.slice(0, i).trim(), line.slice(i + 1).trim());
    } catch { /* invalid header: the HTTP server will answer */ }
  }
  return { method, target, headers };
}

/** Why a port cannot be opened, naming the address (issue 17: "Address already in use" alone). */
function listenError(e: unknown, options: GuardOptions): Error {
  const host = options.hostname.includes(":") ? `[${options.hostname}]` : options.hostname;
  const where = `${host}:${options.port}${options.what ? ` (${options.what})` : ""}`;
  if (e instanceof Deno.errors.AddrInUse) {
    return new Error(
      `cannot listen on ${where}: the address is already in use (another ` +
        `Rain server or program holds the port)`,
    );
  }
  const why = e instanceof Error ? e.message : String(e);
  return new Error(`cannot listen on ${where}: ${why}`);
}

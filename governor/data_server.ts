/**
 * The governor's data listener: `GET /objects/<sid>/<id>` streams an object held here (see
 * docs/protocol.md "Governor data listener"). Blobs are sent with `content-length`, directories
 * as a tar stream; `x-rain-data-type` says which. 404 with an `ErrorResponse` if not held.
 */
import { Hono } from "hono";
import type { ErrorResponse } from "../common/messages.ts";
import { OBJECT_DATA_PATH } from "../common/messages.ts";
import type { Id } from "../common/ids.ts";
import { errorMessage } from "./fs_util.ts";
import type { ObjectStore } from "./object_store.ts";
import { Logger } from "../common/log.ts";
import { secretsEqual } from "../common/secret.ts";
import {
  type DirectConn,
  type DirectRequest,
  type GuardStats,
  serveGuarded,
} from "../common/conn_guard.ts";

const log = new Logger("governor.data");

/** Header naming the data type of the answered object. */
export const DATA_TYPE_HEADER = "x-rain-data-type";

export interface DataServer {
  /** The port really listened on (useful with port 0). */
  readonly port: number;
  readonly hostname: string;
  /** Connection counts of the guard (common/conn_guard.ts). */
  readonly stats: GuardStats;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

function errorBody(kind: ErrorResponse["error"]["kind"], message: string): ErrorResponse {
  return { error: { kind, message } };
}

/**
 * The routes. `stopping` aborts responses still streaming (so that stopping is not held up by a
 * slow peer).
 */
export function dataApp(store: ObjectStore, stopping?: AbortSignal, secret?: string): Hono {
  const app = new Hono();
  if (secret !== undefined) {
    // Peers and the server present the cluster secret: data is never served to anyone else.
    app.use(async (c, next) => {
      const m = /^\s*bearer\s+(\S+)\s*$/i.exec(c.req.header("authorization") ?? "");
      if (m?.[1] === undefined || !secretsEqual(m[1], secret)) {
        log.warn(`refused ${c.req.method} ${c.req.path}: ${m ? "wrong" : "missing"} secret`);
        return c.json(errorBody("Unauthorized", "the cluster secret is required"), 401);
      }
      await next();
    });
  }
  app.get(`${OBJECT_DATA_PATH}/:sid/:id`, async (c) => {
    const sid = Number(c.req.param("sid"));
    const num = Number(c.req.param("id"));
    if (!Number.isSafeInteger(sid) || !Number.isSafeInteger(num)) {
      return c.json(errorBody("BadRequest", "object address must be /objects/<sid>/<id>"), 400);
    }
    const id: Id = [sid, num];
    const obj = store.get(id);
    if (obj === undefined) {
      return c.json(errorBody("NotFound", `object ${sid}/${num} is not held here`), 404);
    }
    let body: ReadableStream<Uint8Array> | Uint8Array;
    try {
      if (obj.data !== undefined) {
        body = obj.data;
      } else {
        body = await store.openStream(obj);
        if (stopping) body = body.pipeThrough(new TransformStream(), { signal: stopping });
      }
    } catch (e) {
      // Removed between lookup and open (delete list, closed session).
      return c.json(errorBody("NotFound", `object ${sid}/${num}: ${errorMessage(e)}`), 404);
    }
    const headers: Record<string, string> = {
      "content-type": "application/octet-stream",
      [DATA_TYPE_HEADER]: obj.dataType,
    };
    if (obj.dataType === "blob") headers["content-length"] = String(obj.size);
    return new Response(body as BodyInit, { headers });
  });
  return app;
}

/** Bytes read from the file per write to the connection. */
const DIRECT_CHUNK_BYTES = 1 << 20;

/**
 * Serves a blob held in a file straight on the accepted connection (common/conn_guard.ts
 * `direct`): the bulk path of governor-to-governor transfers, without the guard's relay to the
 * HTTP server. Anything else (not authenticated, not held, in memory, a directory) is declined
 * and answered by `dataApp`.
 */
export function directObjects(store: ObjectStore, stopping: AbortSignal, secret?: string) {
  const route = new RegExp(`^${OBJECT_DATA_PATH}/(\\d+)/(\\d+)$`);
  return async (request: DirectRequest, conn: DirectConn): Promise<boolean> => {
    if (request.method !== "GET" || (secret !== undefined && !request.authenticated)) {
      return false;
    }
    const m = route.exec(request.target);
    if (!m) return false;
    const obj = store.get([Number(m[1]), Number(m[2])]);
    if (obj === undefined || obj.dataType !== "blob" || obj.path === undefined) return false;
    let file: Deno.FsFile;
    try {
      file = await Deno.open(obj.path);
    } catch {
      return false; // removed meanwhile: dataApp answers 404
    }
    try {
      await conn.write(
        new TextEncoder().encode(
          `HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\n` +
            `${DATA_TYPE_HEADER}: blob\r\ncontent-length: ${obj.size}\r\nconnection: close\r\n\r\n`,
        ),
      );
      // Two buffers: the next chunk is read from the file while the last one is written.
      let reading = new Uint8Array(DIRECT_CHUNK_BYTES);
      let spare = new Uint8Array(DIRECT_CHUNK_BYTES);
      let writing: Promise<void> = Promise.resolve();
      let left = obj.size;
      try {
        while (left > 0 && !stopping.aborted) {
          const n = await file.read(reading.subarray(0, Math.min(reading.length, left)));
          if (n === null) break; // shorter than recorded: the peer sees a short body
          await writing;
          writing = conn.write(reading.subarray(0, n));
          // Handled at once: a peer gone while the next chunk is read must not be an unhandled
          // rejection (that ends the process); the next `await writing` still throws it.
          writing.catch(() => {});
          [reading, spare] = [spare, reading];
          left -= n;
        }
      } finally {
        await writing.catch(() => {}); // a failed read ends the copy: the write in flight first
      }
      await writing;
    } finally {
      file.close();
    }
    return true;
  };
}

/**
 * The local address this machine uses to reach `host:port` (a TCP connection made and closed at
 * once): the interface a governor's data listener binds to when `--listen` names none.
 */
export async function interfaceTowards(host: string, port: number): Promise<string> {
  let probe: Deno.TcpConn;
  try {
    probe = await Deno.connect({ hostname: host, port });
  } catch (e) {
    throw new Error(`cannot reach the server at ${host}:${port}: ${errorMessage(e)}`);
  }
  const local = probe.localAddr.hostname;
  probe.close();
  return local;
}

export async function startDataServer(
  store: ObjectStore,
  options: { hostname: string; port: number; secret?: string },
): Promise<DataServer> {
  const stopping = new AbortController();
  const app = dataApp(store, stopping.signal, options.secret);
  const secret = options.secret;
  let server;
  try {
    // Guarded (common/conn_guard.ts): no peer can exhaust this governor's open files.
    server = await serveGuarded({
      hostname: options.hostname,
      port: options.port,
      trusted: (headers) => {
        if (secret === undefined) return true;
        const m = /^\s*bearer\s+(\S+)\s*$/i.exec(headers.get("authorization") ?? "");
        return m?.[1] !== undefined && secretsEqual(m[1], secret);
      },
      direct: directObjects(store, stopping.signal, secret),
      onError: (e) => {
        log.warn(`data listener: ${errorMessage(e)}`);
        return new Response(JSON.stringify(errorBody("Internal", errorMessage(e))), {
          status: 500,
          headers: { "content-type": "application/json" },
        });
      },
    }, app.fetch);
  } catch (e) {
    throw new Error(
      `cannot listen on ${options.hostname}:${options.port} for data: ${errorMessage(e)}`,
    );
  }
  const guarded = server;
  return {
    port: guarded.addr.port,
    hostname: guarded.addr.hostname,
    stats: guarded.stats,
    close: () => {
      stopping.abort(new Error("governor is stopping"));
      return guarded.shutdown();
    },
  };
}

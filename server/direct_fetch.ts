/**
 * The direct path of client fetches (`GET /api/v1/sessions/S/objects/ID/data`, issues 15/16):
 * when that is a connection's first request, the connection guard (common/conn_guard.ts
 * `direct`) hands it here once its head is judged, and a kept blob is streamed from the
 * governor holding it straight to the accepted connection, with `content-length` and
 * `connection: close`. The guard's relay to the HTTP server (two more copies of every byte)
 * and a chunked body are left out; the guard's limits still hold (caps, timeouts).
 *
 * Only the plain case is answered here; everything else is declined before a byte is written
 * and answered by the route in client_api.ts as before: no valid `Authorization: Bearer`
 * secret (it answers 401), unknown or unkept objects, failed or closed sessions, directories
 * (tar streams), client data the server holds in memory, holders that cannot be read (the
 * route retries and waits for a recomputation, issue 12). A holder lost after the head was
 * sent leaves the body short: the client fetches again (issue 13).
 */
import type { DirectConn, DirectRequest } from "../common/conn_guard.ts";
import { copyInTurns } from "../common/copy_in_turns.ts";
import { encodeHeader, OBJECT_CONTENT_TYPE } from "../common/framing.ts";
import { API_PREFIX, OBJECT_DATA_PATH } from "../common/messages.ts";
import { rawGet } from "../governor/raw_get.ts";
import { fetchHeader, holdersOf, watchHolder } from "./object_data.ts";
import type { Reactor } from "./reactor.ts";
import type { DataObject, Session } from "./state.ts";

const ROUTE = new RegExp(`^${API_PREFIX}/sessions/(\\d+)/objects/(\\d+)/data$`);
/** Blobs up to this size are read whole from a governor over a kept-alive connection. */
const SMALL_BYTES = 256 * 1024;
/** The copy's two buffers, and how full one is made before it is written. */
const COPY_BUFFER_BYTES = 1 << 20;
const FILL_BYTES = 512 * 1024;

export interface DirectFetchOptions {
  reactor: Reactor;
  /** True when requests must carry the secret in `Authorization: Bearer` (not `--insecure`). */
  secretRequired: boolean;
  /** Headers of requests to governors' data listeners (the cluster secret). */
  governorHeaders?: Record<string, string>;
  /** Settles once a restarted server's governors have reattached. */
  reattached?: Promise<void>;
}

/** A body to send: its length, read in turns into a buffer; `close` releases it. */
interface Source {
  length: number;
  readInto(into: Uint8Array): Promise<number | null>;
  close(): void;
}

/**
 * The request may be answered on the client port: it carries the right secret in its header, or
 * no secret is required. The client port takes the secret in the header only (server/auth.ts);
 * the guard's `authenticated` also accepts the monitoring cookie and ?token=.
 */
export function secretInHeader(request: DirectRequest, secretRequired: boolean): boolean {
  return request.authenticated && (!secretRequired || request.headers.has("authorization"));
}

/** The guard's `direct` hook for the client port. */
export function directFetch(options: DirectFetchOptions) {
  const { reactor } = options;
  return async (request: DirectRequest, conn: DirectConn): Promise<boolean> => {
    if (request.method !== "GET" || !secretInHeader(request, options.secretRequired)) return false;
    const m = ROUTE.exec(request.target);
    if (!m) return false;
    const session = reactor.sessions.get(Number(m[1]));
    const obj = session?.objects.get(Number(m[2]));
    if (session === undefined || obj === undefined || !plain(obj)) return false;
    await options.reattached;
    const outcome = await reactor.wait(session, [], [obj.id], "all");
    if (outcome.kind !== "done" || !plain(obj) || obj.state !== "finished") return false;
    const source = await open(session, obj, options.governorHeaders);
    if (source === undefined) return false;
    try {
      const head = encodeHeader(fetchHeader(obj));
      const status = new TextEncoder().encode(
        `HTTP/1.1 200 OK\r\ncontent-type: ${OBJECT_CONTENT_TYPE}\r\n` +
          `content-length: ${head.length + source.length}\r\nconnection: close\r\n\r\n`,
      );
      const first = new Uint8Array(status.length + head.length);
      first.set(status);
      first.set(head, status.length);
      await conn.write(first);
      await send(source, conn);
    } finally {
      source.close(); // the holder's connection (or the file)
    }
    return true;
  };
}

/** A kept blob not held in the server's memory: what the direct path answers. */
function plain(obj: DataObject): boolean {
  return obj.keep && obj.dataType === "blob" && obj.state !== "removed" &&
    obj.constantData() === undefined;
}

/** Copies the source to the connection through two buffers taking turns. */
async function send(source: Source, conn: DirectConn): Promise<void> {
  const sent = await copyInTurns((into) => source.readInto(into), (bytes) => conn.write(bytes), {
    bufferBytes: COPY_BUFFER_BYTES,
    fillBytes: FILL_BYTES,
  });
  // Shorter than announced: the client sees a short body and fetches again.
  if (sent !== source.length) throw new Error(`sent ${sent} of ${source.length} bytes`);
}

/** The object's bytes from the first holder that answers with them (undefined: none did). */
async function open(
  session: Session,
  obj: DataObject,
  headers?: Record<string, string>,
): Promise<Source | undefined> {
  if (obj.constantFile) {
    const file = await Deno.open(obj.constantFile).catch(() => undefined);
    return file && {
      length: obj.size,
      readInto: (into) => file.read(into),
      close: () => {
        try {
          file.close();
        } catch { /* closed */ }
      },
    };
  }
  const path = `${OBJECT_DATA_PATH}/${session.id}/${obj.id}`;
  const holders = holdersOf(obj);
  for (const [i, governor] of holders.entries()) {
    const read = watchHolder(governor, i < holders.length - 1);
    try {
      if (obj.size <= SMALL_BYTES) {
        // Small: the pooled connection of `fetch()` costs less than a connection per read.
        const response = await fetch(`http://${governor.id}${path}`, {
          headers,
          signal: read.signal,
        });
        const bytes = new Uint8Array(await response.arrayBuffer());
        read.done();
        if (response.ok && bytes.length === obj.size) {
          return memorySource(bytes);
        }
        continue;
      }
      const split = governor.id.lastIndexOf(":");
      const raw = await rawGet(
        governor.id.slice(0, split),
        Number(governor.id.slice(split + 1)),
        path,
        headers ?? {},
        read.signal,
      );
      read.answered();
      if (raw.length !== obj.size) {
        raw.close();
        read.done();
        continue;
      }
      return {
        length: raw.length,
        readInto: raw.readInto,
        close: () => {
          raw.close();
          read.done();
        },
      };
    } catch {
      read.done(); // lost, stalled, or no plain answer: the next holder, else the route
    }
  }
  return undefined;
}

/** Bytes read whole (at most SMALL_BYTES: they fit in one copy buffer). */
function memorySource(bytes: Uint8Array): Source {
  let done = false;
  return {
    length: bytes.length,
    readInto: (into) => {
      if (done) return Promise.resolve(null);
      done = true;
      into.set(bytes);
      return Promise.resolve(bytes.length);
    },
    close: () => {},
  };
}

/**
 * The client API: HTTP routes (hono) over the reactor. JSON for control, raw binary for data,
 * long-poll waits. See docs/protocol.md.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { encodeHeader, OBJECT_CONTENT_TYPE } from "../common/framing.ts";
import type {
  ConnectResponse,
  ErrorResponse,
  FetchHeader,
  WaitResponse,
} from "../common/messages.ts";
import { API_PREFIX, OBJECT_DATA_PATH } from "../common/messages.ts";
import { PROTOCOL_VERSION, RAIN_VERSION } from "../common/version.ts";
import { Logger } from "../common/log.ts";
import { TIMED_OUT, withTimeout } from "../common/timeout.ts";
import { ApiError } from "./errors.ts";
import type { Reactor } from "./reactor.ts";
import { objectSpec } from "./state.ts";
import type { DataObject, Session } from "./state.ts";
import { dropSpooled, readSubmit } from "./submit_reader.ts";
import { idList, intParam, isRecord, jsonBody } from "./api_input.ts";
import { planTasks } from "./submit.ts";

const log = new Logger("server");

/** Default and largest long-poll duration in seconds. */
const DEFAULT_WAIT_SECONDS = 30;
const MAX_WAIT_SECONDS = 300;
const HEARTBEAT_MS = 5000;

export interface ClientApiContext {
  reactor: Reactor;
  spoolDir: string;
  testMode: boolean;
  /** Stops the whole cluster (governors and server). */
  shutdown(): void;
  /** Headers of requests to governors' data listeners (the cluster secret). */
  governorHeaders?: Record<string, string>;
  /**
   * Open `/connect` streams; the server closes them when it shuts down (they never end by
   * themselves, and a graceful HTTP shutdown waits for every open response).
   */
  clientStreams?: Set<ReadableStreamDefaultController<Uint8Array>>;
}

export function clientApi(ctx: ClientApiContext): Hono {
  const { reactor } = ctx;
  const app = new Hono();

  app.onError((err, c) => errorResponse(c, err));
  app.notFound((c) =>
    c.json(
      { error: { kind: "NotFound", message: `no route ${c.req.method} ${c.req.path}` } },
      404,
    )
  );

  app.get(`${API_PREFIX}/connect`, () => {
    const client = reactor.newClient();
    const hello: ConnectResponse = {
      client_id: client.id,
      protocol_version: PROTOCOL_VERSION,
      server_version: RAIN_VERSION,
    };
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stream: ReadableStreamDefaultController<Uint8Array> | undefined;
    const gone = () => {
      clearInterval(timer);
      if (stream) ctx.clientStreams?.delete(stream);
      reactor.removeClient(client);
    };
    // A broken connection cancels the body stream: that is how a client leaving is seen.
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        stream = controller;
        ctx.clientStreams?.add(controller);
        controller.enqueue(new TextEncoder().encode(JSON.stringify(hello) + "\n"));
        timer = setInterval(() => {
          try {
            controller.enqueue(new Uint8Array([10]));
          } catch {
            gone();
          }
        }, HEARTBEAT_MS);
      },
      cancel: gone,
    });
    return new Response(body, {
      headers: { "content-type": "application/x-ndjson", "cache-control": "no-store" },
    });
  });

  app.post(`${API_PREFIX}/sessions`, async (c) => {
    const body = await jsonBody(c);
    let client = undefined;
    if (body.client_id !== undefined) {
      client = reactor.clients.get(body.client_id as number);
      if (!client) throw new ApiError("NotFound", `client ${body.client_id} is not connected`);
    }
    const spec = isRecord(body.spec) ? body.spec : {};
    const onFailure = spec.on_failure ?? "fail";
    if (onFailure !== "fail" && onFailure !== "continue") {
      throw new ApiError(
        "BadRequest",
        `on_failure must be "fail" or "continue", got ${JSON.stringify(onFailure)}`,
      );
    }
    const name = typeof spec.name === "string" ? spec.name : "Unnamed Session";
    const session = reactor.newSession(client, name, { ...spec, name });
    return c.json({ session_id: session.id });
  });

  app.post(`${API_PREFIX}/sessions/:sid/submit`, async (c) => {
    const session = reactor.liveSession(intParam(c, "sid"));
    const read = await readSubmit(c.req.raw.body, session, ctx.testMode, ctx.spoolDir);
    try {
      // The session may have failed or closed while the body was read.
      reactor.liveSession(session.id);
      const tasks = planTasks(session, read.header, read.objects);
      reactor.submit(
        session,
        { objects: read.objects, tasks, headerBytes: read.headerBytes },
        read.constants,
      );
    } catch (e) {
      await dropSpooled(read.constants);
      throw e;
    }
    return c.json({});
  });

  app.post(`${API_PREFIX}/sessions/:sid/wait`, async (c) => {
    const session = reactor.liveSession(intParam(c, "sid"));
    const body = await jsonBody(c);
    const tasks = idList(body.tasks, "tasks");
    const objects = idList(body.objects, "objects");
    const mode = body.mode ?? "all";
    if (mode !== "all" && mode !== "some") {
      throw new ApiError("BadRequest", `mode must be "all" or "some", got ${JSON.stringify(mode)}`);
    }
    const done = await waitWithTimeout(
      reactor.wait(session, tasks, objects, mode),
      seconds(body.timeout),
    );
    const finished = reactor.finishedAmong(session, tasks, objects);
    const answer: WaitResponse = { done, ...finished };
    return c.json(answer);
  });

  app.post(`${API_PREFIX}/sessions/:sid/wait_all`, async (c) => {
    const session = reactor.liveSession(intParam(c, "sid"));
    const body = await jsonBody(c);
    const done = await waitWithTimeout(reactor.waitAll(session), seconds(body.timeout));
    return c.json({ done });
  });

  app.post(`${API_PREFIX}/sessions/:sid/update`, async (c) => {
    const session = reactor.liveSession(intParam(c, "sid"));
    const body = await jsonBody(c);
    return c.json(
      reactor.update(session, idList(body.tasks, "tasks"), idList(body.objects, "objects")),
    );
  });

  app.post(`${API_PREFIX}/sessions/:sid/unkeep`, async (c) => {
    const session = reactor.liveSession(intParam(c, "sid"));
    const body = await jsonBody(c);
    reactor.unkeep(session, idList(body.objects, "objects"));
    return c.json({});
  });

  app.post(`${API_PREFIX}/sessions/:sid/cancel`, async (c) => {
    const session = reactor.liveSession(intParam(c, "sid"));
    const body = await jsonBody(c);
    return c.json({ tasks: reactor.cancelTasks(session, idList(body.tasks, "tasks")) });
  });

  app.get(`${API_PREFIX}/sessions/:sid/failed_tasks`, (c) => {
    const session = reactor.liveSession(intParam(c, "sid"));
    return c.json({ tasks: reactor.failedTasks(session) });
  });

  app.post(`${API_PREFIX}/sessions/:sid/rerun_failed`, (c) => {
    const session = reactor.liveSession(intParam(c, "sid"));
    return c.json({ tasks: reactor.rerunFailed(session) });
  });

  app.post(`${API_PREFIX}/sessions/:sid/close`, (c) => {
    const sid = intParam(c, "sid");
    const session = reactor.sessions.get(sid);
    if (session) reactor.closeSession(session);
    else reactor.session(sid); // throws NotFound for unknown ids; closing twice is fine
    return c.json({});
  });

  app.get(`${API_PREFIX}/sessions/:sid/objects/:id/data`, async (c) => {
    const session = reactor.liveSession(intParam(c, "sid"));
    const id = intParam(c, "id");
    const obj = session.objects.get(id);
    const name = `object ${session.id}/${id}`;
    if (!obj) throw new ApiError("NotFound", `${name} was not submitted`);
    if (!obj.keep) {
      throw new ApiError("NotAvailable", `${name} is not kept, so it cannot be fetched`);
    }
    let data: ReadableStream<Uint8Array> | undefined;
    for (let attempt = 1; data === undefined; attempt++) {
      const outcome = await reactor.wait(session, [], [id], "all");
      if (outcome.kind === "failed") throw new ApiError("SessionFailed", outcome.error);
      if (outcome.kind === "taskFailed") throw new ApiError("TaskFailed", outcome.error);
      if (outcome.kind === "closed") {
        throw new ApiError("SessionClosed", `session ${session.id} is closed`);
      }
      if (obj.state === "removed") throw new ApiError("NotAvailable", `${name} was removed`);
      try {
        data = await openObjectData(session, obj, ctx.governorHeaders);
      } catch (e) {
        // Its governor died as we asked: once the loss is seen (at once for a closed link) the
        // object is recomputed (reactor/recovery.ts) and the wait above waits for it.
        if (attempt >= FETCH_ATTEMPTS) throw e;
        if (obj.state === "finished") await new Promise((r) => setTimeout(r, FETCH_RETRY_MS));
      }
    }
    const header: FetchHeader = {
      id,
      data_type: obj.dataType,
      content_type: obj.info.content_type ?? obj.contentType,
      size: obj.size,
      spec: objectSpec(obj),
      info: obj.info,
    };
    return new Response(prepend(encodeHeader(header), data), {
      headers: { "content-type": OBJECT_CONTENT_TYPE },
    });
  });

  /** Large client constants, fetched by governors. */
  app.get(`${API_PREFIX}/constants/:sid/:id`, async (c) => {
    const session = reactor.session(intParam(c, "sid"));
    const id = intParam(c, "id");
    const obj = session.objects.get(id);
    if (!obj?.isConstant) {
      throw new ApiError("NotFound", `object ${session.id}/${id} has no client data here`);
    }
    return new Response(await openObjectData(session, obj), {
      headers: { "content-length": String(obj.size) },
    });
  });

  app.get(`${API_PREFIX}/server_info`, (c) => c.json(reactor.serverInfo()));

  // `rain drain`: answers at once; the governor stops when drained (it leaves server_info).
  app.post(`${API_PREFIX}/governors/drain`, async (c) => {
    const body = await jsonBody(c);
    const id = body.governor;
    if (typeof id !== "string") throw new ApiError("BadRequest", "'governor' must be a string");
    const governor = reactor.governors.get(id);
    if (!governor) throw new ApiError("NotFound", `governor ${id} is not registered`);
    reactor.drainGovernor(governor);
    return c.json({});
  });

  app.post(`${API_PREFIX}/shutdown`, (c) => {
    log.info("shutdown requested by a client");
    queueMicrotask(() => ctx.shutdown());
    return c.json({});
  });

  return app;
}

/** Reads of a kept object tried before a fetch fails (its holders may die meanwhile). */
const FETCH_ATTEMPTS = 5;
/** Pause before trying holders again when none answered and no loss was seen yet. */
const FETCH_RETRY_MS = 200;

/** The object's bytes: client data held by the server, or streamed from a governor. */
async function openObjectData(
  session: Session,
  obj: DataObject,
  headers?: Record<string, string>,
): Promise<ReadableStream<Uint8Array>> {
  const data = obj.constantData();
  if (data) return new Blob([data as BlobPart]).stream();
  if (obj.constantFile) return (await Deno.open(obj.constantFile)).readable;
  const errors: string[] = [];
  for (const governor of obj.locations) {
    const url = `http://${governor.id}${OBJECT_DATA_PATH}/${session.id}/${obj.id}`;
    try {
      const response = await fetch(url, { headers });
      if (response.ok && response.body) return response.body;
      errors.push(`${governor.id}: HTTP ${response.status} ${await response.text()}`);
    } catch (e) {
      errors.push(`${governor.id}: ${(e as Error).message}`);
    }
  }
  throw new ApiError(
    "NotAvailable",
    `object ${session.id}/${obj.id} could not be read from any governor holding it` +
      (errors.length ? `: ${errors.join("; ")}` : " (none holds it)"),
  );
}

function prepend(head: Uint8Array, rest: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const reader = rest.getReader();
  let headSent = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!headSent) {
        headSent = true;
        controller.enqueue(head);
        return;
      }
      const { value, done } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}

async function waitWithTimeout(
  waiting: Promise<import("./state.ts").WaitOutcome>,
  timeoutSeconds: number,
): Promise<boolean> {
  const outcome = await withTimeout(waiting, timeoutSeconds * 1000);
  if (outcome === TIMED_OUT) return false;
  if (outcome.kind === "failed") throw new ApiError("SessionFailed", outcome.error);
  if (outcome.kind === "taskFailed") throw new ApiError("TaskFailed", outcome.error);
  if (outcome.kind === "closed") throw new ApiError("SessionClosed", "the session was closed");
  return true;
}

function seconds(value: unknown): number {
  if (value === undefined || value === null) return DEFAULT_WAIT_SECONDS;
  if (typeof value !== "number" || !(value >= 0)) {
    throw new ApiError("BadRequest", `timeout must be a non-negative number of seconds`);
  }
  return Math.min(value, MAX_WAIT_SECONDS);
}

function errorResponse(c: Context, err: Error): Response {
  if (err instanceof ApiError) {
    const body: ErrorResponse = { error: { kind: err.kind, message: err.message } };
    return c.json(body, err.status as 400);
  }
  log.error(`internal error on ${c.req.method} ${c.req.path}: ${err.stack ?? err}`);
  const body: ErrorResponse = { error: { kind: "Internal", message: String(err.message) } };
  return c.json(body, 500);
}

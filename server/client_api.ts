/**
 * The client API: HTTP routes (hono) over the reactor. JSON for control, raw binary for data,
 * long-poll waits. See docs/protocol.md.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { encodeHeader, OBJECT_CONTENT_TYPE } from "../common/framing.ts";
import type { ConnectResponse, ErrorResponse, WaitResponse } from "../common/messages.ts";
import { API_PREFIX } from "../common/messages.ts";
import { PROTOCOL_VERSION, RAIN_VERSION } from "../common/version.ts";
import { Logger } from "../common/log.ts";
import { TIMED_OUT, withTimeout } from "../common/timeout.ts";
import { ApiError } from "./errors.ts";
import type { Reactor } from "./reactor.ts";
import type { Client } from "./state.ts";
import { FETCH_ATTEMPTS, FETCH_RETRY_MS, fetchHeader, openObjectData } from "./object_data.ts";
import { dropSpooled, readSubmitPlan } from "./submit_reader.ts";
import { idList, intParam, isRecord, jsonBody } from "./api_input.ts";
import type { EventSource } from "./events/source.ts";
import { taskOutputApi } from "./events/task_output.ts";
import type { JournalSink } from "./journal/records.ts";
import type { SavedBody } from "./journal/journal.ts";

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
  /** The event log, where tasks' output is read (`task.logs()`); none: the log is off. */
  events?: EventSource;
  /** The journal (server/journal/): submits are durable before they are answered. */
  journal?: JournalSink;
  /** A restored client connecting again (`GET /connect?client=ID`), if it is one. */
  resumeClient?: (id: number) => Client | undefined;
  /** Settles once a restarted server's governors have reattached (reactor/reattach.ts). */
  reattached?: Promise<void>;
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

  app.get(`${API_PREFIX}/connect`, (c) => {
    // A client of a restarted server connects again under its id (its sessions were restored).
    const resume = Number(c.req.query("client"));
    const client = (Number.isSafeInteger(resume) ? ctx.resumeClient?.(resume) : undefined) ??
      reactor.newClient();
    ctx.journal?.journal.flush(); // its sessions name it: on disk before it can open one
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
    await ctx.journal?.journal.durable();
    return c.json({ session_id: session.id });
  });

  // Submits of one session are applied one at a time (each is checked against the last).
  const submitting = new Map<number, Promise<unknown>>();
  app.post(`${API_PREFIX}/sessions/:sid/submit`, async (c) => {
    const sid = intParam(c, "sid");
    reactor.liveSession(sid);
    const previous = submitting.get(sid) ?? Promise.resolve();
    const run = previous.catch(() => {}).then(() => applySubmit(sid, c.req.raw));
    submitting.set(sid, run);
    try {
      await run;
    } finally {
      if (submitting.get(sid) === run) submitting.delete(sid);
    }
    return c.json({});
  });

  /**
   * Saves the body as received (journal), decodes and checks it, makes it durable, applies it.
   * The same body sent again (a client retrying after a lost answer) is recognised and not
   * applied twice.
   */
  async function applySubmit(sid: number, request: Request): Promise<void> {
    const session = reactor.liveSession(sid);
    const contentType = request.headers.get("content-type") ?? undefined;
    const journal = ctx.journal;
    let body = request.body;
    let saved: SavedBody | undefined;
    if (journal && body) {
      saved = await journal.journal.saveBody(body).catch((e) => {
        // The journal's own files failing is the server's fault, not the client's.
        if (
          e instanceof Deno.errors.AlreadyExists || e instanceof Deno.errors.NotFound ||
          e instanceof Deno.errors.PermissionDenied
        ) throw e;
        // The client stopped sending (or the connection broke) before the body's end.
        throw new ApiError(
          "BadRequest",
          `submit body cut short: ${e instanceof Error ? e.message : String(e)}`,
        );
      });
      if (journal.applied(sid, saved)) {
        journal.journal.removeBody(saved.name);
        return;
      }
      body = (await Deno.open(saved.path)).readable;
    }
    let journaled = false;
    try {
      const read = await readSubmitPlan(body, contentType, session, ctx.testMode, ctx.spoolDir);
      try {
        // The session may have failed or closed while the body was read.
        reactor.liveSession(session.id);
        reactor.checkSubmit(session, read.plan);
        if (journal && saved) {
          journaled = true;
          await journal.submitted(sid, saved, contentType);
        }
        reactor.submit(session, read.plan, read.constants, true);
      } catch (e) {
        await dropSpooled(read.constants);
        throw e;
      }
    } catch (e) {
      if (saved && !journaled) journal?.journal.removeBody(saved.name);
      throw e;
    }
  }

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
    const tasks = idList(body.tasks, "tasks");
    ctx.journal?.command({ k: "cancel", s: session.id, tasks });
    const cancelled = reactor.cancelTasks(session, tasks);
    await ctx.journal?.journal.durable();
    return c.json({ tasks: cancelled });
  });

  app.get(`${API_PREFIX}/sessions/:sid/failed_tasks`, (c) => {
    const session = reactor.liveSession(intParam(c, "sid"));
    return c.json({ tasks: reactor.failedTasks(session) });
  });

  app.post(`${API_PREFIX}/sessions/:sid/rerun_failed`, async (c) => {
    const session = reactor.liveSession(intParam(c, "sid"));
    ctx.journal?.command({ k: "rerun_failed", s: session.id });
    const tasks = reactor.rerunFailed(session);
    await ctx.journal?.journal.durable();
    return c.json({ tasks });
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
    // After a restart, where copies are is known once the governors are back.
    await ctx.reattached;
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
    return new Response(prepend(encodeHeader(fetchHeader(obj)), data), {
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

  // Tasks' output (issue 17), from the event log.
  app.route("/", taskOutputApi(ctx.events));

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

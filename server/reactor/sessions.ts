/**
 * Clients and sessions: opening and closing them, a session's failure, submits and unkeep.
 */
import type { SessionId } from "../../common/ids.ts";
import { Logger } from "../../common/log.ts";
import { ApiError } from "../errors.ts";
import {
  describeRequest,
  describeResources,
  neverFits,
  resourceAmount,
  type ResourceRequest,
} from "../../common/resources.ts";
import {
  addConsumer,
  Client,
  DataObject,
  type GovernorState,
  NO_GOVERNORS,
  Session,
  sizeInfo,
  Task,
} from "../state.ts";
import type { PlannedObject, SubmitPlan } from "../submit.ts";
import { type ReactorContext, touch } from "./core.ts";
import { dropConstant, releaseIfUnneeded } from "./objects.ts";
import { makeReady, releaseTask } from "./placement.ts";
import { settleAll } from "./queries.ts";

const log = new Logger("server");

/** Client data of a constant object, read from a submit body. */
export interface ConstantData {
  data?: Uint8Array;
  file?: string;
  size: number;
}

export function newClient(ctx: ReactorContext): Client {
  const core = ctx.core;
  const client = new Client(core.nextClientId++);
  core.clients.set(client.id, client);
  ctx.events?.push({ type: "ClientNew", time: Date.now(), client: client.id });
  log.info(`client ${client.id} connected`);
  return client;
}

/** The client disconnected: its sessions close. */
export function removeClient(ctx: ReactorContext, client: Client): void {
  if (!ctx.core.clients.delete(client.id)) return;
  for (const session of [...client.sessions]) closeSession(ctx, session);
  ctx.events?.push({ type: "ClientRemoved", time: Date.now(), client: client.id });
  log.info(`client ${client.id} disconnected`);
}

export function newSession(
  ctx: ReactorContext,
  client: Client | undefined,
  name: string,
  spec: Record<string, unknown> = { name },
): Session {
  const core = ctx.core;
  const session = new Session(core.nextSessionId++, client, name);
  if (spec.on_failure === "continue") session.onFailure = "continue";
  // Opted into waiting for a governor big enough for its tasks (see checkSatisfiable).
  if (spec.wait_for_resources === true) session.waitForResources = true;
  core.sessions.set(session.id, session);
  client?.sessions.add(session);
  ctx.events?.push({
    type: "SessionNew",
    time: Date.now(),
    session: session.id,
    client: client?.id ?? null,
    spec,
  });
  return session;
}

/** The session, or an error saying why it is not available. */
export function session(ctx: ReactorContext, id: SessionId): Session {
  const found = ctx.core.sessions.get(id);
  if (found) return found;
  if (ctx.core.isClosedSession(id)) {
    throw new ApiError("SessionClosed", `session ${id} is closed`);
  }
  throw new ApiError("NotFound", `session ${id} does not exist`);
}

/** Like `session()`, and also fails if the session failed. */
export function liveSession(ctx: ReactorContext, id: SessionId): Session {
  const found = session(ctx, id);
  if (found.error !== undefined) throw new ApiError("SessionFailed", found.error);
  return found;
}

export function closeSession(ctx: ReactorContext, session: Session): void {
  if (session.closed) return;
  session.closed = true;
  ctx.core.sessions.delete(session.id);
  session.client?.sessions.delete(session);
  if (session.error === undefined) {
    stopSessionWork(ctx, session);
    ctx.events?.push({
      type: "SessionClosed",
      time: Date.now(),
      session: session.id,
      reason: "ClientClose",
      message: "",
    });
  }
  settleAll(session, { kind: "closed" });
  for (const obj of session.objects.values()) dropConstant(ctx, obj);
  log.info(`session ${session.id} closed`);
}

/** The first failing task fails the whole session; other sessions are unaffected. */
export function failSession(ctx: ReactorContext, session: Session, error: string): void {
  if (session.error !== undefined || session.closed) return;
  session.error = error;
  log.info(`session ${session.id} failed: ${error.split("\n")[0]}`);
  ctx.events?.push({
    type: "SessionClosed",
    time: Date.now(),
    session: session.id,
    reason: "Error",
    message: error,
  });
  stopSessionWork(ctx, session);
  settleAll(session, { kind: "failed", error });
}

/** Tells governors to drop the session's work and data, and forgets where it lived. */
function stopSessionWork(ctx: ReactorContext, session: Session): void {
  for (const governor of ctx.core.governors.values()) {
    ctx.comm.send(governor.id, { type: "close_session", session: session.id });
    for (const obj of governor.toDelete) {
      if (obj.session === session) governor.toDelete.delete(obj);
    }
  }
  for (const task of session.tasks.values()) {
    if (task.governor && !task.finished) releaseTask(ctx, task);
  }
  for (const obj of session.objects.values()) obj.locations = NO_GOVERNORS;
  touch(ctx);
}

/** Answers every blocked wait as "closed" (the server is shutting down). */
export function releaseWaiters(ctx: ReactorContext): void {
  for (const session of ctx.core.sessions.values()) settleAll(session, { kind: "closed" });
}

/** Applies a validated submit (see submit.ts). */
export function submit(
  ctx: ReactorContext,
  session: Session,
  plan: SubmitPlan,
  constants: Map<number, ConstantData>,
  checked = false,
): void {
  if (!checked && !session.waitForResources) checkSatisfiable(ctx, session, plan);
  const sid = session.id;
  ctx.events?.push({ type: "ClientSubmit", time: Date.now(), session: sid, plan });
  const block = constantBlock(constants);
  let blockOffset = 0;
  for (const p of plan.objects) {
    const obj = new DataObject(
      session,
      p.id,
      p.dataType,
      p.keep,
      p.label,
      p.contentType,
      p.user,
    );
    const constant = constants.get(p.id);
    if (constant) {
      if (constant.data) {
        block!.set(constant.data, blockOffset);
        obj.constantBlock = block;
        obj.constantOffset = blockOffset;
        blockOffset += constant.data.length;
      } else obj.constantFile = constant.file;
      obj.size = constant.size;
      obj.state = "finished";
      obj.info = p.contentType
        ? { size: constant.size, content_type: p.contentType }
        : sizeInfo(constant.size);
    }
    if (p.testHint) applyTestHint(ctx, obj, p);
    session.objects.set(p.id, obj);
  }
  const newTasks: Task[] = [];
  for (const p of plan.tasks) {
    const inputs = p.inputs.map((id) => session.objects.get(id)!);
    const outputs = p.outputs.map((id) => session.objects.get(id)!);
    const task = new Task(
      session,
      p.id,
      ownString(p.taskType),
      p.config,
      inputs,
      p.inputLabels,
      outputs,
      p.cpus,
      p.name,
      p.user,
    );
    if (p.request !== undefined) task.request = p.request;
    if (p.policy !== undefined) {
      task.policy = p.policy;
      task.crashLimit = p.policy.crash_limit;
    }
    session.tasks.set(p.id, task);
    for (const o of outputs) o.producer = task;
    newTasks.push(task);
  }
  for (const task of newTasks) {
    for (const input of task.inputs) {
      addConsumer(input, task);
      input.pendingConsumers++;
      if (input.state !== "finished") task.waitingInputs++;
    }
  }
  session.unfinishedTasks += newTasks.length;
  session.submittedTasks += newTasks.length;
  for (const task of newTasks) {
    if (task.waitingInputs === 0) makeReady(ctx, task);
  }
  // Constants nobody consumes and nobody keeps are not needed.
  for (const p of plan.objects) {
    const obj = session.objects.get(p.id)!;
    if (obj.state === "finished") releaseIfUnneeded(ctx, obj);
  }
  log.debug(`session ${sid}: submitted ${newTasks.length} tasks, ${plan.objects.length} objects`);
  touch(ctx);
}

/**
 * Distinct strings of submits, each copied once: a string read from a submit's JSON may be a
 * slice of the whole header's text and keep all of it alive (V8 slices strings of 13+ chars).
 */
const OWN_STRINGS = new Map<string, string>();

function ownString(text: string): string {
  let own = OWN_STRINGS.get(text);
  if (own === undefined) {
    if (OWN_STRINGS.size >= 10_000) OWN_STRINGS.clear(); // task types are few; bound it anyway
    own = [...text].join("");
    OWN_STRINGS.set(own, own);
  }
  return own;
}

/**
 * One buffer for all the in-memory constants of a submit: a buffer of its own per constant costs
 * ~200 bytes beyond its data (a million tasks of two tiny constants: 400 MB).
 */
function constantBlock(constants: Map<number, ConstantData>): Uint8Array | undefined {
  let bytes = 0, any = false;
  for (const c of constants.values()) {
    if (c.data) {
      bytes += c.data.length;
      any = true;
    }
  }
  return any ? new Uint8Array(bytes) : undefined;
}

/**
 * Rejects a submit with a task that no connected governor can ever run (it would wait forever),
 * naming the task, its request and the largest governor. With no governor connected yet there
 * is nothing to judge by, so everything waits.
 */
export function checkSatisfiable(
  ctx: ReactorContext,
  session: Session,
  plan: SubmitPlan,
): void {
  const governors = [...ctx.core.governors.values()];
  if (governors.length === 0) return;
  // Tasks asking the same are judged once: a million tasks ask for a handful of things.
  const judged = new Set<string>();
  for (const p of plan.tasks) {
    const key = p.request === undefined ? String(p.cpus) : JSON.stringify(p.request);
    if (judged.has(key)) continue;
    const request: ResourceRequest = p.request ?? { cpus: p.cpus };
    const lacking = governors.map((g) => neverFits(request, g.resources));
    if (lacking.some((l) => l === undefined)) {
      judged.add(key);
      continue;
    }
    // The largest governor: the one with the most of what the task lacks on the first one.
    const amount = (g: GovernorState): number => resourceAmount(g.resources, lacking[0]!);
    const largest = governors.reduce((a, b) => amount(b) > amount(a) ? b : a);
    throw new ApiError(
      "InvalidGraph",
      `task ${session.id}/${p.id}${p.name === undefined ? "" : ` (${p.name})`} asks ` +
        `for ${describeRequest(request)}, which no connected governor can ever give ` +
        `(${lacking[0]}); the largest is ${largest.id} with ${
          describeResources(largest.resources)
        }. Add such a governor, or open the session with {"wait_for_resources": true} to wait ` +
        `for one`,
    );
  }
}

/** `RAIN_TEST_MODE`: the object pretends to be finished on the governors named. */
function applyTestHint(ctx: ReactorContext, obj: DataObject, p: PlannedObject): void {
  const hint = p.testHint!;
  if (obj.constantBlock !== undefined) obj.constantLength = obj.size;
  obj.size = hint.size;
  obj.testLocations = hint.governors.flatMap((id) => ctx.core.governors.get(id) ?? []);
  if (!obj.isConstant) {
    obj.state = "finished";
    obj.info = { size: hint.size };
  }
}

/** The client no longer needs these objects kept; all-or-nothing. */
export function unkeep(ctx: ReactorContext, session: Session, ids: number[]): void {
  const objects = ids.map((id) => {
    const obj = session.objects.get(id);
    if (!obj) throw new ApiError("NotFound", `object ${session.id}/${id} does not exist`);
    if (!obj.keep) throw new ApiError("BadRequest", `object ${session.id}/${id} is not kept`);
    return obj;
  });
  ctx.events?.push({
    type: "ClientUnkeep",
    time: Date.now(),
    session: session.id,
    objects: ids,
  });
  for (const obj of objects) {
    obj.keep = false;
    releaseIfUnneeded(ctx, obj);
  }
}

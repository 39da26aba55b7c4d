/**
 * The server's reactor: every state change, driven by client requests and governor messages.
 * It talks to governors only through `GovernorComm` and decides placement only through a
 * `Scheduler`, so it is tested without sockets. Work per task event is O(1) (plus the task's
 * own inputs and outputs); scheduling and sending happen once per turn, batched.
 */
import type { ObjectInfo, ObjectState, TaskInfo, TaskState } from "../common/attributes.ts";
import type { ClientId, GovernorId, Id, SessionId } from "../common/ids.ts";
import type {
  AssignedTask,
  DataTransfersMessage,
  MonitoringMessage,
  ObjectSource,
  ServerInfoResponse,
  TaskFailedMessage,
  TaskFinishedMessage,
  TaskStartedMessage,
  ToGovernor,
  UpdateResponse,
} from "../common/messages.ts";
import { Logger } from "../common/log.ts";
import { ApiError } from "./errors.ts";
import type { EventSink } from "./events.ts";
import type { Scheduler } from "./scheduler.ts";
import {
  addConsumer,
  addLocation,
  Client,
  DataObject,
  GovernorState,
  NO_GOVERNORS,
  objectSpec,
  removeLocation,
  Session,
  Task,
  taskSpec,
  type Waiter,
  type WaitOutcome,
} from "./state.ts";
import type { PlannedObject, SubmitPlan } from "./submit.ts";

/** Messages to governors; the implementation batches them until `flush()`. */
export interface GovernorComm {
  send(governor: GovernorId, message: ToGovernor): void;
  flush(): void;
}

/** Constants up to this size travel inside `assign_tasks`; larger ones are fetched by URL. */
export const INLINE_CONSTANT_LIMIT = 256 * 1024;

/** Client data of a constant object, read from a submit body. */
export interface ConstantData {
  data?: Uint8Array;
  file?: string;
  size: number;
}

export interface ReactorOptions {
  testMode?: boolean;
  /** Called with files of constants that are no longer needed (to delete them). */
  dropFile?: (path: string) => void;
  /** The event log (docs/events.md); told of every state change. */
  events?: EventSink;
  /** Numbering continues an earlier server's over the same event log. */
  firstSessionId?: SessionId;
  firstClientId?: ClientId;
}

const log = new Logger("server");

export class Reactor {
  readonly clients = new Map<ClientId, Client>();
  readonly sessions = new Map<SessionId, Session>();
  readonly governors = new Map<GovernorId, GovernorState>();
  /** Ids of sessions that were closed, to tell "closed" from "never existed". */
  readonly closedSessions = new Set<SessionId>();
  #nextClientId = 1;
  #nextSessionId = 1;
  #turnQueued = false;
  /** delete_objects being collected this turn, per governor. */
  #deletes = new Map<GovernorState, Id[]>();
  readonly #events: EventSink | undefined;

  constructor(
    readonly comm: GovernorComm,
    readonly scheduler: Scheduler,
    readonly options: ReactorOptions = {},
  ) {
    this.#events = options.events;
    this.#nextSessionId = options.firstSessionId ?? 1;
    this.#nextClientId = options.firstClientId ?? 1;
  }

  // -------------------------------------------------------------------------------------------
  // Turns: changes accumulate; at the end of the turn tasks are placed and messages sent.

  #touch(): void {
    if (this.#turnQueued) return;
    this.#turnQueued = true;
    queueMicrotask(() => this.endTurn());
  }

  /** Places ready tasks and sends everything queued. Called automatically once per turn. */
  endTurn(): void {
    this.#turnQueued = false;
    this.#assign();
    for (const [governor, objects] of this.#deletes) {
      this.comm.send(governor.id, { type: "delete_objects", objects });
    }
    this.#deletes.clear();
    this.comm.flush();
  }

  #assign(): void {
    const assignments = this.scheduler.schedule();
    if (assignments.length === 0) return;
    const batches = new Map<GovernorState, AssignedTask[]>();
    for (const { task, governor } of assignments) {
      task.state = "assigned";
      task.governor = governor;
      governor.tasks.add(task);
      let batch = batches.get(governor);
      if (!batch) batches.set(governor, batch = []);
      batch.push({
        spec: taskSpec(task),
        inputs: task.inputs.map((obj) => {
          const input: AssignedTask["inputs"][number] = {
            spec: objectSpec(obj),
            size: obj.size,
            source: this.#sourceFor(obj, governor),
          };
          const { content_type, user } = obj.info;
          if (content_type && content_type !== obj.contentType) {
            input.info = { content_type };
          }
          if (user) input.info = { ...input.info, user };
          return input;
        }),
        outputs: task.outputs.map(objectSpec),
      });
    }
    for (const [governor, tasks] of batches) {
      this.comm.send(governor.id, { type: "assign_tasks", tasks });
    }
  }

  #sourceFor(obj: DataObject, governor: GovernorState): ObjectSource {
    if (obj.locations.includes(governor)) return { kind: "local" };
    if (obj.constant) {
      // An evicted copy of a constant that is used again: the governor revives it if it still
      // holds it, else stores the data sent now; either way it is no longer to be deleted.
      if (governor.toDelete.delete(obj)) this.#cancelPendingDelete(governor, obj);
      if (obj.constant.data) {
        // The governor stores inline data when it reads the message, so later tasks say "local".
        addLocation(obj, governor);
        return { kind: "inline", data: obj.constant.data };
      }
      return { kind: "server" };
    }
    return { kind: "governors", governors: obj.locations.map((g) => g.id) };
  }

  // -------------------------------------------------------------------------------------------
  // Clients and sessions

  newClient(): Client {
    const client = new Client(this.#nextClientId++);
    this.clients.set(client.id, client);
    this.#events?.push({ type: "ClientNew", time: Date.now(), client: client.id });
    log.info(`client ${client.id} connected`);
    return client;
  }

  removeClient(client: Client): void {
    if (!this.clients.delete(client.id)) return;
    for (const session of [...client.sessions]) this.closeSession(session);
    this.#events?.push({ type: "ClientRemoved", time: Date.now(), client: client.id });
    log.info(`client ${client.id} disconnected`);
  }

  newSession(
    client: Client | undefined,
    name: string,
    spec: Record<string, unknown> = { name },
  ): Session {
    const session = new Session(this.#nextSessionId++, client, name);
    this.sessions.set(session.id, session);
    client?.sessions.add(session);
    this.#events?.push({
      type: "SessionNew",
      time: Date.now(),
      session: session.id,
      client: client?.id ?? null,
      spec,
    });
    return session;
  }

  /** The session, or an error saying why it is not available. */
  session(id: SessionId): Session {
    const session = this.sessions.get(id);
    if (session) return session;
    if (this.closedSessions.has(id)) throw new ApiError("SessionClosed", `session ${id} is closed`);
    throw new ApiError("NotFound", `session ${id} does not exist`);
  }

  /** Like `session()`, and also fails if the session failed. */
  liveSession(id: SessionId): Session {
    const session = this.session(id);
    if (session.error !== undefined) throw new ApiError("SessionFailed", session.error);
    return session;
  }

  closeSession(session: Session): void {
    if (session.closed) return;
    session.closed = true;
    this.sessions.delete(session.id);
    this.closedSessions.add(session.id);
    session.client?.sessions.delete(session);
    if (session.error === undefined) {
      this.#stopSessionWork(session);
      this.#events?.push({
        type: "SessionClosed",
        time: Date.now(),
        session: session.id,
        reason: "ClientClose",
        message: "",
      });
    }
    this.#settleAll(session, { kind: "closed" });
    for (const obj of session.objects.values()) this.#dropConstant(obj);
    log.info(`session ${session.id} closed`);
  }

  /** Tells governors to drop the session's work and data, and forgets where it lived. */
  #stopSessionWork(session: Session): void {
    for (const governor of this.governors.values()) {
      this.comm.send(governor.id, { type: "close_session", session: session.id });
      for (const obj of governor.toDelete) {
        if (obj.session === session) governor.toDelete.delete(obj);
      }
    }
    for (const task of session.tasks.values()) {
      if (task.governor && !task.finished) this.#release(task);
    }
    for (const obj of session.objects.values()) obj.locations = NO_GOVERNORS;
    this.#touch();
  }

  /** The first failing task fails the whole session; other sessions are unaffected. */
  failSession(session: Session, error: string): void {
    if (session.error !== undefined || session.closed) return;
    session.error = error;
    log.info(`session ${session.id} failed: ${error.split("\n")[0]}`);
    this.#events?.push({
      type: "SessionClosed",
      time: Date.now(),
      session: session.id,
      reason: "Error",
      message: error,
    });
    this.#stopSessionWork(session);
    this.#settleAll(session, { kind: "failed", error });
  }

  /** Answers every blocked wait as "closed" (the server is shutting down). */
  releaseWaiters(): void {
    for (const session of this.sessions.values()) this.#settleAll(session, { kind: "closed" });
  }

  #settleAll(session: Session, outcome: WaitOutcome): void {
    const settle = (w: Waiter) => settleWaiter(w, outcome);
    session.allWaiters.forEach(settle);
    session.allWaiters = [];
    for (const task of session.tasks.values()) {
      task.waiters?.forEach(settle);
      task.waiters = undefined;
    }
    for (const obj of session.objects.values()) {
      obj.waiters?.forEach(settle);
      obj.waiters = undefined;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Submit

  /** Applies a validated submit (see submit.ts). */
  submit(session: Session, plan: SubmitPlan, constants: Map<number, ConstantData>): void {
    const sid = session.id;
    this.#events?.push({ type: "ClientSubmit", time: Date.now(), session: sid, plan });
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
        obj.constant = { data: constant.data, file: constant.file };
        obj.size = constant.size;
        obj.state = "finished";
        obj.info = p.contentType
          ? { size: constant.size, content_type: p.contentType }
          : { size: constant.size };
      }
      if (p.testHint) this.#applyTestHint(obj, p);
      session.objects.set(p.id, obj);
    }
    const newTasks: Task[] = [];
    for (const p of plan.tasks) {
      const inputs = p.inputs.map((id) => session.objects.get(id)!);
      const outputs = p.outputs.map((id) => session.objects.get(id)!);
      const task = new Task(
        session,
        p.id,
        p.taskType,
        p.config,
        inputs,
        p.inputLabels,
        outputs,
        p.cpus,
        p.name,
        p.user,
      );
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
      if (task.waitingInputs === 0) this.#makeReady(task);
    }
    // Constants nobody consumes and nobody keeps are not needed.
    for (const p of plan.objects) {
      const obj = session.objects.get(p.id)!;
      if (obj.state === "finished") this.#releaseIfUnneeded(obj);
    }
    log.debug(`session ${sid}: submitted ${newTasks.length} tasks, ${plan.objects.length} objects`);
    this.#touch();
  }

  #applyTestHint(obj: DataObject, p: PlannedObject): void {
    const hint = p.testHint!;
    obj.size = hint.size;
    obj.testLocations = hint.governors.flatMap((id) => this.governors.get(id) ?? []);
    if (!obj.constant) {
      obj.state = "finished";
      obj.info = { size: hint.size };
    }
  }

  #makeReady(task: Task): void {
    task.state = "ready";
    this.scheduler.taskReady(task);
  }

  // -------------------------------------------------------------------------------------------
  // Objects

  /**
   * Removes the object if no one needs it any more (not kept, no pending consumer). A client
   * constant stays usable by later submits until its session closes (Rain 0.4): the server keeps
   * its data and only the governors' copies go.
   */
  #releaseIfUnneeded(obj: DataObject): void {
    if (obj.keep || obj.pendingConsumers > 0 || obj.state === "removed") return;
    if (obj.state === "unfinished") return; // removed when it is produced
    if (obj.constant) {
      this.#deleteCopies(obj);
      return;
    }
    obj.state = "removed";
    this.#deleteCopies(obj);
    this.#dropConstant(obj);
  }

  /** Tells the governors holding the object to delete it (at the end of the turn). */
  #deleteCopies(obj: DataObject): void {
    if (obj.locations.length === 0) return;
    for (const governor of obj.locations) {
      governor.toDelete.add(obj);
      let list = this.#deletes.get(governor);
      if (!list) this.#deletes.set(governor, list = []);
      list.push(obj.fullId);
    }
    obj.locations = NO_GOVERNORS;
    this.#touch();
  }

  /** Takes the object out of this turn's not yet sent `delete_objects` to the governor. */
  #cancelPendingDelete(governor: GovernorState, obj: DataObject): void {
    const list = this.#deletes.get(governor);
    if (!list) return;
    const kept = list.filter(([sid, id]) => sid !== obj.session.id || id !== obj.id);
    if (kept.length) this.#deletes.set(governor, kept);
    else this.#deletes.delete(governor);
  }

  #dropConstant(obj: DataObject): void {
    if (!obj.constant) return;
    if (obj.constant.file) this.options.dropFile?.(obj.constant.file);
    obj.constant = undefined;
  }

  unkeep(session: Session, ids: number[]): void {
    const objects = ids.map((id) => {
      const obj = session.objects.get(id);
      if (!obj) throw new ApiError("NotFound", `object ${session.id}/${id} does not exist`);
      if (!obj.keep) throw new ApiError("BadRequest", `object ${session.id}/${id} is not kept`);
      return obj;
    });
    this.#events?.push({
      type: "ClientUnkeep",
      time: Date.now(),
      session: session.id,
      objects: ids,
    });
    for (const obj of objects) {
      obj.keep = false;
      this.#releaseIfUnneeded(obj);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Governors

  addGovernor(id: GovernorId, cpus: number, executors: string[]): GovernorState {
    if (this.governors.has(id)) {
      throw new Error(`governor ${id} is already registered`);
    }
    const governor = new GovernorState(id, cpus, executors);
    this.governors.set(id, governor);
    this.scheduler.governorAdded(governor);
    this.#events?.push({ type: "GovernorNew", time: Date.now(), governor: id, cpus, executors });
    log.info(`governor ${id} registered with ${cpus} cpus`);
    this.#touch();
    return governor;
  }

  /** A governor disconnected: fail the sessions whose work or data was only there. */
  removeGovernor(governor: GovernorState, reason: string): void {
    if (this.governors.get(governor.id) !== governor) return;
    this.governors.delete(governor.id);
    this.scheduler.governorRemoved(governor);
    this.#events?.push({
      type: "GovernorRemoved",
      time: Date.now(),
      governor: governor.id,
      error: reason,
    });
    log.warn(`governor ${governor.id} lost: ${reason}`);
    for (const task of [...governor.tasks]) {
      this.#release(task);
      this.failSession(
        task.session,
        `governor ${governor.id} was lost (${reason}) while it had task ${describeTask(task)}`,
      );
    }
    for (const obj of this.#objectsOn(governor)) {
      removeLocation(obj, governor);
      const needed = obj.keep || obj.pendingConsumers > 0;
      if (obj.locations.length === 0 && !obj.constant && needed && obj.state === "finished") {
        this.failSession(
          obj.session,
          `object ${obj.session.id}/${obj.id} was lost with governor ${governor.id} (${reason})`,
        );
      }
    }
    this.#touch();
  }

  /**
   * Objects held by a governor. A scan of all objects: it is needed only when a governor is lost
   * or `server_info` is asked, and an index would cost memory and time on every task.
   */
  *#objectsOn(governor: GovernorState): Generator<DataObject> {
    for (const session of this.sessions.values()) {
      for (const obj of session.objects.values()) {
        if (obj.locations.includes(governor)) yield obj;
      }
    }
  }

  /**
   * Every object of a governor's part of the graph: the objects it holds, the outputs of the
   * tasks assigned to it (finished or not) and the objects waiting for deletion there.
   */
  #graphPartOf(governor: GovernorState): Set<DataObject> {
    const objects = new Set(this.#objectsOn(governor));
    for (const task of governor.tasks) {
      for (const obj of task.outputs) objects.add(obj);
    }
    for (const obj of governor.toDelete) objects.add(obj);
    return objects;
  }

  /** The task no longer occupies its governor. */
  #release(task: Task): void {
    const governor = task.governor;
    if (!governor || !governor.tasks.delete(task)) return;
    governor.assignedCpus -= task.cpus;
  }

  /** The task named by a governor message, if it is still relevant. */
  #reportedTask(governor: GovernorState, id: Id): Task | undefined {
    const session = this.sessions.get(id[0]);
    if (!session || session.error !== undefined) return undefined; // late report: ignore
    const task = session.tasks.get(id[1]);
    if (!task || task.governor !== governor || task.finished) {
      log.warn(`governor ${governor.id} reported unexpected task ${id[0]}/${id[1]}`);
      return undefined;
    }
    return task;
  }

  taskStarted(governor: GovernorState, message: TaskStartedMessage): void {
    const task = this.#reportedTask(governor, message.task);
    if (!task) return;
    task.state = "running";
    task.info = { ...task.info, start_time: message.start_time, governor: governor.id };
    this.#events?.push({
      type: "TaskStarted",
      time: Date.now(),
      session: task.session.id,
      task: task.id,
      governor: governor.id,
      start_time: message.start_time,
    });
  }

  taskFinished(governor: GovernorState, message: TaskFinishedMessage): void {
    const task = this.#reportedTask(governor, message.task);
    if (!task) return;
    if (message.outputs.length !== task.outputs.length) {
      this.taskFailed(governor, {
        type: "task_failed",
        task: message.task,
        info: {
          ...message.info,
          error:
            `governor reported ${message.outputs.length} outputs, expected ${task.outputs.length}`,
        },
      });
      return;
    }
    task.state = "finished";
    task.info = message.info;
    this.#events?.push({
      type: "TaskFinished",
      time: Date.now(),
      session: task.session.id,
      task: task.id,
      info: message.info,
      outputs: message.outputs,
    });
    this.#release(task);
    this.scheduler.taskFinished(task, message.info.duration ?? 0);
    const session = task.session;
    session.finishedTasks++;
    settleWaiters(task, { kind: "done" });
    message.outputs.forEach((reported, i) => {
      const obj = task.outputs[i];
      obj.state = "finished";
      obj.size = reported.size;
      obj.info = reported.info?.size === undefined
        ? { ...reported.info, size: reported.size }
        : reported.info;
      addLocation(obj, governor);
      settleWaiters(obj, { kind: "done" });
      for (const consumer of obj.consumers) {
        if (consumer.state === "notAssigned" && --consumer.waitingInputs === 0) {
          this.#makeReady(consumer);
        }
      }
      this.#releaseIfUnneeded(obj);
    });
    for (const input of task.inputs) {
      if (input.state !== "removed") addLocation(input, governor);
      input.pendingConsumers--;
      this.#releaseIfUnneeded(input);
    }
    if (--session.unfinishedTasks === 0) {
      session.allWaiters.forEach((w) => settleWaiter(w, { kind: "done" }));
      session.allWaiters = [];
    }
    this.#touch();
  }

  taskFailed(governor: GovernorState, message: TaskFailedMessage): void {
    const task = this.#reportedTask(governor, message.task);
    if (!task) return;
    task.state = "failed";
    task.info = message.info;
    this.#events?.push({
      type: "TaskFinished",
      time: Date.now(),
      session: task.session.id,
      task: task.id,
      info: message.info,
    });
    this.#release(task);
    const debug = message.info.debug ? `\n\nDebug:\n${message.info.debug}` : "";
    this.failSession(
      task.session,
      `Task ${describeTask(task)} failed on governor ${governor.id}:\n${
        message.info.error || "unknown error"
      }${debug}`,
    );
  }

  /** A governor's resource usage sample: kept for the status and logged. */
  monitoring(governor: GovernorState, message: MonitoringMessage): void {
    governor.monitoring = message;
    this.#events?.push({
      type: "Monitoring",
      time: Date.now(),
      governor: governor.id,
      sample: message,
    });
  }

  /** Inputs a governor fetched (logged for the timeline). */
  dataTransfers(governor: GovernorState, message: DataTransfersMessage): void {
    const events = this.#events;
    if (!events) return;
    const time = Date.now();
    for (const transfer of message.transfers) {
      events.push({ type: "DataTransfer", time, to: governor.id, transfer });
    }
  }

  objectsRemoved(governor: GovernorState, ids: Id[]): void {
    for (const [sid, id] of ids) {
      const obj = this.sessions.get(sid)?.objects.get(id);
      if (obj) governor.toDelete.delete(obj);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Queries

  /**
   * Waits until the given tasks and objects are finished ("all") or one of them is ("some").
   * Resolves at once when already done.
   */
  wait(
    session: Session,
    taskIds: number[],
    objectIds: number[],
    mode: "all" | "some",
  ): Promise<WaitOutcome> {
    const tasks = taskIds.map((id) => {
      const task = session.tasks.get(id);
      if (!task) throw new ApiError("NotFound", `task ${session.id}/${id} was not submitted`);
      return task;
    });
    const objects = objectIds.map((id) => {
      const obj = session.objects.get(id);
      if (!obj) throw new ApiError("NotFound", `object ${session.id}/${id} was not submitted`);
      return obj;
    });
    const pending: (Task | DataObject)[] = [
      ...tasks.filter((t) => t.state !== "finished"),
      ...objects.filter((o) => o.state === "unfinished"),
    ];
    const total = tasks.length + objects.length;
    const finishedCount = total - pending.length;
    if (pending.length === 0 || (mode === "some" && finishedCount > 0)) {
      return Promise.resolve({ kind: "done" });
    }
    return new Promise((resolve) => {
      const waiter: Waiter = {
        remaining: mode === "all" ? pending.length : 1,
        settled: false,
        resolve,
      };
      for (const item of pending) (item.waiters ??= []).push(waiter);
    });
  }

  waitAll(session: Session): Promise<WaitOutcome> {
    if (session.unfinishedTasks === 0) return Promise.resolve({ kind: "done" });
    return new Promise((resolve) => {
      session.allWaiters.push({ remaining: 1, settled: false, resolve });
    });
  }

  /** Which of the ids are finished (for answering a wait). */
  finishedAmong(session: Session, taskIds: number[], objectIds: number[]): {
    tasks: number[];
    objects: number[];
  } {
    return {
      tasks: taskIds.filter((id) => session.tasks.get(id)?.state === "finished"),
      objects: objectIds.filter((id) => {
        const obj = session.objects.get(id);
        return obj !== undefined && obj.state !== "unfinished";
      }),
    };
  }

  update(session: Session, taskIds: number[], objectIds: number[]): UpdateResponse {
    return {
      tasks: taskIds.map((id) => {
        const task = session.tasks.get(id);
        if (!task) throw new ApiError("NotFound", `task ${session.id}/${id} was not submitted`);
        return { id, state: task.state as TaskState, info: compact(task.info) as TaskInfo };
      }),
      objects: objectIds.map((id) => {
        const obj = session.objects.get(id);
        if (!obj) throw new ApiError("NotFound", `object ${session.id}/${id} was not submitted`);
        return { id, state: obj.state as ObjectState, info: compact(obj.info) as ObjectInfo };
      }),
    };
  }

  serverInfo(): ServerInfoResponse {
    return {
      governors: [...this.governors.values()].map((g) => ({
        governor_id: g.id,
        tasks: [...g.tasks].map((t) => t.fullId),
        objects: [...this.#graphPartOf(g)].map((o) => o.fullId),
        objects_to_delete: [...g.toDelete].map((o) => o.fullId),
        resources: { cpus: g.cpus },
      })),
    };
  }
}

function settleWaiter(waiter: Waiter, outcome: WaitOutcome): void {
  if (waiter.settled) return;
  if (outcome.kind === "done" && --waiter.remaining > 0) return;
  waiter.settled = true;
  waiter.resolve(outcome);
}

function settleWaiters(item: Task | DataObject, outcome: WaitOutcome): void {
  if (!item.waiters) return;
  for (const w of item.waiters) settleWaiter(w, outcome);
  item.waiters = undefined;
}

export function describeTask(task: Task): string {
  const id = `${task.session.id}/${task.id}`;
  return task.name ? `${id} '${task.name}' (${task.taskType})` : `${id} (${task.taskType})`;
}

/** Drops empty values, as the attributes are transmitted. */
function compact(info: object): object {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(info)) {
    if (v === undefined || v === null || v === "") continue;
    if (typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 0) continue;
    out[k] = v;
  }
  return out;
}

/**
 * The server's reactor: every state change, driven by client requests and governor messages.
 * It talks to governors only through `GovernorComm` and decides placement only through a
 * `Scheduler`, so it is tested without sockets. Work per task event is O(1) (plus the task's
 * own inputs and outputs); scheduling and sending happen once per turn, batched.
 *
 * This class is a thin facade for the HTTP and WebSocket layers: the state is a `Core` and each
 * state change a plain function in `reactor/` (see reactor/core.ts for which file has what).
 */
import type { ClientId, GovernorId, Id, SessionId } from "../common/ids.ts";
import type { GovernorResources } from "../common/resources.ts";
import type {
  DataTransfersMessage,
  MonitoringMessage,
  ReattachReport,
  ServerInfoResponse,
  TaskFailedMessage,
  TaskFinishedMessage,
  TaskOutputMessage,
  TaskStartedMessage,
  UpdateResponse,
} from "../common/messages.ts";
import type { EventSink } from "./events/event.ts";
import type { GovernorHandler } from "./governor_link.ts";
import type { Scheduler } from "./scheduler.ts";
import type { Client, GovernorState, Session, WaitOutcome } from "./state.ts";
import type { SubmitPlan } from "./submit.ts";
import { Core, type GovernorComm, type ReactorContext } from "./reactor/core.ts";
import * as failures from "./reactor/failures.ts";
import * as drain from "./reactor/drain.ts";
import * as governors from "./reactor/governors.ts";
import * as objects from "./reactor/objects.ts";
import * as placement from "./reactor/placement.ts";
import * as queries from "./reactor/queries.ts";
import { reattach, type Reattachment } from "./reactor/reattach.ts";
import * as sessions from "./reactor/sessions.ts";
import type { ConstantData } from "./reactor/sessions.ts";
import * as tasks from "./reactor/tasks.ts";

export type { GovernorComm } from "./reactor/core.ts";
export type { ConstantData } from "./reactor/sessions.ts";

export interface ReactorOptions {
  /** Called with files of constants that are no longer needed (to delete them). */
  dropFile?: (path: string) => void;
  /** The event log (docs/events.md); told of every state change. */
  events?: EventSink;
  /** Numbering continues an earlier server's over the same event log. */
  firstSessionId?: SessionId;
  firstClientId?: ClientId;
}

export class Reactor implements ReactorContext, GovernorHandler {
  readonly core: Core;
  readonly events: EventSink | undefined;
  readonly dropFile: ((path: string) => void) | undefined;
  /** A restarted server waiting for its governors to reattach (reactor/reattach.ts). */
  reattachment: Reattachment | undefined;

  constructor(
    readonly comm: GovernorComm,
    readonly scheduler: Scheduler,
    options: ReactorOptions = {},
  ) {
    this.core = new Core(options.firstSessionId, options.firstClientId);
    this.events = options.events;
    this.dropFile = options.dropFile;
  }

  get clients(): ReadonlyMap<ClientId, Client> {
    return this.core.clients;
  }
  /** Open sessions. */
  get sessions(): ReadonlyMap<SessionId, Session> {
    return this.core.sessions;
  }
  get governors(): ReadonlyMap<GovernorId, GovernorState> {
    return this.core.governors;
  }

  /** Places ready tasks and sends everything queued. Called automatically once per turn. */
  endTurn(): void {
    placement.endTurn(this);
  }

  // Clients and sessions (reactor/sessions.ts)
  newClient(): Client {
    return sessions.newClient(this);
  }
  removeClient(client: Client): void {
    sessions.removeClient(this, client);
  }
  newSession(client: Client | undefined, name: string, spec?: Record<string, unknown>): Session {
    return sessions.newSession(this, client, name, spec);
  }
  /** The session, or an error saying why it is not available. */
  session(id: SessionId): Session {
    return sessions.session(this, id);
  }
  /** Like `session()`, and also fails if the session failed. */
  liveSession(id: SessionId): Session {
    return sessions.liveSession(this, id);
  }
  closeSession(session: Session): void {
    sessions.closeSession(this, session);
  }
  failSession(session: Session, error: string): void {
    sessions.failSession(this, session, error);
  }
  /** Answers every blocked wait as "closed" (the server is shutting down). */
  releaseWaiters(): void {
    sessions.releaseWaiters(this);
  }
  /** Applies a validated submit (see submit.ts); `checked`: `checkSubmit` passed already. */
  submit(
    session: Session,
    plan: SubmitPlan,
    constants: Map<number, ConstantData>,
    checked = false,
  ): void {
    sessions.submit(this, session, plan, constants, checked);
  }
  /** Throws if a task of the submit can never run on the governors connected. */
  checkSubmit(session: Session, plan: SubmitPlan): void {
    if (!session.waitForResources) sessions.checkSatisfiable(this, session, plan);
  }
  unkeep(session: Session, ids: number[]): void {
    sessions.unkeep(this, session, ids);
  }
  /** Stops the tasks and their dependents (reactor/failures.ts); the ids stopped. */
  cancelTasks(session: Session, ids: number[]): number[] {
    return failures.cancelTasks(this, session, ids);
  }
  failedTasks(session: Session): { id: number; error: string }[] {
    return failures.failedTasks(session);
  }
  /** The failed tasks of a "continue" session and their dependents run again; their ids. */
  rerunFailed(session: Session): number[] {
    return failures.rerunFailed(this, session);
  }

  // Governors and their reports (reactor/governors.ts, tasks.ts, objects.ts)
  addGovernor(
    id: GovernorId,
    cpus: number,
    executors: string[],
    resources?: GovernorResources,
  ): GovernorState {
    return governors.addGovernor(this, id, cpus, executors, resources);
  }
  removeGovernor(governor: GovernorState, reason: string, orderly = false): void {
    governors.removeGovernor(this, governor, reason, orderly);
  }
  setStalled(governor: GovernorState, stalled: boolean): void {
    governors.setStalled(this, governor, stalled);
  }
  /** `rain drain`: no new work for it; stopped once idle, its needed sole copies moved. */
  drainGovernor(governor: GovernorState): void {
    drain.drainGovernor(this, governor);
  }
  objectsFetched(governor: GovernorState, fetched: Id[], failed: Id[]): void {
    drain.objectsFetched(this, governor, fetched, failed);
  }
  taskStarted(governor: GovernorState, message: TaskStartedMessage): void {
    tasks.taskStarted(this, governor, message);
  }
  taskFinished(governor: GovernorState, message: TaskFinishedMessage): void {
    tasks.taskFinished(this, governor, message);
  }
  taskFailed(governor: GovernorState, message: TaskFailedMessage): void {
    tasks.taskFailed(this, governor, message);
  }
  /** A governor registered again with what it still has (reactor/reattach.ts). */
  reattach(governor: GovernorState, report: ReattachReport | undefined): void {
    if (report) reattach(this, governor, report);
    this.reattachment?.governorBack(governor.id);
  }

  taskOutput(_governor: GovernorState, message: TaskOutputMessage): void {
    tasks.stoppedTaskOutput(this, message);
  }
  objectsRemoved(governor: GovernorState, ids: Id[]): void {
    objects.objectsRemoved(this, governor, ids);
  }
  monitoring(governor: GovernorState, message: MonitoringMessage): void {
    governors.monitoring(this, governor, message);
  }
  dataTransfers(governor: GovernorState, message: DataTransfersMessage): void {
    governors.dataTransfers(this, governor, message);
  }

  // Queries (reactor/queries.ts)
  wait(
    session: Session,
    taskIds: number[],
    objectIds: number[],
    mode: "all" | "some",
  ): Promise<WaitOutcome> {
    return queries.wait(session, taskIds, objectIds, mode);
  }
  waitAll(session: Session): Promise<WaitOutcome> {
    return queries.waitAll(session);
  }
  finishedAmong(session: Session, taskIds: number[], objectIds: number[]) {
    return queries.finishedAmong(session, taskIds, objectIds);
  }
  update(session: Session, taskIds: number[], objectIds: number[]): UpdateResponse {
    return queries.update(session, taskIds, objectIds);
  }
  serverInfo(): ServerInfoResponse {
    return queries.serverInfo(this);
  }
}

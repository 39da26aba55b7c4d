/**
 * The server's bookkeeping: clients, sessions, tasks, data objects and governors.
 *
 * Specs are not kept as parsed JSON: their fields live on the entities (a compact layout matters
 * at a million tasks) and are rebuilt on demand by `taskSpec()` / `objectSpec()`.
 */
import type {
  DataType,
  JsonValue,
  ObjectInfo,
  ObjectSpec,
  ObjectState,
  TaskAttempt,
  TaskInfo,
  TaskPolicy,
  TaskSpec,
  TaskState,
  UserAttributes,
} from "../common/attributes.ts";
import type { ClientId, GovernorId, Id, SessionId } from "../common/ids.ts";
import type { MonitoringMessage } from "../common/messages.ts";
import { IdMap } from "./id_map.ts";
import {
  type GovernorResources,
  type ResourceAllocation,
  ResourcePool,
  type ResourceRequest,
} from "../common/resources.ts";

/** Someone blocked in `wait`/`wait_all`; resolved by the reactor. */
export interface Waiter {
  /** Items still unfinished (mode "all"), or 1 for mode "some". */
  remaining: number;
  settled: boolean;
  resolve(result: WaitOutcome): void;
}

/** `failed`: the session failed; `taskFailed`: items waited for failed, the session goes on. */
export type WaitOutcome =
  | { kind: "done" }
  | { kind: "failed"; error: string }
  | { kind: "taskFailed"; error: string }
  | { kind: "closed" };

/**
 * Shared, frozen empty values: most objects never get a second location or consumer, and infos
 * are replaced (never mutated) when set, so millions of entities share these instead of each
 * allocating its own.
 */
export const NO_GOVERNORS: readonly GovernorState[] = Object.freeze([]);
export const NO_TASKS: readonly Task[] = Object.freeze([]);
export const EMPTY_INFO: Readonly<ObjectInfo & TaskInfo> = Object.freeze({});

export class Client {
  readonly sessions = new Set<Session>();
  constructor(readonly id: ClientId) {}
}

export class Session {
  /** Set when a task failed; every later request touching the session reports it. */
  error?: string;
  closed = false;
  /** `spec.wait_for_resources`: tasks no connected governor can run wait instead of failing. */
  waitForResources = false;
  readonly tasks = new IdMap<Task>();
  readonly objects = new IdMap<DataObject>();
  /** Submitted tasks not finished yet (for wait_all). */
  unfinishedTasks = 0;
  allWaiters: Waiter[] = [];
  /** Tasks and objects submitted so far, for progress reporting. */
  submittedTasks = 0;
  finishedTasks = 0;
  /** `"continue"`: a failed task fails only its dependents (docs/policies.md). */
  onFailure: "fail" | "continue" = "fail";
  /** `"continue"` sessions: tasks failed (their own failure or an input's), in order. */
  readonly failed = new Set<Task>();
  // Work done again so far, for `rain status`:
  /** Finished tasks run again because an output was lost with its governor. */
  reruns = 0;
  /** Failed attempts run again (`max_retries`). */
  retries = 0;
  /** Started attempts cut short by a lost governor or input. */
  lostAttempts = 0;

  constructor(
    readonly id: SessionId,
    readonly client: Client | undefined,
    readonly name: string,
  ) {}
}

/** What few objects have: kept aside (see `DataObject`). */
interface RareObjectFields {
  contentType?: string;
  user?: UserAttributes;
  testLocations?: readonly GovernorState[];
  constantFile?: string;
  constantLength?: number;
  waiters?: Waiter[];
  error?: string;
}

/**
 * A data object. As for `Task`, fields most objects never set live in one side object created
 * on first write, read through accessors.
 */
export class DataObject {
  state: ObjectState = "unfinished";
  info: Readonly<ObjectInfo> = EMPTY_INFO;
  /** Bytes; known once finished (or from a `_testing` hint). */
  size = 0;
  /** The producer of an output, or the shared block of a constant (never both: one slot). */
  #producerOrBlock: Task | Uint8Array | undefined = undefined;
  /** The consumer when there is one, all of them when more (see `consumers`, `addConsumer`). */
  consumerOrList: Task | Task[] | undefined = undefined;
  /** Consumers that have not finished yet. */
  pendingConsumers = 0;
  /** Governors holding a copy (see `addLocation` / `removeLocation`). */
  locations: readonly GovernorState[] = NO_GOVERNORS;
  /**
   * Client-uploaded data: small constants of a submit share one block (`size` bytes from
   * `constantOffset`; one buffer per submit, not one per constant), large ones are spooled to
   * `constantFile`. See `isConstant`, `constantData()`.
   */
  get constantBlock(): Uint8Array | undefined {
    const p = this.#producerOrBlock;
    return p instanceof Uint8Array ? p : undefined;
  }
  set constantBlock(block: Uint8Array | undefined) {
    if (block !== undefined || this.constantBlock !== undefined) this.#producerOrBlock = block;
  }
  constantOffset = 0;
  #rare?: RareObjectFields;

  constructor(
    readonly session: Session,
    readonly id: number,
    readonly dataType: DataType,
    public keep: boolean,
    readonly label?: string,
    contentType?: string,
    user?: UserAttributes,
  ) {
    if (contentType !== undefined || user !== undefined) this.#rare = { contentType, user };
  }

  #set<K extends keyof RareObjectFields>(key: K, value: RareObjectFields[K]): void {
    if (value === undefined && this.#rare === undefined) return;
    (this.#rare ??= {})[key] = value;
  }

  get producer(): Task | undefined {
    const p = this.#producerOrBlock;
    return p instanceof Uint8Array ? undefined : p;
  }
  set producer(task: Task | undefined) {
    if (task !== undefined || this.producer !== undefined) this.#producerOrBlock = task;
  }

  get contentType(): string | undefined {
    return this.#rare?.contentType;
  }
  get user(): UserAttributes | undefined {
    return this.#rare?.user;
  }
  /** `RAIN_TEST_MODE` placement hint (`spec.user._testing`): pretend it lives there. */
  get testLocations(): readonly GovernorState[] | undefined {
    return this.#rare?.testLocations;
  }
  set testLocations(value: readonly GovernorState[] | undefined) {
    this.#set("testLocations", value);
  }
  /** Bytes of an in-memory constant when `size` says otherwise (a `_testing` size hint). */
  get constantLength(): number | undefined {
    return this.#rare?.constantLength;
  }
  set constantLength(value: number | undefined) {
    this.#set("constantLength", value);
  }
  /** A large constant's data, spooled (see `constantBlock`). */
  get constantFile(): string | undefined {
    return this.#rare?.constantFile;
  }
  set constantFile(value: string | undefined) {
    this.#set("constantFile", value);
  }
  get waiters(): Waiter[] | undefined {
    return this.#rare?.waiters;
  }
  set waiters(value: Waiter[] | undefined) {
    this.#set("waiters", value);
  }
  /** Its producer failed (`"continue"` session) or was cancelled: why it will not exist. */
  get error(): string | undefined {
    return this.#rare?.error;
  }
  set error(value: string | undefined) {
    this.#set("error", value);
  }

  get fullId(): Id {
    return [this.session.id, this.id];
  }

  /** Every task consuming this object, across submits. */
  get consumers(): readonly Task[] {
    const c = this.consumerOrList;
    return c === undefined ? NO_TASKS : Array.isArray(c) ? c : [c];
  }

  /** Client data the server holds (until its session closes). */
  get isConstant(): boolean {
    return this.constantBlock !== undefined || this.constantFile !== undefined;
  }

  /** The bytes of a constant held in memory. */
  constantData(): Uint8Array | undefined {
    const length = this.#rare?.constantLength ?? this.size;
    return this.constantBlock?.subarray(this.constantOffset, this.constantOffset + length);
  }
}

/**
 * `{size}` infos of small sizes, shared and frozen: infos are replaced, never mutated, and most
 * objects of a big graph are small.
 */
const SIZE_INFOS: Readonly<ObjectInfo>[] = Array.from(
  { length: 4096 },
  (_, size) => Object.freeze({ size }),
);

/** The info of an object of `size` bytes that says nothing else. */
export function sizeInfo(size: number): Readonly<ObjectInfo> {
  return SIZE_INFOS[size] ?? { size };
}

/** What few tasks have (faults, policies, resources beyond cpus, waiters): kept aside. */
interface RareTaskFields {
  inputLabels?: (string | undefined)[];
  user?: UserAttributes;
  waiters?: Waiter[];
  request?: ResourceRequest;
  allocation?: ResourceAllocation;
  crashes?: { governor: GovernorId; time: number }[];
  attempts?: number;
  inputLost?: boolean;
  transferFailures?: number;
  policy?: TaskPolicy;
  crashLimit?: number;
  retries?: number;
  attemptLog?: TaskAttempt[];
  cancelled?: boolean;
}

/**
 * A task. Fields most tasks never set live in one side object created on first write (read
 * through the accessors below), so a plain task of a million-task graph is a dozen fields.
 */
export class Task {
  state: TaskState = "notAssigned";
  info: Readonly<TaskInfo> = EMPTY_INFO;
  /** Inputs not finished yet; the task is ready at 0. */
  waitingInputs = 0;
  governor?: GovernorState;
  /** Owned by the scheduler: the task has an entry in its ready queue (never two). */
  inReadyQueue = false;
  #rare?: RareTaskFields;

  #set<K extends keyof RareTaskFields>(key: K, value: RareTaskFields[K]): void {
    if (value === undefined && this.#rare === undefined) return;
    (this.#rare ??= {})[key] = value;
  }

  get waiters(): Waiter[] | undefined {
    return this.#rare?.waiters;
  }
  set waiters(value: Waiter[] | undefined) {
    this.#set("waiters", value);
  }
  /** What the task asks for beyond `cpus` (memory, gpus, custom); absent: cpus only. */
  get request(): ResourceRequest | undefined {
    return this.#rare?.request;
  }
  set request(value: ResourceRequest | undefined) {
    this.#set("request", value);
  }
  /** What the scheduler gave the task on its governor (set while assigned, with `request`). */
  get allocation(): ResourceAllocation | undefined {
    return this.#rare?.allocation;
  }
  set allocation(value: ResourceAllocation | undefined) {
    this.#set("allocation", value);
  }
  /** Governors lost while this task ran on them (unexpectedly); absent on the fault-free path. */
  get crashes(): { governor: GovernorId; time: number }[] | undefined {
    return this.#rare?.crashes;
  }
  set crashes(value: { governor: GovernorId; time: number }[] | undefined) {
    this.#set("crashes", value);
  }
  /** Times this task was run again (lost outputs recomputed, or requeued); absent if none. */
  get attempts(): number | undefined {
    return this.#rare?.attempts;
  }
  set attempts(value: number | undefined) {
    this.#set("attempts", value);
  }
  /** An input was lost while the task was assigned: a failure now is the loss's, not its own. */
  get inputLost(): boolean | undefined {
    return this.#rare?.inputLost;
  }
  set inputLost(value: boolean | undefined) {
    this.#set("inputLost", value);
  }
  /** Input transfers that failed for it without a known loss (see recovery.ts). */
  get transferFailures(): number | undefined {
    return this.#rare?.transferFailures;
  }
  set transferFailures(value: number | undefined) {
    this.#set("transferFailures", value);
  }
  /** `spec.policy` as submitted (retries, time limit); absent: Rain 0.4 behaviour. */
  get policy(): TaskPolicy | undefined {
    return this.#rare?.policy;
  }
  set policy(value: TaskPolicy | undefined) {
    this.#set("policy", value);
  }
  /** `policy.crash_limit`, read by recovery.ts. */
  get crashLimit(): number | undefined {
    return this.#rare?.crashLimit;
  }
  set crashLimit(value: number | undefined) {
    this.#set("crashLimit", value);
  }
  /** Failed attempts retried so far (at most `policy.max_retries`). */
  get retries(): number | undefined {
    return this.#rare?.retries;
  }
  set retries(value: number | undefined) {
    this.#set("retries", value);
  }
  /** Attempts that ended without finishing the task (for `info.attempts`). */
  get attemptLog(): TaskAttempt[] | undefined {
    return this.#rare?.attemptLog;
  }
  set attemptLog(value: TaskAttempt[] | undefined) {
    this.#set("attemptLog", value);
  }
  /** Cancelled by the client (its state is "failed", `info.error` says so). */
  get cancelled(): boolean | undefined {
    return this.#rare?.cancelled;
  }
  set cancelled(value: boolean | undefined) {
    this.#set("cancelled", value);
  }

  constructor(
    readonly session: Session,
    readonly id: number,
    readonly taskType: string,
    readonly config: JsonValue | undefined,
    readonly inputs: DataObject[],
    /** Labels of inputs, only when any input has one. */
    inputLabels: (string | undefined)[] | undefined,
    readonly outputs: DataObject[],
    readonly cpus: number,
    readonly name?: string,
    user?: UserAttributes,
  ) {
    if (inputLabels !== undefined || user !== undefined) this.#rare = { inputLabels, user };
  }

  /** Labels of inputs, only when any input has one. */
  get inputLabels(): (string | undefined)[] | undefined {
    return this.#rare?.inputLabels;
  }
  get user(): UserAttributes | undefined {
    return this.#rare?.user;
  }

  get fullId(): Id {
    return [this.session.id, this.id];
  }

  get finished(): boolean {
    return this.state === "finished" || this.state === "failed";
  }
}

export class GovernorState {
  /** Tasks assigned and not finished. */
  readonly tasks = new Set<Task>();
  #assignedCpus = 0;
  /** Told when `assignedCpus` changes (the scheduler keeps governors ordered by free cpus). */
  onFreeCpusChanged?: (governor: GovernorState) => void;
  /** Objects told to delete, until the governor reports them removed. */
  readonly toDelete = new Set<DataObject>();
  /** The latest resource usage sample the governor sent. */
  monitoring?: MonitoringMessage;
  /** `performance.now()` of the last frame from the governor (heartbeats, reports). */
  lastHeard = performance.now();
  /** A heartbeat is overdue: the scheduler gives it no new work until it is heard again. */
  stalled = false;
  /** `rain drain`: no new work; stopped once its tasks are done and its sole copies moved. */
  draining = false;
  /** Aborted when the governor is lost: reads of its data (client fetches) stop waiting. */
  readonly gone: AbortController = new AbortController();
  /** Aborted when it stalls (renewed when heard again): a read that has another copy moves on. */
  stall: AbortController = new AbortController();

  /** What the governor offers; `pool` is what of it is in use (written by the scheduler). */
  readonly resources: GovernorResources;
  readonly pool: ResourcePool;

  constructor(
    readonly id: GovernorId,
    readonly cpus: number,
    readonly executors: string[],
    resources?: GovernorResources,
  ) {
    this.resources = { ...resources, cpus };
    this.pool = new ResourcePool(this.resources);
  }

  /**
   * cpus of the tasks in `tasks` (may exceed `cpus`: queued on the governor). Written only by
   * the scheduler (see `Scheduler.schedule` and `taskReleased`).
   */
  get assignedCpus(): number {
    return this.#assignedCpus;
  }
  set assignedCpus(cpus: number) {
    this.#assignedCpus = cpus;
    this.onFreeCpusChanged?.(this);
  }

  get freeCpus(): number {
    return this.cpus - this.#assignedCpus;
  }
}

/** Returns false if it was there already. */
export function addLocation(obj: DataObject, governor: GovernorState): boolean {
  if (obj.locations.includes(governor)) return false;
  obj.locations = obj.locations.length === 0 ? [governor] : [...obj.locations, governor];
  return true;
}

export function removeLocation(obj: DataObject, governor: GovernorState): void {
  if (obj.locations.includes(governor)) {
    obj.locations = obj.locations.filter((g) => g !== governor);
  }
}

export function addConsumer(obj: DataObject, task: Task): void {
  // Most objects have one consumer: kept without an array of its own.
  const c = obj.consumerOrList;
  if (c === undefined) obj.consumerOrList = task;
  else if (Array.isArray(c)) c.push(task);
  else obj.consumerOrList = [c, task];
}

export function taskSpec(task: Task): TaskSpec {
  const sid = task.session.id;
  const spec: TaskSpec = {
    id: [sid, task.id],
    task_type: task.taskType,
    inputs: task.inputs.map((o, i) => {
      const label = task.inputLabels?.[i];
      return label === undefined ? { id: [sid, o.id] } : { id: [sid, o.id], label };
    }),
    outputs: task.outputs.map((o) => [sid, o.id]),
    resources: task.request ?? { cpus: task.cpus },
  };
  if (task.config !== undefined) spec.config = task.config;
  if (task.name !== undefined) spec.name = task.name;
  if (task.user !== undefined) spec.user = task.user;
  if (task.policy !== undefined) spec.policy = task.policy;
  return spec;
}

export function objectSpec(obj: DataObject): ObjectSpec {
  const spec: ObjectSpec = { id: [obj.session.id, obj.id], data_type: obj.dataType };
  if (obj.label !== undefined) spec.label = obj.label;
  if (obj.contentType !== undefined) spec.content_type = obj.contentType;
  if (obj.user !== undefined) spec.user = obj.user;
  return spec;
}

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
  readonly tasks = new Map<number, Task>();
  readonly objects = new Map<number, DataObject>();
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

  constructor(
    readonly id: SessionId,
    readonly client: Client | undefined,
    readonly name: string,
  ) {}
}

export class DataObject {
  state: ObjectState = "unfinished";
  info: Readonly<ObjectInfo> = EMPTY_INFO;
  /** Bytes; known once finished (or from a `_testing` hint). */
  size = 0;
  producer?: Task;
  /** Every task consuming this object, across submits (see `addConsumer`). */
  consumers: readonly Task[] = NO_TASKS;
  /** Consumers that have not finished yet. */
  pendingConsumers = 0;
  /** Governors holding a copy (see `addLocation` / `removeLocation`). */
  locations: readonly GovernorState[] = NO_GOVERNORS;
  /** `RAIN_TEST_MODE` placement hint (`spec.user._testing`): pretend it lives there. */
  testLocations?: readonly GovernorState[];
  /** Client-uploaded data (small constants in memory; large ones spooled to `file`). */
  constant?: { data?: Uint8Array; file?: string };
  waiters?: Waiter[];
  /** Its producer failed (`"continue"` session) or was cancelled: why it will not exist. */
  error?: string;

  constructor(
    readonly session: Session,
    readonly id: number,
    readonly dataType: DataType,
    public keep: boolean,
    readonly label?: string,
    readonly contentType?: string,
    readonly user?: UserAttributes,
  ) {}

  get fullId(): Id {
    return [this.session.id, this.id];
  }
}

export class Task {
  state: TaskState = "notAssigned";
  info: Readonly<TaskInfo> = EMPTY_INFO;
  /** Inputs not finished yet; the task is ready at 0. */
  waitingInputs = 0;
  governor?: GovernorState;
  waiters?: Waiter[];
  /** What the task asks for beyond `cpus` (memory, gpus, custom); absent: cpus only. */
  request?: ResourceRequest;
  /** What the scheduler gave the task on its governor (set while assigned, with `request`). */
  allocation?: ResourceAllocation;
  /** Owned by the scheduler: the task has an entry in its ready queue (never two). */
  inReadyQueue = false;
  /** Governors lost while this task ran on them (unexpectedly); absent on the fault-free path. */
  crashes?: { governor: GovernorId; time: number }[];
  /** Times this task was run again (lost outputs recomputed, or requeued); absent if none. */
  attempts?: number;
  /** An input was lost while the task was assigned: a failure now is the loss's, not its own. */
  inputLost?: boolean;
  /** Input transfers that failed for it without a known loss (see recovery.ts). */
  transferFailures?: number;
  /** `spec.policy` as submitted (retries, time limit); absent: Rain 0.4 behaviour. */
  policy?: TaskPolicy;
  /** `policy.crash_limit`, read by recovery.ts. */
  crashLimit?: number;
  /** Failed attempts retried so far (at most `policy.max_retries`). */
  retries?: number;
  /** Attempts that ended without finishing the task (for `info.attempts`). */
  attemptLog?: TaskAttempt[];
  /** Cancelled by the client (its state is "failed", `info.error` says so). */
  cancelled?: boolean;

  constructor(
    readonly session: Session,
    readonly id: number,
    readonly taskType: string,
    readonly config: JsonValue | undefined,
    readonly inputs: DataObject[],
    /** Labels of inputs, only when any input has one. */
    readonly inputLabels: (string | undefined)[] | undefined,
    readonly outputs: DataObject[],
    readonly cpus: number,
    readonly name?: string,
    readonly user?: UserAttributes,
  ) {}

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
  if (obj.consumers.length === 0) obj.consumers = [task];
  else (obj.consumers as Task[]).push(task);
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

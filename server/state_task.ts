/** The server's tasks: `Task` and its spec rebuilt. */
import type {
  JsonValue,
  TaskAttempt,
  TaskInfo,
  TaskPolicy,
  TaskSpec,
  TaskState,
  UserAttributes,
} from "../common/attributes.ts";
import type { GovernorId, Id } from "../common/ids.ts";
import type { ResourceAllocation, ResourceRequest } from "../common/resources.ts";
import type { Session, Waiter } from "./state.ts";
import { EMPTY_INFO } from "./state_empties.ts";
import type { DataObject } from "./state_object.ts";
import type { GovernorState } from "./state_governor.ts";

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

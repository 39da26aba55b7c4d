/**
 * Tasks of a session's graph: a task type `"<executor>/<method>"` applied to input objects,
 * producing output objects.
 *
 * @module
 */
import { type DataLike, DataObject, toDataObject } from "./data.ts";
import { RainError } from "./errors.ts";
import {
  checkOpen,
  objectState,
  sessionState,
  setTaskStateReader,
  type TaskState as InternalState,
} from "./internal.ts";
import { fetchTaskLogs, type TaskLogs } from "./logs.ts";
import { Input, Output } from "./io.ts";
import { LabeledList } from "./labeled_list.ts";
import type { Session } from "./session.ts";
import type { DataInstance } from "./data.ts";
import type {
  Id,
  JsonValue,
  TaskInfo,
  TaskPolicy,
  TaskSpec,
  TaskState,
  UserAttributes,
} from "./types.ts";
import { formatId } from "./types.ts";

/** What a task type must look like: `"<executor>/<method>"`. */
const TASK_TYPE = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.\-/]*$/;

/**
 * One input of a task: an object (or single-output task), or an `Input` bound to one.
 *
 * @example
 * ```ts
 * import { Client, Input } from "@rain/client";
 * await using client = await Client.connect();
 * await using session = await client.newSession();
 * const data = session.blob("x");
 * session.task({ taskType: "myexec/m", inputs: [data, new Input("labelled", { dataObject: data })] });
 * ```
 */
export type TaskInputItem = DataLike | Input;

/**
 * Inputs of a task: a list (use `Input`s to give labels) or a record `label → input`.
 *
 * @example
 * ```ts
 * import { Client } from "@rain/client";
 * await using client = await Client.connect();
 * await using session = await client.newSession();
 * const a = session.blob("a");
 * const b = session.blob("b");
 * session.task({ taskType: "myexec/join", inputs: [a, b] }); // unlabelled
 * session.task({ taskType: "myexec/join", inputs: { left: a, right: b } }); // labelled
 * ```
 */
export type TaskInputs =
  | Iterable<TaskInputItem>
  | Record<string, TaskInputItem>;

/**
 * One output of a task: a label, an `Output`, an unsubmitted `DataObject`, or undefined.
 *
 * @example
 * ```ts
 * import { Client, Output } from "@rain/client";
 * await using client = await Client.connect();
 * await using session = await client.newSession();
 * session.task({
 *   taskType: "myexec/split",
 *   outputs: ["head", new Output("tail", { contentType: "text" }), undefined],
 * });
 * ```
 */
export type TaskOutputItem = string | Output | DataObject | undefined;

/**
 * Everything that defines a task.
 *
 * @example
 * ```ts
 * import { Client } from "@rain/client";
 * await using client = await Client.connect();
 * await using session = await client.newSession();
 * const task = session.task({
 *   taskType: "myexec/hello",
 *   inputs: [session.blob("world")],
 *   outputs: 1,
 *   config: { greeting: "Hello" },
 *   cpus: 2,
 *   name: "greet",
 *   user: { owner: "me" },
 * });
 * ```
 */
export interface TaskOptions extends ResourceOptions, PolicyOptions {
  /** `"<executor>/<method>"`, e.g. `"myexec/hello"`. */
  taskType: string;
  /** Input objects, in order. */
  inputs?: TaskInputs;
  /** A number of unlabelled blobs, or one item per output. Default: none. */
  outputs?: number | Iterable<TaskOutputItem>;
  /** Task-type specific configuration (JSON). */
  config?: JsonValue;
  /** Name of the task. */
  name?: string;
  /** Free user attributes of the spec. */
  user?: UserAttributes;
}

/**
 * What a task asks for (docs/resources.md); the server never oversubscribes a governor and
 * rejects a submit whose task no governor can ever run.
 *
 * @example
 * ```ts
 * import { Client } from "@rain/client";
 * await using client = await Client.connect();
 * await using session = await client.newSession();
 * session.execute("nvidia-smi", { gpus: 1, memory: "4GiB", resources: { licence: 1 } });
 * ```
 */
export interface ResourceOptions {
  /** Cpus the task needs (a positive integer, default 1). */
  cpus?: number;
  /** Memory: bytes, or a size such as `"4GiB"`, `"512MB"`. */
  memory?: number | string;
  /** Gpus: a whole number of devices, or a fraction ≤ 1 of one (e.g. `0.25` shares one). */
  gpus?: number;
  /** Custom summed resources the governors offer (`--resources`), e.g. `{ licence: 1 }`. */
  resources?: Record<string, number>;
}

/**
 * What to do when the task's own execution fails or runs too long (docs/policies.md); goes to
 * `spec.policy`. Every task kind takes these.
 *
 * @example
 * ```ts
 * import { Client } from "@rain/client";
 * await using client = await Client.connect();
 * await using session = await client.newSession();
 * session.execute("./download.sh", { maxRetries: 3, retryOn: [75], timeLimit: 600 });
 * ```
 */
export interface PolicyOptions {
  /** Runs again after its own failure, up to this many times (default 0). */
  maxRetries?: number;
  /** Retry only these failures: exit codes, exception class names, or `"time_limit"`. */
  retryOn?: Iterable<number | string>;
  /** Seconds an attempt may run; it is then killed and counts as a failure. */
  timeLimit?: number;
  /** Losses of the governor running the task it survives (default 5). */
  crashLimit?: number;
}

/** `spec.policy` of a task, checked (a `RainError` names the bad value); undefined if none. */
export function makePolicy(options: PolicyOptions): TaskPolicy | undefined {
  if (
    options.maxRetries === undefined && options.crashLimit === undefined &&
    options.timeLimit === undefined && options.retryOn === undefined
  ) return undefined;
  const policy: TaskPolicy = {};
  const count = (name: string, value: number | undefined): number | undefined => {
    if (value === undefined) return undefined;
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RainError(`${name} must be a non-negative integer, not ${JSON.stringify(value)}`);
    }
    return value;
  };
  const maxRetries = count("maxRetries", options.maxRetries);
  if (maxRetries !== undefined) policy.max_retries = maxRetries;
  const crashLimit = count("crashLimit", options.crashLimit);
  if (crashLimit !== undefined) policy.crash_limit = crashLimit;
  const limit = options.timeLimit;
  if (limit !== undefined) {
    if (typeof limit !== "number" || !Number.isFinite(limit) || limit <= 0) {
      throw new RainError(
        `timeLimit must be a positive number of seconds, not ${JSON.stringify(limit)}`,
      );
    }
    policy.time_limit = limit;
  }
  if (options.retryOn !== undefined) {
    const entries = [...options.retryOn];
    for (const entry of entries) {
      if (!Number.isSafeInteger(entry) && (typeof entry !== "string" || entry === "")) {
        throw new RainError(
          `retryOn takes exit codes and exception class names, not ${JSON.stringify(entry)}`,
        );
      }
    }
    policy.retry_on = entries;
  }
  return Object.keys(policy).length ? policy : undefined;
}

/** The policy options among `options` (to pass them on). */
export function policyOptions(options: PolicyOptions): PolicyOptions {
  const { maxRetries, retryOn, timeLimit, crashLimit } = options;
  return { maxRetries, retryOn, timeLimit, crashLimit };
}

const SIZE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  t: 1e12,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/**
 * Bytes from a number or a size string (`"4GiB"`, `"512MB"`); throws a `RainError`.
 *
 * @example
 * ```ts
 * import { parseSize } from "@rain/client";
 * console.log(parseSize("1.5GiB")); // 1610612736
 * ```
 */
export function parseSize(size: number | string): number {
  if (typeof size === "number" && Number.isSafeInteger(size) && size >= 0) return size;
  const m = typeof size === "string" ? /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(size) : null;
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) {
    throw new RainError(
      `memory must be bytes or a size such as '4GiB', not ${JSON.stringify(size)}`,
    );
  }
  return Math.round(Number(m[1]) * unit);
}

/** What a task asks for by default, shared by the tasks that do (copied into a spec). */
const ONE_CPU: TaskSpec["resources"] = Object.freeze({ cpus: 1 });

function copyResources(r: TaskSpec["resources"]): TaskSpec["resources"] {
  const out = { ...r };
  if (r.custom) out.custom = { ...r.custom };
  return out;
}

/** `spec.resources` of a task, checked (a `RainError` names the bad value). */
export function makeResources(options: ResourceOptions): TaskSpec["resources"] {
  if (
    options.cpus === undefined && options.memory === undefined && options.gpus === undefined &&
    options.resources === undefined
  ) return ONE_CPU;
  const cpus = options.cpus ?? 1;
  if (!Number.isSafeInteger(cpus) || cpus < 1) {
    throw new RainError(`cpus must be a positive integer, not ${JSON.stringify(cpus)}`);
  }
  const out: TaskSpec["resources"] = { cpus };
  if (options.memory !== undefined) {
    const bytes = parseSize(options.memory);
    if (bytes > 0) out.memory = bytes;
  }
  const gpus = options.gpus;
  if (gpus !== undefined && gpus !== 0) {
    const ok = typeof gpus === "number" && gpus > 0 &&
      (Number.isSafeInteger(gpus) || (gpus < 1 && Number.isInteger(Math.round(gpus * 1e4))));
    if (!ok) {
      throw new RainError(
        `gpus must be a whole number of gpus or a fraction of one (e.g. 0.25), not ${
          JSON.stringify(gpus)
        }`,
      );
    }
    out.gpus = Number.isSafeInteger(gpus) ? gpus : Math.round(gpus * 1e4) / 1e4;
  }
  const custom: Record<string, number> = {};
  for (const [name, amount] of Object.entries(options.resources ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name) || ["cpus", "memory", "gpus"].includes(name)) {
      throw new RainError(`'${name}' is not a custom resource name`);
    }
    if (typeof amount !== "number" || !(amount >= 0) || !Number.isFinite(amount)) {
      throw new RainError(
        `resource '${name}' needs a non-negative amount, not ${JSON.stringify(amount)}`,
      );
    }
    if (amount > 0) custom[name] = amount;
  }
  if (Object.keys(custom).length > 0) out.custom = custom;
  return out;
}

/**
 * A unit of work in a session's graph. Made by the session's methods (`session.task(...)` for
 * any task type, `session.concat(...)`, `session.execute(...)`, …). `state` is undefined until
 * submitted; `info` until `update()`.
 *
 * @example
 * ```ts
 * import { Client } from "@rain/client";
 * await using client = await Client.connect();
 * await using session = await client.newSession();
 * // A task of an executor registered on the governors (`[executors.myexec]`).
 * const task = session.task({
 *   taskType: "myexec/hello",
 *   inputs: [session.blob("world")],
 *   outputs: 1,
 * });
 * task.output.keep();
 * await session.submit();
 * await task.wait();
 * await task.update();
 * console.log(task.info?.governor, (await task.output.fetch()).text());
 * ```
 */
export class Task {
  /** The session the task belongs to. */
  readonly session: Session;
  /** What happened (after `update()`). */
  info: TaskInfo | undefined = undefined;
  /** Undefined until submitted. */
  state: TaskState | undefined = undefined;
  readonly #state: InternalState;
  #inputs: LabeledList<DataObject> | undefined = undefined;
  #outputs: LabeledList<DataObject> | undefined = undefined;

  static {
    setTaskStateReader((task) => task.#state);
  }

  /** A new task in `session` (prefer `session.task(options)`). */
  constructor(session: Session, options: TaskOptions) {
    const sessionInternal = checkOpen(session);
    // A stack costs more than the rest of the task: only the first tasks of a session (or all,
    // with `recordSites`) record one.
    const site = sessionInternal.sitesLeft > 0 ? new Error("task created") : undefined;
    const { taskType } = options;
    if (typeof taskType !== "string" || !TASK_TYPE.test(taskType)) {
      throw new RainError(
        `task type must look like "executor/method", not ${JSON.stringify(taskType)}`,
      );
    }
    const resources = makeResources(options);
    const policy = makePolicy(options);
    this.session = session;
    const [inputs, labels] = makeInputs(session, options.inputs ?? []);
    const outputItems = typeof options.outputs === "number"
      ? checkCount(options.outputs)
      : [...(options.outputs ?? [])];
    if (typeof outputItems !== "number") checkOutputs(session, outputItems);
    // Nothing is registered before the task is known to be valid; the task's id comes before
    // its outputs' ids.
    const n = sessionInternal.nextId++;
    if (site) sessionInternal.sitesLeft--;
    const outputs = typeof outputItems === "number"
      ? newOutputs(session, outputItems)
      : outputItems.map((item) =>
        item instanceof DataObject ? item : item instanceof Output
          ? new DataObject(session, {
            label: item.label,
            dataType: item.dataType,
            contentType: item.contentType,
          })
          : new DataObject(session, { label: item })
      );
    for (const obj of outputs) objectState(obj).producer = this;
    this.#state = {
      n,
      taskType,
      inputs,
      labels,
      outputs,
      resources,
      config: options.config,
      name: options.name || undefined,
      policy,
      site,
      id: undefined,
      spec: undefined,
    };
    if (options.user && Object.keys(options.user).length) {
      this.spec.user = { ...options.user };
    }
    sessionInternal.unsubmittedTasks.push(this);
  }

  /** `[session id, id]` */
  get id(): Id {
    return this.#state.id ??= [this.session.id, this.#state.n];
  }

  /** What was asked for (its `user` attributes may be changed before submit). */
  get spec(): TaskSpec {
    const state = this.#state;
    if (state.spec === undefined) {
      const labels = state.labels;
      const spec: TaskSpec = {
        id: this.id,
        task_type: state.taskType,
        inputs: state.inputs.map((obj, i) =>
          labels?.[i] === undefined ? { id: obj.id } : { id: obj.id, label: labels[i] }
        ),
        outputs: state.outputs.map((o) => o.id),
        resources: copyResources(state.resources),
      };
      if (state.config !== undefined) spec.config = state.config;
      if (state.name) spec.name = state.name;
      if (state.policy !== undefined) spec.policy = state.policy;
      state.spec = spec;
    }
    return state.spec;
  }

  /** Input objects with their labels. */
  get inputs(): LabeledList<DataObject> {
    return this.#inputs ??= new LabeledList(this.#state.inputs, this.#state.labels);
  }

  /** Output objects with their labels. */
  get outputs(): LabeledList<DataObject> {
    return this.#outputs ??= new LabeledList(
      this.#state.outputs,
      this.#state.outputs.map((o) => o.label),
    );
  }

  /** The task type, `"<executor>/<method>"`. */
  get taskType(): string {
    return this.#state.spec ? this.#state.spec.task_type : this.#state.taskType;
  }

  /** The task's name, if any. */
  get name(): string | undefined {
    return this.#state.spec ? this.#state.spec.name : this.#state.name;
  }

  /** Free user attributes of the spec (may be changed until submitted). */
  get user(): UserAttributes {
    return this.spec.user ??= {};
  }

  /** The only output; throws a `RainError` if the task has not exactly one. */
  get output(): DataObject {
    const outputs = this.#state.outputs;
    if (outputs.length !== 1) {
      throw new RainError(`${this} has ${outputs.length} outputs, not exactly one`);
    }
    return outputs[0]!;
  }

  /** Keeps every output. */
  keepOutputs(): this {
    for (const obj of this.outputs) obj.keep();
    return this;
  }

  /** Releases every output. */
  unkeepOutputs(): Promise<void> {
    return this.session.unkeep(this.outputs.toArray());
  }

  /** The data of every output (each must be kept), in output order. */
  fetchOutputs(): Promise<DataInstance[]> {
    return Promise.all(this.outputs.toArray().map((obj) => obj.fetch()));
  }

  /** Resolves when the task is finished. */
  wait(): Promise<void> {
    return this.session.wait([this]);
  }

  /** Downloads the current state and info. */
  update(): Promise<void> {
    return this.session.update([this]);
  }

  /** What the task printed (`stdout`, `stderr`), capped; readable after the session closed. */
  logs(): Promise<TaskLogs> {
    const api = sessionState(this.session).api;
    if (api === undefined) {
      return Promise.reject(new RainError(`${this.session} is offline (it has no client)`));
    }
    if (this.state === undefined) {
      return Promise.reject(new RainError(`task ${formatId(this.id)} has not been submitted`));
    }
    return fetchTaskLogs(api, this.id[0], this.id[1]);
  }

  /** `<Task 1/10 buildin/concat 'name'>` */
  toString(): string {
    return `<Task ${formatId(this.id)} ${this.taskType}${this.name ? ` '${this.name}'` : ""}>`;
  }
}

function checkCount(n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RainError(
      `the number of outputs must be a non-negative integer, not ${n}`,
    );
  }
  return n;
}

function isIterable(value: unknown): value is Iterable<unknown> {
  return typeof (value as Iterable<unknown>)?.[Symbol.iterator] === "function";
}

/** New unlabelled blobs, the outputs of a task asking for a number of them. */
function newOutputs(session: Session, n: number): DataObject[] {
  const out = new Array<DataObject>(n);
  for (let i = 0; i < n; i++) out[i] = new DataObject(session);
  return out;
}

/** The input objects and their labels (undefined when none has one). */
function makeInputs(
  session: Session,
  inputs: TaskInputs,
): [DataObject[], (string | undefined)[] | undefined] {
  const objects: DataObject[] = [];
  let labels: (string | undefined)[] | undefined;
  const add = (key: string | undefined, item: TaskInputItem) => {
    let obj: DataObject;
    let label = key;
    if (item instanceof DataObject) {
      obj = item;
    } else if (item instanceof Input) {
      if (item.dataObject === undefined) {
        throw new RainError(`${item} has no data object`);
      }
      obj = toDataObject(item.dataObject);
      label ??= item.label;
      if (obj.dataType !== item.dataType) {
        throw new RainError(
          `${item} needs a ${item.dataType}, but ${obj} is a ${obj.dataType}`,
        );
      }
    } else {
      obj = toDataObject(item);
    }
    if (obj.session !== session) {
      throw new RainError(`${obj} belongs to another session than the task`);
    }
    if (label !== undefined) {
      labels ??= objects.map(() => undefined);
      if (labels.includes(label)) throw new RainError(`duplicate input label '${label}'`);
    }
    objects.push(obj);
    labels?.push(label);
  };
  if (isIterable(inputs)) { for (const item of inputs) add(undefined, item); }
  else for (const [key, item] of Object.entries(inputs)) add(key, item);
  return [objects, labels];
}

function checkOutputs(session: Session, outputs: TaskOutputItem[]): void {
  const labels = new Set<string>();
  for (const item of outputs) {
    let label: string | undefined;
    if (item instanceof DataObject) {
      if (item.session !== session) {
        throw new RainError(`${item} belongs to another session`);
      }
      const state = objectState(item);
      if (
        item.state !== undefined || state.constant !== undefined ||
        state.producer
      ) {
        throw new RainError(
          `${item} cannot be an output: it is a constant, submitted or already produced by ` +
            "another task",
        );
      }
      label = item.label;
    } else if (item instanceof Output) {
      label = item.label;
    } else if (item === undefined || typeof item === "string") {
      label = item;
    } else {
      throw new TypeError(
        `an output must be a label, an Output or a DataObject, not ${item}`,
      );
    }
    if (label !== undefined) {
      if (labels.has(label)) {
        throw new RainError(`duplicate output label '${label}'`);
      }
      labels.add(label);
    }
  }
}

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
import type { Id, JsonValue, TaskInfo, TaskSpec, TaskState, UserAttributes } from "./types.ts";
import { formatId } from "./types.ts";
import { copyResources, makeResources, type ResourceOptions } from "./task_resources.ts";
import { makePolicy, type PolicyOptions } from "./task_policy.ts";
export { makePolicy, policyOptions } from "./task_policy.ts";
export type { PolicyOptions } from "./task_policy.ts";
export { makeResources, parseSize } from "./task_resources.ts";
export type { ResourceOptions } from "./task_resources.ts";

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

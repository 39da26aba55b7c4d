/**
 * Sessions: the graph being built (objects and tasks are made by the session's methods), its
 * submits, waits, fetches and updates.
 *
 * @module
 */
import type { Api } from "./api.ts";
import type { Client } from "./client.ts";
import {
  type BlobOptions,
  type BlobValue,
  type DataInstance,
  type DataLike,
  type DataObject,
  type DataStream,
  makeBlob,
  makeDirectory as makeDirectoryConstant,
  makeFileBlob,
  readFetchBody,
  toDataObject,
} from "./data.ts";
import { RainError, TaskError } from "./errors.ts";
import { explainFailure } from "./task_site.ts";
import { checkInputsKept, submitConstants, submitHead } from "./submit_body.ts";
import { applyUpdate, markFinished, splitItems } from "./session_items.ts";
import {
  checkOpen,
  FIRST_ID,
  objectState,
  registerSession,
  sessionState,
  SITE_TASKS,
  taskState,
} from "./internal.ts";
import type { Program } from "./program.ts";
import { type PolicyOptions, type ResourceOptions, Task, type TaskOptions } from "./task.ts";
import * as builtin from "./tasks.ts";
import type { BuiltinOptions, ExecuteArg, ExecuteOptions } from "./tasks.ts";
import type { SessionId, TaskState } from "./types.ts";

/** Kinds of server errors that mean "this session is gone": closing it is then a no-op. */
const GONE_KINDS = new Set(["SessionClosed", "SessionFailed", "NotFound"]);

/**
 * Tasks and objects of a session, as `wait`, `update` and friends take them.
 *
 * @example
 * ```ts
 * import { Client } from "@rain/client";
 * await using client = await Client.connect();
 * await using session = await client.newSession();
 * const task = session.concat([session.blob("a")]);
 * await session.submit();
 * await session.update([task, task.output]); // tasks and objects together
 * ```
 */
export type SessionItem = Task | DataObject;

/**
 * A graph of tasks and data objects on the server, built and submitted in steps. Objects and
 * tasks are created by its methods. Close it with `close()` or `await using`: the server then
 * drops its tasks and objects.
 *
 * @example
 * ```ts
 * import { Client } from "@rain/client";
 * await using client = await Client.connect("localhost:7210");
 * await using session = await client.newSession({ name: "hello" });
 * const task = session.concat([session.blob("Hello "), session.blob("world!")]);
 * task.output.keep();
 * await session.submit();
 * console.log((await task.output.fetch()).text()); // "Hello world!"
 * ```
 */
export class Session implements AsyncDisposable {
  /** The client, or undefined for an offline session (graphs are built, nothing is sent). */
  readonly client: Client | undefined;
  /** Id assigned by the server. */
  readonly id: SessionId;
  /** Name of the session. */
  readonly name: string;

  /**
   * Sessions on a server are opened by `client.newSession()`. `new Session(undefined, id)` is an
   * offline session: graphs can be built (e.g. to inspect their specs), nothing is sent.
   */
  constructor(client: Client | undefined, id: SessionId, name = "Unnamed Session") {
    this.client = client;
    this.id = id;
    this.name = name;
    registerSession(this, {
      api: undefined,
      nextId: FIRST_ID,
      active: true,
      unsubmittedTasks: [],
      unsubmittedObjects: [],
      submittedTasks: new Map(),
      failure: undefined,
      sitesLeft: SITE_TASKS,
    });
  }

  /** False once closed. */
  get active(): boolean {
    return sessionState(this).active;
  }

  /** Number of tasks not submitted yet. */
  get taskCount(): number {
    return sessionState(this).unsubmittedTasks.length;
  }

  /** Number of data objects not submitted yet. */
  get objectCount(): number {
    return sessionState(this).unsubmittedObjects.length;
  }

  /** `<Session 1 'name'>` */
  toString(): string {
    return `<Session ${this.id} '${this.name}'${this.active ? "" : " closed"}>`;
  }

  // --- data objects ----------------------------------------------------------------------------

  /**
   * A constant blob, uploaded with the next submit: bytes as they are, a string as text (content
   * type `"text"` unless given), any value with `encode: "json"`.
   */
  blob(value: BlobValue, options: BlobOptions = {}): DataObject {
    return makeBlob(this, value, options);
  }

  /** A constant blob from a local file, streamed from disk at submit (for big data). */
  blobFromFile(
    path: string,
    options: { label?: string; contentType?: string } = {},
  ): Promise<DataObject> {
    return makeFileBlob(this, path, options);
  }

  /** A constant directory: the local directory `path` packed as a tar archive. */
  directory(
    path: string,
    options: { label?: string } = {},
  ): Promise<DataObject> {
    return makeDirectoryConstant(this, path, options);
  }

  /** Keeps every object not submitted yet. */
  keepAll(): void {
    for (const obj of sessionState(this).unsubmittedObjects) obj.keep();
  }

  // --- tasks -----------------------------------------------------------------------------------

  /** A task of any type, e.g. one of your executor: `{taskType: "myexec/hello", …}`. */
  task(options: TaskOptions): Task {
    return new Task(this, options);
  }

  /** `buildin/concat`: the blobs joined into one blob. */
  concat(inputs: Iterable<DataLike>, options?: BuiltinOptions): Task {
    return builtin.concat(this, inputs, options);
  }

  /** `buildin/sleep`: passes the input on after `seconds`. */
  sleep(
    input: DataLike,
    seconds: number,
    options?: BuiltinOptions & ResourceOptions,
  ): Task {
    return builtin.sleep(this, input, seconds, options);
  }

  /** `buildin/open`: a file (absolute path on the governor) into a blob. */
  load(
    path: string,
    options?: BuiltinOptions & { contentType?: string },
  ): Task {
    return builtin.load(this, path, options);
  }

  /** `buildin/open_dir`: a directory (absolute path on the governor) into a directory object. */
  loadDir(path: string, options?: BuiltinOptions): Task {
    return builtin.loadDir(this, path, options);
  }

  /** `buildin/export`: writes an object to an absolute path on the governor. */
  store(input: DataLike, path: string, options?: BuiltinOptions): Task {
    return builtin.store(this, input, path, options);
  }

  /** `buildin/make_directory`: a directory of objects by relative path (pairs or a record). */
  makeDirectory(
    entries: Iterable<[string, DataLike]> | Record<string, DataLike>,
    options?: BuiltinOptions,
  ): Task {
    return builtin.makeDirectory(this, entries, options);
  }

  /** `buildin/slice_directory`: a file, or with a trailing `/` a subdirectory, of a directory. */
  sliceDirectory(
    input: DataLike,
    path: string,
    options?: BuiltinOptions & { contentType?: string },
  ): Task {
    return builtin.sliceDirectory(this, input, path, options);
  }

  /**
   * `buildin/run`: runs a program with its inputs mapped to files. `args` is a string (split
   * like a shell does) or a list of strings, objects (mapped to a random file name), `Input`s
   * and `Output`s (their paths go to argv).
   */
  execute(args: string | Iterable<ExecuteArg>, options?: ExecuteOptions): Task {
    return builtin.execute(this, args, options);
  }

  /** The `execute` task of a `Program`, its `Input`s bound to `objects` by label. */
  program(
    program: Program,
    objects: Record<string, DataLike>,
    policy?: PolicyOptions,
  ): Task {
    return program.task(this, objects, policy);
  }

  // --- talking to the server -------------------------------------------------------------------

  /** Calls the API; a failed session becomes a `TaskError` explaining the failed task. */
  async #call<T>(fn: (api: Api) => Promise<T>): Promise<T> {
    const state = checkOpen(this);
    if (state.api === undefined) {
      throw new RainError(`${this} is offline (it has no client)`);
    }
    if (state.failure !== undefined) throw new TaskError(state.failure);
    try {
      return await fn(state.api);
    } catch (e) {
      if (e instanceof TaskError && e.kind === "TaskFailed") {
        // Only the tasks waited for failed (or were cancelled): the session goes on.
        throw new TaskError(explainFailure(this, e.message), { cause: e }, "TaskFailed");
      }
      if (e instanceof TaskError) {
        state.failure ??= explainFailure(this, e.message);
        throw new TaskError(state.failure, { cause: e });
      }
      throw e;
    }
  }

  /** Sends every task and object created since the last submit to the server. */
  async submit(): Promise<void> {
    const state = checkOpen(this);
    const tasks = state.unsubmittedTasks;
    const objects = state.unsubmittedObjects;
    checkInputsKept(tasks);
    const constants = submitConstants(objects);
    await this.#call((api) =>
      api.submit(this.id, submitHead(api.submitEncoding, tasks, objects), constants)
    );
    state.unsubmittedTasks = [];
    state.unsubmittedObjects = [];
    for (const task of tasks) {
      task.state = "notAssigned";
      state.submittedTasks.set(taskState(task).n, task);
    }
    for (const obj of objects) {
      obj.state = objectState(obj).constant !== undefined ? "finished" : "unfinished";
    }
  }

  /** Resolves when all the given tasks and objects are finished. */
  async wait(items: Iterable<SessionItem>): Promise<void> {
    const list = [...items];
    const [tasks, objects] = splitItems(this, list, "wait for");
    await this.#call((api) => api.wait(this.id, tasks, objects, "all"));
    for (const item of list) item.state = "finished";
  }

  /**
   * Resolves when at least one of the items is finished, with the finished ones. (Beyond Rain
   * 0.4's client, like the Python client's `wait_some`.)
   */
  async waitSome(
    items: Iterable<SessionItem>,
  ): Promise<{ tasks: Task[]; objects: DataObject[] }> {
    const list = [...items];
    const [taskIds, objectIds] = splitItems(this, list, "wait for");
    if (list.length === 0) return { tasks: [], objects: [] };
    const answer = await this.#call((api) => api.wait(this.id, taskIds, objectIds, "some"));
    return markFinished(list, answer);
  }

  /** Resolves when every task submitted so far is finished (at once if there is none). */
  async waitAll(): Promise<void> {
    const state = checkOpen(this);
    if (state.submittedTasks.size === 0) {
      if (state.failure !== undefined) throw new TaskError(state.failure);
      return;
    }
    await this.#call((api) => api.waitAll(this.id));
    for (const task of state.submittedTasks.values()) task.state = "finished";
  }

  /**
   * Stops the given tasks (running ones are killed) and every task depending on them; resolves
   * with the tasks stopped. Waiting for them (or fetching their outputs) throws a `TaskError`.
   */
  async cancel(tasks: Iterable<Task>): Promise<Task[]> {
    const list = [...tasks];
    const [taskIds] = splitItems(this, list, "cancel");
    const stopped = await this.#call((api) => api.cancel(this.id, taskIds));
    return this.#tasksOf(stopped, "failed");
  }

  /**
   * The tasks failed so far in an `on_failure: "continue"` session (their own failure or an
   * input's), in order; each one's `info.error` says why.
   */
  async failedTasks(): Promise<Task[]> {
    const failed = await this.#call((api) => api.failedTasks(this.id));
    const tasks = this.#tasksOf(failed.map((f) => f.id), "failed");
    tasks.forEach((task, i) => task.info = { ...task.info, error: failed[i]?.error });
    return tasks;
  }

  /** Runs the failed tasks of a `"continue"` session and their dependents again. */
  async rerunFailed(): Promise<Task[]> {
    const ids = await this.#call((api) => api.rerunFailed(this.id));
    return this.#tasksOf(ids, "notAssigned");
  }

  /** The submitted tasks of these ids (in order), now in `state`. */
  #tasksOf(ids: number[], state: TaskState): Task[] {
    const submitted = sessionState(this).submittedTasks;
    const tasks = ids.flatMap((id) => submitted.get(id) ?? []);
    for (const task of tasks) task.state = state;
    return tasks;
  }

  #checkFetchable(value: DataLike): DataObject {
    const obj = toDataObject(value);
    splitItems(this, [obj], "fetch");
    if (!obj.isKept) {
      throw new RainError(
        `cannot fetch ${obj}: it is not kept (call keep() before submit)`,
      );
    }
    return obj;
  }

  /** Downloads a kept object (waiting until it is finished) into memory. */
  async fetch(value: DataLike): Promise<DataInstance> {
    // A stream broken half-way (the server restarted) is fetched again from the start.
    const transport = sessionState(this).api?.transport;
    const once = async () => {
      const stream = await this.fetchStream(value);
      try {
        return await stream.read();
      } catch (e) {
        if (e instanceof RainError) throw e;
        throw new RainError(`connection to Rain server lost: ${e}`, "Connection", { cause: e });
      }
    };
    return transport ? await transport.retrying(once) : await once();
  }

  /** A kept object's data as a stream (waiting until it is finished). */
  async fetchStream(value: DataLike): Promise<DataStream> {
    const obj = this.#checkFetchable(value);
    const response = await this.#call((api) => api.fetch(this.id, obj.id[1]));
    const stream = await readFetchBody(response);
    obj.info = stream.info;
    obj.state = "finished";
    return stream;
  }

  /** Downloads the current state and info of the given tasks and objects. */
  async update(items: Iterable<SessionItem>): Promise<void> {
    const list = [...items];
    const [taskIds, objectIds] = splitItems(this, list, "update");
    const answer = await this.#call((api) => api.update(this.id, taskIds, objectIds));
    applyUpdate(list, answer);
  }

  /** Releases kept objects; the server may then free them. */
  async unkeep(values: Iterable<DataLike>): Promise<void> {
    const objects = [...values].map(toDataObject);
    for (const obj of objects) {
      if (!obj.isKept) {
        throw new RainError(`cannot unkeep ${obj}: it is not kept`);
      }
    }
    const submitted = objects.filter((obj) => obj.state !== undefined);
    if (submitted.length) {
      const [, ids] = splitItems(this, submitted, "unkeep");
      await this.#call((api) => api.unkeep(this.id, ids));
    }
    for (const obj of objects) objectState(obj).keep = false;
  }

  /**
   * Closes the session: the server stops its tasks and drops its objects. Never throws for a
   * session that failed or is already gone.
   */
  async close(): Promise<void> {
    const state = sessionState(this);
    if (!state.active) return;
    state.active = false;
    if (state.api === undefined) return;
    try {
      await state.api.closeSession(this.id);
    } catch (e) {
      // Already gone on the server (or the server itself is gone): nothing to do.
      if (!(e instanceof RainError)) throw e;
      if (!GONE_KINDS.has(e.kind) && state.api.lifeline.alive) throw e;
    } finally {
      await state.echo?.stop();
    }
  }

  /** `await using session = …` closes it at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

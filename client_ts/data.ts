/**
 * Data objects of a session's graph (`DataObject`), with what is re-exported from here:
 * constants uploaded with a submit (constants.ts) and fetched data (fetched_data.ts:
 * `DataInstance` in memory, `DataStream` streamed).
 *
 * @module
 */
import { checkContentType } from "./content_type.ts";
import { RainError } from "./errors.ts";
import { checkOpen, type ObjectState as InternalState, setObjectStateReader } from "./internal.ts";
import type { Session } from "./session.ts";
import { Task } from "./task.ts";
import type { DataType, Id, ObjectInfo, ObjectSpec, ObjectState, UserAttributes } from "./types.ts";
import { formatId } from "./types.ts";
import type { DataInstance, DataStream } from "./fetched_data.ts";
export type { TarEntry } from "./tar.ts";
export { makeBlob, makeDirectory, makeFileBlob } from "./constants.ts";
export type { BlobOptions, BlobValue } from "./constants.ts";
export { DataInstance, DataStream, FetchedData, readFetchBody } from "./fetched_data.ts";

/**
 * A data object, or a task with exactly one output (standing for that output).
 *
 * @example
 * ```ts
 * import { Client } from "@rain/client";
 * await using client = await Client.connect();
 * await using session = await client.newSession();
 * const sleep = session.sleep(session.blob("x"), 1);
 * session.concat([sleep, sleep.output]); // the task stands for its only output
 * ```
 */
export type DataLike = DataObject | Task;

/**
 * A blob or directory in a session's graph: a constant or the output of a task. `state` is
 * undefined until submitted; `info` until `update()` or a fetch brings it.
 *
 * @example
 * ```ts
 * import { Client } from "@rain/client";
 * await using client = await Client.connect();
 * await using session = await client.newSession();
 * const task = session.concat([session.blob("Hello "), session.blob("world!")]);
 * task.output.keep();
 * await session.submit();
 * console.log(await task.output.fetch().then((d) => d.text())); // "Hello world!"
 * ```
 */
export class DataObject {
  /** The session the object belongs to. */
  readonly session: Session;
  /** What is known once computed (after `update()` or a fetch). */
  info: ObjectInfo | undefined = undefined;
  /** Undefined until submitted. */
  state: ObjectState | undefined = undefined;
  readonly #state: InternalState;

  static {
    setObjectStateReader((obj) => obj.#state);
  }

  /**
   * A new object in `session` (made by the session's methods; use this for task outputs given as
   * objects).
   */
  constructor(
    session: Session,
    options: { label?: string; dataType?: DataType; contentType?: string } = {},
  ) {
    const internal = checkOpen(session);
    const contentType = options.contentType;
    if (contentType !== undefined) checkContentType(contentType);
    const dataType = options.dataType ?? "blob";
    if (dataType !== "blob" && dataType !== "dir") {
      throw new RainError(
        `data type must be "blob" or "dir", not ${JSON.stringify(dataType)}`,
      );
    }
    if (contentType && dataType === "dir") {
      throw new RainError("a directory has no content type");
    }
    this.session = session;
    this.#state = {
      n: internal.nextId++,
      label: options.label,
      dataType,
      contentType: contentType || undefined,
      keep: false,
      constant: undefined,
      producer: undefined,
      id: undefined,
      spec: undefined,
    };
    internal.unsubmittedObjects.push(this);
  }

  /** `[session id, id]` */
  get id(): Id {
    return this.#state.id ??= [this.session.id, this.#state.n];
  }

  /** What was asked for (its `user` attributes may be changed before submit). */
  get spec(): ObjectSpec {
    const state = this.#state;
    if (state.spec === undefined) {
      const spec: ObjectSpec = { id: this.id, data_type: state.dataType };
      if (state.label !== undefined) spec.label = state.label;
      if (state.contentType) spec.content_type = state.contentType;
      state.spec = spec;
    }
    return state.spec;
  }

  /** The label (role at its producer). */
  get label(): string | undefined {
    return this.#state.spec ? this.#state.spec.label : this.#state.label;
  }

  /** `"blob"` or `"dir"`. */
  get dataType(): DataType {
    return this.#state.spec ? this.#state.spec.data_type : this.#state.dataType;
  }

  /** The content type set at run time if known, else the declared one. */
  get contentType(): string | undefined {
    const declared = this.#state.spec ? this.#state.spec.content_type : this.#state.contentType;
    return this.info?.content_type || declared;
  }

  /** Free user attributes of the spec (may be changed until submitted). */
  get user(): UserAttributes {
    return this.spec.user ??= {};
  }

  /** The task producing this object, if any. */
  get producer(): Task | undefined {
    return this.#state.producer;
  }

  /** Asks the server to keep the object after use, so it can be fetched or used later. */
  keep(): this {
    if (this.state !== undefined) {
      throw new RainError(`cannot keep ${this}: it was already submitted`);
    }
    this.#state.keep = true;
    return this;
  }

  /** True if kept. */
  get isKept(): boolean {
    return this.#state.keep;
  }

  /** Releases a kept object; the server may then free it. */
  unkeep(): Promise<void> {
    return this.session.unkeep([this]);
  }

  /** Resolves when the object is finished. */
  wait(): Promise<void> {
    return this.session.wait([this]);
  }

  /** The object's data (it must be kept), read into memory. */
  fetch(): Promise<DataInstance> {
    return this.session.fetch(this);
  }

  /** The object's data as a stream (it must be kept): for data too big for memory. */
  fetchStream(): Promise<DataStream> {
    return this.session.fetchStream(this);
  }

  /** Downloads the current state and info. */
  update(): Promise<void> {
    return this.session.update([this]);
  }

  /** `<DataObject 1/10 blob 'label' kept>` */
  toString(): string {
    return `<DataObject ${formatId(this.id)} ${this.dataType}${
      this.label !== undefined ? ` '${this.label}'` : ""
    }${this.isKept ? " kept" : ""}>`;
  }
}

/** The object of a `DataLike`: a data object, or the only output of a task. */
export function toDataObject(value: DataLike): DataObject {
  if (value instanceof DataObject) return value;
  if (value instanceof Task) return value.output;
  throw new TypeError(
    `expected a DataObject or a Task with one output, got ${describe(value)}`,
  );
}

export function describe(value: unknown): string {
  if (value === null || typeof value !== "object") {
    return JSON.stringify(value) ?? String(value);
  }
  return `${value.constructor?.name ?? "object"} ${String(value)}`;
}

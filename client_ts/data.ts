/**
 * Data objects of a session's graph (`DataObject`), constants uploaded with a submit, and fetched
 * data (`DataInstance` in memory, `DataStream` streamed).
 *
 * @module
 */
import {
  checkContentType,
  decodeText,
  decodeValue,
  encodeValue,
  textEncoding,
} from "./content_type.ts";
import { RainError } from "./errors.ts";
import { ByteReader } from "./framing.ts";
import {
  checkOpen,
  type ObjectState as InternalState,
  objectState,
  setObjectStateReader,
} from "./internal.ts";
import type { Session } from "./session.ts";
import { extractTar, listEntries, packDirectory, type TarEntry } from "./tar.ts";
import { Task } from "./task.ts";
import type {
  DataType,
  FetchHeader,
  Id,
  ObjectInfo,
  ObjectSpec,
  ObjectState,
  UserAttributes,
} from "./types.ts";
import { formatId } from "./types.ts";

export type { TarEntry };

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

function describe(value: unknown): string {
  if (value === null || typeof value !== "object") {
    return JSON.stringify(value) ?? String(value);
  }
  return `${value.constructor?.name ?? "object"} ${String(value)}`;
}

// --- constants ---------------------------------------------------------------------------------

/**
 * Options of a constant blob.
 *
 * @example
 * ```ts
 * import { Client } from "@rain/client";
 * await using client = await Client.connect();
 * await using session = await client.newSession();
 * session.blob("plain text"); // content type "text", label "const"
 * session.blob([1, 2, 3], { encode: "json", label: "numbers" });
 * session.blob(new Uint8Array([137, 80]), { contentType: "mime/image/png" });
 * ```
 */
export interface BlobOptions {
  /** Label of the object (default `"const"`). */
  label?: string;
  /** Content type of the data (a string value defaults to `"text"`). */
  contentType?: string;
  /** Serializes the value: `"json"`, or `"text"` (UTF-8); sets the content type. */
  encode?: string;
}

/**
 * A value a constant blob can be made of.
 *
 * @example
 * ```ts
 * import { Client } from "@rain/client";
 * await using client = await Client.connect();
 * await using session = await client.newSession();
 * session.blob(new Uint8Array([1, 2])); // bytes as they are
 * session.blob("text"); // UTF-8 text
 * session.blob({ any: "value" }, { encode: "json" }); // serialized
 * ```
 */
export type BlobValue = Uint8Array | ArrayBuffer | string | unknown;

/** A constant blob in `session` (see `Session.blob`). */
export function makeBlob(
  session: Session,
  value: BlobValue,
  options: BlobOptions = {},
): DataObject {
  let contentType = options.contentType;
  let data: Uint8Array;
  if (options.encode !== undefined) {
    if (contentType !== undefined && contentType !== options.encode) {
      throw new RainError(
        `contentType '${contentType}' contradicts encode '${options.encode}'`,
      );
    }
    contentType = options.encode;
    data = encodeValue(value, options.encode);
  } else if (typeof value === "string") {
    contentType ||= "text";
    checkContentType(contentType);
    data = encodeValue(
      value,
      textEncoding(contentType) !== undefined ? contentType : "text",
    );
  } else if (value instanceof Uint8Array) {
    data = value;
  } else if (value instanceof ArrayBuffer) {
    data = new Uint8Array(value);
  } else {
    throw new RainError(
      `blob() needs bytes or a string, not ${describe(value)} (use encode: "json")`,
    );
  }
  const obj = new DataObject(session, {
    label: options.label ?? "const",
    dataType: "blob",
    contentType,
  });
  objectState(obj).constant = data;
  return obj;
}

/** A constant blob read from a local file when submitted (streamed, never held whole). */
export async function makeFileBlob(
  session: Session,
  path: string,
  options: { label?: string; contentType?: string } = {},
): Promise<DataObject> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (e) {
    throw new RainError(`cannot read '${path}': ${(e as Error).message}`);
  }
  if (!info.isFile) throw new RainError(`'${path}' is not a file`);
  const obj = new DataObject(session, {
    label: options.label ?? "const",
    dataType: "blob",
    contentType: options.contentType,
  });
  objectState(obj).constant = { path, size: info.size };
  return obj;
}

/** A constant directory: the local directory `path` packed as a tar archive. */
export async function makeDirectory(
  session: Session,
  path: string,
  options: { label?: string } = {},
): Promise<DataObject> {
  checkOpen(session);
  const data = await packDirectory(path);
  const obj = new DataObject(session, {
    label: options.label ?? "const_dir",
    dataType: "dir",
  });
  objectState(obj).constant = data;
  return obj;
}

// --- fetched data ------------------------------------------------------------------------------

/**
 * What all fetched data carries: spec, info, data type, content type and size. The base of
 * `DataInstance` and `DataStream`.
 *
 * @example
 * ```ts
 * import { Client, type FetchedData } from "@rain/client";
 * function describe(data: FetchedData): string {
 *   return `${data.dataType} of ${data.size} bytes, content type ${data.contentType ?? "none"}`;
 * }
 * await using client = await Client.connect();
 * await using session = await client.newSession();
 * const obj = session.blob("hi").keep();
 * await session.submit();
 * console.log(describe(await obj.fetch())); // "blob of 2 bytes, content type text"
 * ```
 */
export abstract class FetchedData {
  /** The object's spec. */
  readonly spec: ObjectSpec;
  /** The object's info. */
  readonly info: ObjectInfo;
  /** `"blob"` or `"dir"` (a directory's data is a tar archive). */
  readonly dataType: DataType;
  /** Size of the data in bytes (approximate for directories). */
  readonly size: number;
  /** The content type set at run time, else the declared one. */
  readonly contentType: string | undefined;

  /** Fetched data described by `header`. */
  constructor(header: FetchHeader) {
    this.spec = header.spec;
    this.info = header.info ?? {};
    this.dataType = header.data_type ?? "blob";
    this.size = header.size;
    this.contentType = this.info.content_type || header.content_type ||
      this.spec.content_type ||
      undefined;
  }

  /** Throws unless this is a blob. */
  protected blobOnly(what: string): void {
    if (this.dataType !== "blob") {
      throw new RainError(
        `${what} needs a blob, but ${formatId(this.spec.id)} is a directory ` +
          "(use writeTo() or entries())",
      );
    }
  }
}

/**
 * Data of an object fetched into memory (`DataObject.fetch()`): bytes (a tar archive for a
 * directory), with the object's spec and info.
 *
 * @example
 * ```ts
 * import { Client } from "@rain/client";
 * await using client = await Client.connect();
 * await using session = await client.newSession();
 * const obj = session.blob({ answer: 42 }, { encode: "json" }).keep();
 * await session.submit();
 * const data = await obj.fetch();
 * data.bytes(); // Uint8Array of the JSON text
 * data.json<{ answer: number }>().answer; // 42
 * ```
 */
export class DataInstance extends FetchedData {
  readonly #data: Uint8Array;

  /** Fetched data and its header. */
  constructor(header: FetchHeader, data: Uint8Array) {
    super(header);
    this.#data = data;
  }

  /** The data as bytes (a tar archive for a directory). */
  bytes(): Uint8Array {
    return this.#data;
  }

  /** The data as text, in the encoding of a `text-<encoding>` content type, else UTF-8. */
  text(): string {
    this.blobOnly("text()");
    return decodeText(this.#data, textEncoding(this.contentType) ?? "utf-8");
  }

  /** The data parsed as JSON. */
  json<T = unknown>(): T {
    this.blobOnly("json()");
    return JSON.parse(new TextDecoder().decode(this.#data)) as T;
  }

  /** The data decoded by its content type (`json` or `text…`); others throw. */
  load(): unknown {
    this.blobOnly("load()");
    return decodeValue(this.#data, this.contentType);
  }

  /** The entries of a directory (file data included). */
  entries(): Promise<TarEntry[]> {
    if (this.dataType !== "dir") {
      throw new RainError("entries() needs a directory");
    }
    return listEntries(this.#data);
  }

  /** Writes a blob to the file `path`, or extracts a directory to the new directory `path`. */
  async writeTo(path: string): Promise<void> {
    if (this.dataType === "dir") {
      await extractTar(new Blob([this.#data as BlobPart]).stream(), path);
    } else {
      await Deno.writeFile(path, this.#data);
    }
  }
}

/**
 * Data of an object as it streams in (`DataObject.fetchStream()`), for data too big to hold in
 * memory. Read `readable` once, or use `writeTo`; dispose it (or cancel `readable`) to stop early.
 *
 * @example
 * ```ts
 * import { Client } from "@rain/client";
 * await using client = await Client.connect();
 * await using session = await client.newSession();
 * const big = session.load("/data/big.bin").output.keep();
 * await session.submit();
 * await using stream = await big.fetchStream();
 * await stream.writeTo("/tmp/big.bin"); // streamed to disk, never held whole
 * ```
 */
export class DataStream extends FetchedData implements AsyncDisposable {
  /** The data: exactly `size` bytes for a blob, a tar stream for a directory. */
  readonly readable: ReadableStream<Uint8Array<ArrayBuffer>>;

  /** Streamed data after its header. */
  constructor(
    header: FetchHeader,
    readable: ReadableStream<Uint8Array<ArrayBuffer>>,
  ) {
    super(header);
    this.readable = readable;
  }

  /** Reads everything into a `DataInstance`. */
  async read(): Promise<DataInstance> {
    const data = await new ByteReader(this.readable).readAll();
    return new DataInstance(
      {
        id: this.spec.id[1],
        data_type: this.dataType,
        size: this.size,
        spec: this.spec,
        info: this.info,
        content_type: this.contentType,
      },
      data,
    );
  }

  /** Streams a blob into the file `path`, or extracts a directory to the new directory `path`. */
  async writeTo(path: string): Promise<void> {
    if (this.dataType === "dir") {
      await extractTar(this.readable, path);
    } else {
      const file = await Deno.open(path, {
        write: true,
        create: true,
        truncate: true,
      });
      await this.readable.pipeTo(file.writable);
    }
  }

  /** Stops reading (the rest of the data is not transferred). */
  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.readable.locked) await this.readable.cancel().catch(() => {});
  }
}

/** Reads a fetch answer: the framed header, then the data. */
export async function readFetchBody(response: Response): Promise<DataStream> {
  if (!response.body) {
    throw new RainError("fetch answered without a body", "Connection");
  }
  const reader = new ByteReader(response.body);
  let header: FetchHeader;
  try {
    header = await reader.header<FetchHeader>();
  } catch (e) {
    await reader.cancel();
    throw e;
  }
  const dataType = header.data_type ?? "blob";
  const readable = dataType === "blob" ? reader.rest(header.size, true) : reader.rest();
  return new DataStream(header, readable);
}

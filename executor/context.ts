/**
 * What a task function of a TypeScript executor gets (`Context`, its inputs `InputData`) and
 * returns (`Output`s, blobs); re-exported by mod.ts.
 *
 * @module
 */
import { isAbsolute, join } from "node:path";
import type {
  JsonValue,
  ObjectInfo,
  ObjectSpec,
  TaskSpec,
  UserAttributes,
} from "../common/attributes.ts";
import type { Call, CallInput } from "../common/executor_protocol.ts";
import type { ResourceAllocation } from "../common/resources.ts";

const encoder = new TextEncoder();

const decoder = new TextDecoder();

/** A task failure with a complete message (no stack is added). */
export class TaskError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TaskError";
  }
}

/** One input of a task. */
export class InputData {
  readonly spec: ObjectSpec;
  readonly info: ObjectInfo;
  readonly size: number;
  readonly index: number;
  #data: Uint8Array | undefined;
  #path: string | undefined;
  #kept: unknown;
  #keep = false;
  #keepValue: unknown;

  /** @internal */
  constructor(
    index: number,
    entry: CallInput,
    data: Uint8Array | undefined,
    path: string | undefined,
    kept: unknown,
  ) {
    this.index = index;
    this.spec = entry.spec;
    this.info = entry.info ?? {};
    this.size = entry.size;
    this.#data = data;
    this.#path = path;
    this.#kept = kept;
  }

  get dataType(): "blob" | "dir" {
    return this.spec.data_type;
  }

  /** The run-time content type if known, else the declared one. */
  get contentType(): string | undefined {
    return this.info.content_type || this.spec.content_type || undefined;
  }

  get label(): string | undefined {
    return this.spec.label;
  }

  /**
   * Path of the data in the governor's storage (file or directory), if it is there rather than
   * in memory. Read-only: never modify it.
   */
  get path(): string | undefined {
    return this.#path;
  }

  /** The bytes of a blob. */
  async bytes(): Promise<Uint8Array> {
    if (this.#data !== undefined) return this.#data;
    if (this.dataType === "dir") {
      throw new TaskError(`input ${this.index} is a directory; use its path`);
    }
    return await Deno.readFile(this.#path!);
  }

  /** The blob as UTF-8 text. */
  async text(): Promise<string> {
    return decoder.decode(await this.bytes());
  }

  /** The blob parsed as JSON. */
  async json(): Promise<JsonValue> {
    return JSON.parse(await this.text());
  }

  /**
   * Asks the governor to keep this input in this executor for the rest of the session: later
   * calls get it without sending the data again, and `kept` returns `value` (e.g. something
   * parsed from the data) in them.
   */
  keep(value?: unknown): void {
    this.#keep = true;
    this.#keepValue = value;
  }

  /** The value given to `keep()` by an earlier task of this session (undefined if none). */
  get kept(): unknown {
    return this.#kept;
  }

  /** @internal */
  get keepRequest(): { value: unknown; data?: Uint8Array; path?: string } | undefined {
    return this.#keep ? { value: this.#keepValue, data: this.#data, path: this.#path } : undefined;
  }
}

/** An output made by a task function (from the `Context` methods). */
export class Output {
  /** @internal */
  constructor(
    readonly kind: "data" | "path" | "input",
    readonly data?: Uint8Array,
    readonly path?: string,
    readonly input?: number,
    readonly contentType?: string,
    readonly user?: UserAttributes,
  ) {}
}

export type OutputValue = Output | Uint8Array | string;

export type TaskResult = OutputValue | OutputValue[] | undefined | void;

export type TaskFunction = (ctx: Context) => TaskResult | Promise<TaskResult>;

/** What a task function works with. */
export class Context {
  readonly spec: TaskSpec;
  readonly inputs: InputData[];
  /** Specs of the outputs to produce (label, content type, data type). */
  readonly outputs: ObjectSpec[];
  /** The task's `info.user`: set attributes here to report them to the client. */
  readonly userInfo: UserAttributes = {};
  /** The working directory of the task (the current directory when it starts). */
  readonly workDir: string;
  /** Id of the governor running the task. */
  readonly governorId: string;
  /**
   * Which run of the task this is: 1, then 2, 3… when it is retried (`max_retries`) or run again
   * after its governor was lost.
   */
  readonly attempt: number;
  /**
   * What the task was given: `cpus`, and when it asked for them `memory`, `gpus` (device ids),
   * `gpu_share`, `custom` (docs/resources.md). Use only these (e.g. pass `gpus` on as
   * `CUDA_VISIBLE_DEVICES` to what the task starts).
   */
  readonly resources: ResourceAllocation;
  #debug: string[] = [];

  /** @internal */
  constructor(call: Call, inputs: InputData[], workDir: string, governorId: string) {
    this.spec = call.spec;
    this.inputs = inputs;
    this.outputs = call.outputs;
    this.workDir = workDir;
    this.governorId = governorId;
    this.attempt = call.attempt ?? 1;
    this.resources = call.resources ?? { cpus: call.spec.resources?.cpus ?? 1 };
  }

  /** `spec.config`. */
  get config(): JsonValue | undefined {
    return this.spec.config;
  }

  /** Adds a line to the task's debug text (`info.debug`, also shown when it fails). */
  debug(...parts: unknown[]): void {
    this.#debug.push(parts.map((p) => typeof p === "string" ? p : JSON.stringify(p)).join(" "));
  }

  /** @internal */
  get debugText(): string {
    return this.#debug.join("\n");
  }

  /** Input `index`; fails the task if there is no such input. */
  input(index: number): InputData {
    const input = this.inputs[index];
    if (input === undefined) throw new TaskError(`there is no input ${index}`);
    return input;
  }

  /** Fails the task unless it got exactly `n` inputs. */
  checkInputs(n: number): void {
    if (this.inputs.length !== n) {
      throw new TaskError(`${this.spec.task_type} takes ${n} inputs, got ${this.inputs.length}`);
    }
  }

  /** A blob output: bytes, or a string (UTF-8, content type `text` unless given). */
  blob(
    data: Uint8Array | string,
    options: { contentType?: string; user?: UserAttributes } = {},
  ): Output {
    const text = typeof data === "string";
    const bytes = text ? encoder.encode(data) : data;
    const contentType = options.contentType ?? (text ? "text" : undefined);
    return new Output("data", bytes, undefined, undefined, contentType, options.user);
  }

  /** A blob output holding `value` as JSON (content type `json`). */
  json(value: unknown, options: { user?: UserAttributes } = {}): Output {
    return new Output(
      "data",
      encoder.encode(JSON.stringify(value)),
      undefined,
      undefined,
      "json",
      options.user,
    );
  }

  /**
   * A blob output from a file the task wrote in its working directory: it is moved into the
   * governor's storage after the task returns.
   */
  stageFile(path: string, options: { contentType?: string; user?: UserAttributes } = {}): Output {
    return new Output("path", undefined, this.#inWorkDir(path), undefined, options.contentType, {
      ...options.user,
    });
  }

  /** A directory output from a directory the task wrote in its working directory. */
  stageDirectory(path: string, options: { user?: UserAttributes } = {}): Output {
    return new Output("path", undefined, this.#inWorkDir(path), undefined, undefined, {
      ...options.user,
    });
  }

  /** An output with the same data as input `index` (no copy). */
  passInput(index: number, options: { contentType?: string } = {}): Output {
    if (this.inputs[index] === undefined) throw new TaskError(`there is no input ${index}`);
    return new Output("input", undefined, undefined, index, options.contentType);
  }

  #inWorkDir(path: string): string {
    return isAbsolute(path) ? path : join(this.workDir, path);
  }
}

/**
 * Writing Rain executors in TypeScript (Deno).
 *
 * An executor is a program a governor starts to run tasks of the type `<executor>/<method>`.
 * Register it in the governor's TOML config and run tasks of it from any client:
 *
 * ```toml
 * [executors.example1]
 * command = "deno run -A /path/to/my_executor.ts"
 * ```
 *
 * ```ts
 * import { Executor } from "/path/to/rain/executor/mod.ts";
 *
 * new Executor()
 *   .task("hello", async (ctx) => {
 *     ctx.checkInputs(1);
 *     return `Hello ${await ctx.input(0).text()}!`;
 *   })
 *   .run();
 * ```
 *
 * A task function gets a `Context`: the task's spec and config, its inputs (`InputData`: bytes,
 * text, JSON, or a read-only path), `debug()` messages and `userInfo` (reported as the task's
 * `info.debug` / `info.user`), and ways to make outputs (`blob`, `json`, `stageFile`,
 * `stageDirectory`, `passInput`). It returns its outputs: one value for one output, an array
 * for several, nothing for none; a `Uint8Array` or `string` is a blob (a string has content
 * type `text` unless the output declares another). Throwing fails the task with the error's
 * message and stack.
 *
 * The wire protocol is in common/executor_protocol.ts and docs/executors.md.
 */
import { isAbsolute, join } from "node:path";
import type {
  JsonValue,
  ObjectInfo,
  ObjectSpec,
  TaskSpec,
  UserAttributes,
} from "../common/attributes.ts";
import {
  type Call,
  type CallFailed,
  type CallInput,
  type CallOutput,
  type CallResult,
  decodeFrameBody,
  encodeFrame,
  EXECUTOR_ENV,
  EXECUTOR_PROTOCOL_VERSION,
  FrameSplitter,
  type ToExecutor,
} from "../common/executor_protocol.ts";
import type { ResourceAllocation } from "../common/resources.ts";
import { redirectOutput } from "./task_output.ts";

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

/**
 * Every call starts in an empty working directory: what the previous task left there is removed
 * (its staged outputs were moved out by the governor before this call).
 */
function cleanWorkDir(workDir: string): void {
  try {
    if (Deno.cwd() !== workDir) Deno.chdir(workDir);
  } catch {
    Deno.chdir(workDir);
  }
  for (const entry of [...Deno.readDirSync(workDir)]) {
    const path = join(workDir, entry.name);
    try {
      Deno.removeSync(path, { recursive: true });
    } catch (e) {
      if (!(e instanceof Deno.errors.PermissionDenied)) throw e;
      makeWritable(path);
      Deno.removeSync(path, { recursive: true });
    }
  }
}

function makeWritable(path: string): void {
  const info = Deno.lstatSync(path);
  if (!info.isDirectory) return;
  Deno.chmodSync(path, 0o700);
  for (const entry of Deno.readDirSync(path)) makeWritable(join(path, entry.name));
}

function errorText(e: unknown): string {
  if (e instanceof TaskError) return e.message;
  if (e instanceof Error) return e.stack ?? `${e.name}: ${e.message}`;
  return String(e);
}

/** An executor: named task functions served to the governor that started this program. */
export class Executor {
  readonly tasks = new Map<string, TaskFunction>();
  #type: string;
  /** Inputs kept per session: object id → what the call needs to stand in for the data. */
  #kept = new Map<number, Map<number, { value: unknown; data?: Uint8Array; path?: string }>>();

  constructor(options: { type?: string } = {}) {
    this.#type = options.type ?? Deno.env.get(EXECUTOR_ENV.type) ?? "";
  }

  /** Registers the task function of `<executor>/<name>`. */
  task(name: string, fn: TaskFunction): this {
    this.tasks.set(name, fn);
    return this;
  }

  /**
   * Connects to the governor (from the environment it started this program with), registers,
   * and serves calls one at a time until the governor closes the connection. Exits the process
   * if the governor dies.
   */
  async run(): Promise<void> {
    const socket = Deno.env.get(EXECUTOR_ENV.socket);
    const id = Deno.env.get(EXECUTOR_ENV.id);
    if (!socket || !id) {
      throw new Error(
        `${EXECUTOR_ENV.socket} / ${EXECUTOR_ENV.id} are not set: executors are started by a ` +
          "Rain governor (see docs/executors.md)",
      );
    }
    const workDir = Deno.env.get(EXECUTOR_ENV.workDir) ?? Deno.cwd();
    const governorId = Deno.env.get(EXECUTOR_ENV.governor) ?? "";
    const conn = await Deno.connect({ transport: "unix", path: socket });
    const send = async (message: object, parts: Uint8Array[] = []) => {
      const bytes = encodeFrame(message, parts);
      let written = 0;
      while (written < bytes.length) written += await conn.write(bytes.subarray(written));
    };
    await send({
      type: "register",
      protocol_version: EXECUTOR_PROTOCOL_VERSION,
      executor_id: id,
      executor_type: this.#type,
      pid: Deno.pid,
      library: "rain-executor-ts",
    });
    const parent = Deno.ppid;
    const watchdog = setInterval(() => {
      if (Deno.ppid !== parent) Deno.exit(1);
    }, 1000);
    Deno.unrefTimer(watchdog);
    const splitter = new FrameSplitter();
    try {
      for (;;) {
        let body: Uint8Array | undefined;
        while ((body = splitter.next()) !== undefined) {
          const { message, parts } = decodeFrameBody<ToExecutor>(body);
          if (message.type === "call") {
            const restore = redirectOutput(message.output);
            let handled;
            try {
              handled = await this.#handle(message, parts, workDir, governorId);
            } finally {
              restore();
            }
            await send(...handled);
          } else if (message.type === "drop_session") {
            this.#kept.delete(message.session);
          }
        }
        const n = await conn.read(splitter.space());
        if (n === null) return;
        splitter.commit(n);
      }
    } finally {
      clearInterval(watchdog);
      try {
        conn.close();
      } catch {
        // closed by the governor
      }
    }
  }

  async #handle(
    call: Call,
    parts: Uint8Array[],
    workDir: string,
    governorId: string,
  ): Promise<[CallResult | CallFailed, Uint8Array[]]> {
    const session = call.spec.id[0];
    const kept = this.#kept.get(session);
    const inputs = call.inputs.map((entry, i) => {
      if (entry.cached) {
        const k = kept?.get(entry.spec.id[1]);
        return new InputData(i, entry, k?.data, k?.path, k?.value);
      }
      const part = entry.part === undefined ? undefined : parts[entry.part];
      if (entry.part !== undefined && part === undefined) {
        throw new Error(`input ${i} names part ${entry.part} of ${parts.length}`);
      }
      const data = part?.slice();
      return new InputData(i, entry, data, entry.path, undefined);
    });
    cleanWorkDir(workDir);
    const ctx = new Context(call, inputs, workDir, governorId);
    const info = () => {
      const out: { debug?: string; user?: UserAttributes } = {};
      if (ctx.debugText) out.debug = ctx.debugText;
      if (Object.keys(ctx.userInfo).length) out.user = ctx.userInfo;
      return Object.keys(out).length ? out : undefined;
    };
    const keep: number[] = [];
    const remember = () => {
      for (const input of inputs) {
        const request = input.keepRequest;
        if (request === undefined) continue;
        let map = this.#kept.get(session);
        if (map === undefined) this.#kept.set(session, map = new Map());
        map.set(input.spec.id[1], request);
        keep.push(input.index);
      }
    };
    try {
      const fn = this.tasks.get(call.method);
      if (fn === undefined) {
        throw new TaskError(
          `executor '${this.#type}' has no task '${call.method}' (it has: ${
            [...this.tasks.keys()].map((k) => `'${k}'`).join(", ") || "none"
          })`,
        );
      }
      const result = await fn(ctx);
      const outParts: Uint8Array[] = [];
      const outputs = toOutputs(ctx, result, outParts);
      remember();
      const answer: CallResult = { type: "result", task: call.spec.id, outputs };
      const i = info();
      if (i) answer.info = i;
      if (keep.length) answer.keep = keep;
      return [answer, outParts];
    } catch (e) {
      remember();
      const answer: CallFailed = { type: "failed", task: call.spec.id, error: errorText(e) };
      const i = info();
      if (i) answer.info = i;
      if (keep.length) answer.keep = keep;
      return [answer, []];
    }
  }
}

function toOutputs(ctx: Context, result: TaskResult, parts: Uint8Array[]): CallOutput[] {
  const n = ctx.outputs.length;
  let values: OutputValue[];
  if (n === 0) {
    if (result !== undefined) throw new TaskError("the task has no outputs but returned a value");
    values = [];
  } else if (n === 1 && !Array.isArray(result)) {
    values = [result as OutputValue];
  } else if (Array.isArray(result)) {
    values = result;
  } else {
    throw new TaskError(`the task has ${n} outputs and must return an array of them`);
  }
  if (values.length !== n) {
    throw new TaskError(`the task returned ${values.length} outputs, ${n} expected`);
  }
  return values.map((v, i) => {
    if (v === undefined || v === null) throw new TaskError(`output ${i} was not returned`);
    const spec = ctx.outputs[i]!; // as many values as outputs: checked above
    const o = v instanceof Output
      ? v
      : typeof v === "string"
      ? ctx.blob(v, { contentType: spec.content_type ?? "text" })
      : v instanceof Uint8Array
      ? ctx.blob(v)
      : undefined;
    if (o === undefined) {
      throw new TaskError(`output ${i}: return an Output, a Uint8Array or a string`);
    }
    const entry: CallOutput = {};
    if (o.kind === "data") {
      entry.part = parts.length;
      parts.push(o.data!);
    } else if (o.kind === "path") {
      entry.path = o.path;
    } else {
      entry.input = o.input;
    }
    if (o.contentType) entry.content_type = o.contentType;
    if (o.user && Object.keys(o.user).length) entry.info = { user: o.user };
    return entry;
  });
}

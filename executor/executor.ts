/**
 * `Executor`: the program a governor starts; it registers task functions and runs their calls
 * (common/executor_protocol.ts); re-exported by mod.ts.
 *
 * @module
 */
import { join } from "node:path";
import type { UserAttributes } from "../common/attributes.ts";
import {
  type Call,
  type CallFailed,
  type CallOutput,
  type CallResult,
  decodeFrameBody,
  encodeFrame,
  EXECUTOR_ENV,
  EXECUTOR_PROTOCOL_VERSION,
  FrameSplitter,
  type ToExecutor,
} from "../common/executor_protocol.ts";
import { redirectOutput } from "./task_output.ts";
import {
  Context,
  InputData,
  Output,
  type OutputValue,
  TaskError,
  type TaskFunction,
  type TaskResult,
} from "./context.ts";

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

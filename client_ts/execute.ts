/**
 * `execute` (`buildin/run`): runs a program with its inputs mapped to files (docs/protocol.md).
 *
 * @module
 */
import { type DataLike, toDataObject } from "./data.ts";
import { isSubtype } from "./content_type.ts";
import { RainError } from "./errors.ts";
import { shellSplit as splitWords } from "./shlex.ts";
import { Input, InputDir, Output } from "./io.ts";
import type { Session } from "./session.ts";
import type { JsonValue } from "./types.ts";
import { type PolicyOptions, policyOptions, type ResourceOptions, Task } from "./task.ts";

/** Path of the standard input in `buildin/run`'s `in_paths`. */
export const STDIN_PATH = "+in";

/** Path of the standard output in `buildin/run`'s `out_paths`. */
export const STDOUT_PATH = "+out";

/**
 * One argument of a program: a string, a number, an input (mapped to a file) or an output.
 *
 * @example
 * ```ts
 * import { Client, Output } from "@rain/client";
 * await using client = await Client.connect();
 * await using session = await client.newSession();
 * const data = session.blob("1 2 3");
 * session.execute(["wc", "-w", data, "--max", 10, new Output("log")]);
 * ```
 */
export type ExecuteArg = string | number | DataLike | Input | Output;

/**
 * How `execute` runs a program.
 *
 * @example
 * ```ts
 * import { Client, Output } from "@rain/client";
 * await using client = await Client.connect();
 * await using session = await client.newSession();
 * const task = session.execute("sort | uniq -c > counts.txt", {
 *   shell: true,
 *   stdin: session.blob("b\na\nb\n"),
 *   outputPaths: [new Output("counts", { path: "counts.txt", contentType: "text" })],
 *   cpus: 1,
 *   name: "count",
 * });
 * ```
 */
export interface ExecuteOptions extends ResourceOptions, PolicyOptions {
  /** Capture standard output: `true` (label `"stdout"`), a label, or an `Output` (no path). */
  stdout?: true | string | Output;
  /** Object (or `Input`) fed to the standard input. */
  stdin?: DataLike | Input;
  /** Inputs mapped to files without being named in the arguments. */
  inputPaths?: Iterable<Input>;
  /** Files the program creates that become outputs: a path (also the label) or an `Output`. */
  outputPaths?: Iterable<string | Output>;
  /** Run the joined arguments with `/bin/sh -c`. */
  shell?: boolean;
  /** Name of the task. */
  name?: string;
}

/**
 * `buildin/run`: runs a program in a fresh working directory with its inputs mapped to files.
 * Input order: stdin, `inputPaths`, inputs from `args`; outputs: stdout, `outputPaths`, outputs
 * from `args`.
 */
export function execute(
  session: Session,
  args: string | Iterable<ExecuteArg>,
  options: ExecuteOptions = {},
): Task {
  const plan = new ExecutePlan();
  if (options.stdin !== undefined) plan.addStdin(options.stdin);
  for (const item of options.inputPaths ?? []) plan.addInputPath(item);
  if (options.stdout !== undefined) plan.addStdout(options.stdout);
  for (const item of options.outputPaths ?? []) plan.addOutputPath(item);
  const shell = options.shell ?? false;
  const argv = plan.addArgs(args, shell);
  if (argv.length === 0 || !argv[0]) {
    throw new RainError("execute needs a program to run");
  }
  return new Task(session, {
    taskType: "buildin/run",
    inputs: plan.inputs,
    outputs: plan.outputs,
    config: {
      args: argv,
      in_paths: plan.inPaths.map(([path, item]): JsonValue => {
        const entry: Record<string, JsonValue> = { path, write: item.write };
        if (item.contentType) entry.content_type = item.contentType;
        return entry;
      }),
      out_paths: plan.outPaths,
    },
    cpus: options.cpus,
    memory: options.memory,
    gpus: options.gpus,
    resources: options.resources,
    ...policyOptions(options),
    // Unnamed unless asked, as in the Python client (Rain 0.4): views group unnamed tasks by type.
    name: options.name,
  });
}

/** Checks a path in the task's working directory; the normalized path. */
function checkRunPath(path: string): string {
  if (typeof path !== "string" || path === "") {
    throw new RainError(
      `execute: a file path must be a non-empty string, not ${JSON.stringify(path)}`,
    );
  }
  if (path.startsWith("/")) {
    throw new RainError(
      `execute: path '${path}' must be relative (to the task's working directory)`,
    );
  }
  if (path.split("/").includes("..")) {
    throw new RainError(`execute: path '${path}' must not contain '..'`);
  }
  const parts = path.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.length === 0) {
    throw new RainError(`execute: path '${path}' does not name a file`);
  }
  return parts.join("/");
}

function randomHex(bytes: number): string {
  return [...crypto.getRandomValues(new Uint8Array(bytes))]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Collects the inputs/outputs of an execute in the order the config lists them. */
class ExecutePlan {
  inputs: Input[] = [];
  inPaths: [string, Input][] = [];
  outputs: Output[] = [];
  outPaths: string[] = [];
  #argInputs: [Input, string][] = [];
  #argOutputs: [Output, string][] = [];
  #usedPaths = new Set<string>();

  #claim(path: string, special = false): string {
    const key = special ? path : checkRunPath(path);
    if (this.#usedPaths.has(key)) {
      throw new RainError(`execute: path '${path}' is used twice`);
    }
    this.#usedPaths.add(key);
    return path;
  }

  #randomPath(): string {
    for (;;) {
      const path = `data-${randomHex(6)}`;
      if (!this.#usedPaths.has(path)) return this.#claim(path);
    }
  }

  static asInput(item: DataLike | Input, label?: string): Input {
    if (item instanceof Input) {
      if (item.dataObject === undefined) {
        throw new RainError(`${item} has no data object (dataObject:)`);
      }
      return ExecutePlan.checkContentType(item);
    }
    const obj = toDataObject(item);
    return obj.dataType === "dir"
      ? new InputDir(label, { dataObject: obj })
      : new Input(label, { dataObject: obj });
  }

  static checkContentType(item: Input): Input {
    const obj = toDataObject(item.dataObject!);
    const declared = obj.spec.content_type;
    if (
      item.contentType && declared && !isSubtype(declared, item.contentType)
    ) {
      throw new RainError(
        `${obj} has content type '${declared}', but ${item} expects '${item.contentType}'`,
      );
    }
    return item;
  }

  addStdin(stdin: DataLike | Input): void {
    let item = ExecutePlan.asInput(stdin, "stdin");
    if (item.path !== undefined) {
      throw new RainError("the stdin Input cannot have a path");
    }
    const obj = toDataObject(item.dataObject!);
    if (obj.dataType !== "blob") {
      throw new RainError(`stdin must be a blob, not the directory ${obj}`);
    }
    if (item.label === undefined) item = item.withLabel("stdin");
    this.inputs.push(item);
    this.inPaths.push([this.#claim(STDIN_PATH, true), item]);
  }

  addInputPath(item: Input): void {
    if (!(item instanceof Input)) {
      throw new RainError(`inputPaths takes Input/InputDir, not ${item}`);
    }
    item = ExecutePlan.asInput(item);
    const path = item.effectivePath;
    if (path === undefined) {
      throw new RainError(`${item} in inputPaths needs a path or a label`);
    }
    this.inputs.push(item);
    this.inPaths.push([this.#claim(path), item]);
  }

  addStdout(stdout: true | string | Output): void {
    let output: Output;
    if (stdout === true) output = new Output("stdout");
    else if (typeof stdout === "string") output = new Output(stdout);
    else if (stdout instanceof Output) {
      if (stdout.path !== undefined) {
        throw new RainError("the stdout Output cannot have a path");
      }
      if (stdout.dataType !== "blob") {
        throw new RainError("stdout is a blob, not a directory");
      }
      output = stdout;
    } else {
      throw new RainError(
        `stdout must be true, a label or an Output, not ${stdout}`,
      );
    }
    if (output.label === undefined) output = output.withLabel("stdout");
    this.outputs.push(output);
    this.outPaths.push(this.#claim(STDOUT_PATH, true));
  }

  static outputDeclaration(item: string | Output): Output {
    if (typeof item === "string") return new Output(item);
    if (item instanceof Output) {
      if (item.effectivePath === undefined) {
        throw new RainError(`${item} needs a path or a label`);
      }
      return item.label === undefined ? item.withLabel(item.path!) : item;
    }
    throw new RainError(`expected a path or an Output, not ${item}`);
  }

  addOutputPath(item: string | Output): void {
    const output = ExecutePlan.outputDeclaration(item);
    this.outputs.push(output);
    this.outPaths.push(this.#claim(output.effectivePath!));
  }

  /** Maps `args` to argv; inputs/outputs found there go after the others. */
  addArgs(args: string | Iterable<ExecuteArg>, shell: boolean): string[] {
    let argv = typeof args === "string"
      ? (shell ? [args] : shellSplit(args))
      : [...args].map((arg) => this.#mapArg(arg));
    for (const [item, path] of this.#argInputs) {
      this.inputs.push(item);
      this.inPaths.push([path, item]);
    }
    for (const [output, path] of this.#argOutputs) {
      this.outputs.push(output);
      this.outPaths.push(path);
    }
    if (shell) argv = ["/bin/sh", "-c", argv.join(" ")];
    return argv;
  }

  #mapArg(arg: ExecuteArg): string {
    if (typeof arg === "string") return arg;
    if (typeof arg === "number") return String(arg);
    if (arg instanceof Output) {
      const output = ExecutePlan.outputDeclaration(arg);
      const path = this.#claim(output.effectivePath!);
      this.#argOutputs.push([output, path]);
      return path;
    }
    let item: Input;
    let path: string;
    if (arg instanceof Input) {
      item = ExecutePlan.asInput(arg);
      const wanted = item.effectivePath;
      path = wanted !== undefined ? this.#claim(wanted) : this.#randomPath();
    } else {
      item = ExecutePlan.asInput(arg);
      path = this.#randomPath();
    }
    this.#argInputs.push([item, path]);
    return path;
  }
}

/** `shellSplit` of shlex.ts, failing with a `RainError` that quotes the text. */
export function shellSplit(text: string): string[] {
  try {
    return splitWords(text);
  } catch (e) {
    throw new RainError(`${(e as Error).message} in ${JSON.stringify(text)}`);
  }
}

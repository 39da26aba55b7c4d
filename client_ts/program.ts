/**
 * `Program`: a reusable `execute` pattern whose `Input`s are filled in at each use.
 *
 * @module
 */
import type { DataLike } from "./data.ts";
import { RainError } from "./errors.ts";
import { Input, type Output } from "./io.ts";
import type { Session } from "./session.ts";
import { makePolicy, type PolicyOptions, policyOptions, type Task } from "./task.ts";
import { execute, type ExecuteOptions, shellSplit } from "./tasks.ts";

/**
 * One argument of a program pattern: a string, a number, an `Input` without data, an `Output`.
 *
 * @example
 * ```ts
 * import { Input, Output, Program } from "@rain/client";
 * new Program(["convert", "-quality", 90, new Input("image"), new Output("thumbnail")]);
 * ```
 */
export type ProgramArg = string | number | Input | Output;

/**
 * How a `Program` runs: like `ExecuteOptions`, with `Input`s that carry no data.
 *
 * @example
 * ```ts
 * import { Input, Program } from "@rain/client";
 * const sort = new Program("sort -n", { stdin: new Input("numbers"), stdout: true, cpus: 1 });
 * ```
 */
export interface ProgramOptions extends Omit<ExecuteOptions, "stdin" | "inputPaths"> {
  /** Labelled `Input` fed to the standard input. */
  stdin?: Input;
  /** Labelled `Input`s mapped to files without being named in the arguments. */
  inputPaths?: Iterable<Input>;
}

/**
 * A program with a fixed argument pattern. Its `Input`s carry only labels; `task(session,
 * {label: object, …})` (or `session.program(...)`) creates the `execute` task.
 *
 * @example
 * ```ts
 * import { Client, Input, Program } from "@rain/client";
 * const grep = new Program(["grep", "rain", new Input("text", { path: "my_file" })], {
 *   stdout: true,
 * });
 * await using client = await Client.connect();
 * await using session = await client.newSession();
 * const task = session.program(grep, { text: session.blob("It is\nrainy day\n") });
 * task.output.keep();
 * await session.submit();
 * console.log((await task.output.fetch()).text()); // "rainy day\n"
 * ```
 */
export class Program {
  /** The argument pattern (a string when run by the shell). */
  readonly args: string | readonly ProgramArg[];
  /** The other options. */
  readonly options: Readonly<ProgramOptions>;

  /** A program running `args` (a string is split like a shell does unless `shell`). */
  constructor(
    args: string | Iterable<ProgramArg>,
    options: ProgramOptions = {},
  ) {
    this.args = typeof args === "string" ? (options.shell ? args : shellSplit(args)) : [...args];
    this.options = { ...options, inputPaths: [...options.inputPaths ?? []] };
    makePolicy(options); // checked now (RainError), given to every task
    const patterns = [
      ...(typeof this.args === "string" ? [] : this.args),
      ...(options.stdin !== undefined ? [options.stdin] : []),
      ...this.options.inputPaths!,
    ];
    for (const item of patterns) {
      if (typeof item === "object" && item !== null && "session" in item) {
        throw new RainError(
          `a Program's inputs are Inputs without data, not ${item}`,
        );
      }
      if (item instanceof Input) {
        if (item.dataObject !== undefined) {
          throw new RainError(
            `a Program's inputs are Inputs without data, not ${item}`,
          );
        }
        if (item.label === undefined) {
          throw new RainError(
            `every Input of a Program needs a label, ${item} has none`,
          );
        }
      }
    }
  }

  /**
   * Creates the `execute` task in `session`, binding each `Input` to `objects[label]`;
   * `policy` overrides the Program's policy options for this task (docs/policies.md).
   */
  task(session: Session, objects: Record<string, DataLike>, policy: PolicyOptions = {}): Task {
    const used = new Set<string>();
    const bind = (item: Input): Input => {
      const label = item.label!;
      used.add(label);
      const data = Object.hasOwn(objects, label) ? objects[label] : undefined;
      if (data === undefined) throw new RainError(`${this}: no object for input '${label}'`);
      return item.withData(data);
    };
    const args = typeof this.args === "string"
      ? this.args
      : this.args.map((arg) => arg instanceof Input ? bind(arg) : arg);
    const stdin = this.options.stdin !== undefined ? bind(this.options.stdin) : undefined;
    const inputPaths = [...this.options.inputPaths!].map(bind);
    const unknown = Object.keys(objects).filter((label) => !used.has(label));
    if (unknown.length) {
      throw new RainError(
        `${this} has no input labelled ${unknown.map((l) => `'${l}'`).join(", ")}`,
      );
    }
    const given = Object.entries(policyOptions(policy)).filter(([, v]) => v !== undefined);
    return execute(session, args, {
      ...this.options,
      stdin,
      inputPaths,
      ...Object.fromEntries(given),
    });
  }

  /** `<Program grep rain …>` */
  toString(): string {
    const args = typeof this.args === "string" ? this.args : this.args.map(String).join(" ");
    return `<Program ${args}>`;
  }
}

/**
 * `Input` / `InputDir`: how a task sees one of its input objects (label, file path, writable
 * copy); `Output` / `OutputDir`: the declaration of a task's output (label, path, content type).
 *
 * @module
 */
import { checkContentType } from "./content_type.ts";
import { RainError } from "./errors.ts";
import type { DataLike } from "./data.ts";
import type { DataType } from "./types.ts";

/**
 * Options of an `Input` / `InputDir`.
 *
 * @example
 * ```ts
 * import { Client, Input } from "@rain/client";
 * await using client = await Client.connect();
 * await using session = await client.newSession();
 * const data = session.blob("x");
 * new Input("config", { path: "etc/config.txt", dataObject: data, write: true });
 * ```
 */
export interface InputOptions {
  /** File name in the task's working directory (default: the label). */
  path?: string;
  /** The object this input binds (a task with one output stands for its output). */
  dataObject?: DataLike;
  /** Content type the task expects. */
  contentType?: string;
  /** Give the program a private writable copy instead of a read-only mapping. */
  write?: boolean;
}

/**
 * An input blob of a task: its label, the file it is mapped to in `execute`, and the object.
 *
 * @example
 * ```ts
 * import { Client, Input } from "@rain/client";
 * await using client = await Client.connect();
 * await using session = await client.newSession();
 * const data = session.blob("It is\nrainy day\n");
 * // Maps `data` to the file `myfile` and runs `grep rain myfile`.
 * const task = session.execute(["grep", "rain", new Input("text", { path: "myfile", dataObject: data })], {
 *   stdout: true,
 * });
 * ```
 */
export class Input {
  /** Label of the input (and default path). */
  readonly label: string | undefined;
  /** File name in the working directory, if set. */
  readonly path: string | undefined;
  /** The bound object, if any. */
  readonly dataObject: DataLike | undefined;
  /** Expected content type. */
  readonly contentType: string | undefined;
  /** A writable copy is given to the program. */
  readonly write: boolean;

  /** An input labelled `label`. */
  constructor(label?: string, options: InputOptions = {}) {
    checkContentType(options.contentType);
    this.label = label;
    this.path = options.path;
    this.dataObject = options.dataObject;
    this.contentType = options.contentType;
    this.write = options.write ?? false;
  }

  /** `"blob"`; `"dir"` for `InputDir`. */
  get dataType(): DataType {
    return "blob";
  }

  /** The file name in the task's working directory: the path, else the label. */
  get effectivePath(): string | undefined {
    return this.path ?? this.label;
  }

  /** A copy of this input bound to `dataObject`. */
  withData(dataObject: DataLike): this {
    const Kind = this.constructor as new (
      label?: string,
      options?: InputOptions,
    ) => this;
    return new Kind(this.label, {
      path: this.path,
      dataObject,
      contentType: this.contentType,
      write: this.write,
    });
  }

  /** A copy with another label. */
  withLabel(label: string): this {
    const Kind = this.constructor as new (
      label?: string,
      options?: InputOptions,
    ) => this;
    return new Kind(label, {
      path: this.path,
      dataObject: this.dataObject,
      contentType: this.contentType,
      write: this.write,
    });
  }

  /** `<Input label path=…>` */
  toString(): string {
    return `<${this.constructor.name} ${this.label ?? "(no label)"} path=${this.path ?? "-"}>`;
  }
}

/**
 * An input directory: mapped as a real directory in `execute`.
 *
 * @example
 * ```ts
 * import { Client, InputDir } from "@rain/client";
 * await using client = await Client.connect();
 * await using session = await client.newSession();
 * const dir = await session.directory("./data");
 * session.execute(["ls", "-R", new InputDir("data", { dataObject: dir })], { stdout: true });
 * ```
 */
export class InputDir extends Input {
  /** `"dir"` */
  override get dataType(): DataType {
    return "dir";
  }
}

/**
 * Options of an `Output` / `OutputDir`.
 *
 * @example
 * ```ts
 * import { Output } from "@rain/client";
 * new Output("result", { path: "out/result.json", contentType: "json", sizeHint: 1024 });
 * ```
 */
export interface OutputOptions {
  /** File the program creates in its working directory (default: the label). */
  path?: string;
  /** Content type of the produced data. */
  contentType?: string;
  /** Estimated size in bytes. */
  sizeHint?: number;
}

/**
 * An output blob of a task: its label, content type and (for `execute`) the file it is read from.
 *
 * @example
 * ```ts
 * import { Client, Output } from "@rain/client";
 * await using client = await Client.connect();
 * await using session = await client.newSession();
 * // `tee output1 > output2`: two outputs, one from a file, one from stdout.
 * const task = session.execute(["tee", new Output("output1")], {
 *   stdout: "output2",
 *   stdin: session.blob("data"),
 * });
 * task.outputs.get("output1").keep();
 * ```
 */
export class Output {
  /** Label of the output (and default path). */
  readonly label: string | undefined;
  /** File name in the working directory, if set. */
  readonly path: string | undefined;
  /** Content type of the data. */
  readonly contentType: string | undefined;
  /** Estimated size in bytes. */
  readonly sizeHint: number | undefined;

  /** An output labelled `label`. */
  constructor(label?: string, options: OutputOptions = {}) {
    checkContentType(options.contentType);
    this.label = label;
    this.path = options.path;
    this.contentType = options.contentType || undefined;
    this.sizeHint = options.sizeHint;
    if (this.contentType && this.dataType === "dir") {
      throw new RainError("a directory has no content type");
    }
  }

  /** `"blob"`; `"dir"` for `OutputDir`. */
  get dataType(): DataType {
    return "blob";
  }

  /** The file name in the task's working directory: the path, else the label. */
  get effectivePath(): string | undefined {
    return this.path ?? this.label;
  }

  /** A copy with another label. */
  withLabel(label: string): this {
    const Kind = this.constructor as new (
      label?: string,
      options?: OutputOptions,
    ) => this;
    return new Kind(label, {
      path: this.path,
      contentType: this.contentType,
      sizeHint: this.sizeHint,
    });
  }

  /** `<Output label path=…>` */
  toString(): string {
    return `<${this.constructor.name} ${this.label ?? "(no label)"} path=${this.path ?? "-"}>`;
  }
}

/**
 * An output directory: in `execute`, a directory the program creates.
 *
 * @example
 * ```ts
 * import { Client, OutputDir } from "@rain/client";
 * await using client = await Client.connect();
 * await using session = await client.newSession();
 * const task = session.execute("mkdir -p out/a && echo hi > out/a/b", {
 *   shell: true,
 *   outputPaths: [new OutputDir("out")],
 * });
 * ```
 */
export class OutputDir extends Output {
  /** `"dir"` */
  override get dataType(): DataType {
    return "dir";
  }
}

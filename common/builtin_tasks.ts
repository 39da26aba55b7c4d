/**
 * Built-in task types (executor `buildin`), their configs and shape rules.
 * The server checks them at submit (so a bad graph is rejected whole); the governor runs them.
 */
import type { DataType, JsonValue } from "./attributes.ts";

export const BUILDIN = "buildin";

export interface SleepConfig {
  seconds: number;
}
export interface PathConfig {
  path: string;
}
export interface MakeDirectoryConfig {
  /** One relative path per input, in input order. */
  paths: string[];
}

interface Shape {
  /** Number of inputs; undefined = any. */
  inputs?: number;
  /** Number of outputs; undefined = any. */
  outputs?: number;
  /** Checks config and data types; returns an error message or undefined. */
  check(config: JsonValue | undefined, inputs: DataType[], outputs: DataType[]): string | undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function stringField(config: unknown, field: string): string | undefined {
  return isRecord(config) && typeof config[field] === "string"
    ? config[field] as string
    : undefined;
}

/** A path inside a directory: relative, no `..`, not empty. */
export function checkRelativePath(path: string): string | undefined {
  if (path === "") return "path is empty";
  if (path.startsWith("/")) return `path '${path}' must be relative`;
  if (path.split("/").includes("..")) return `path '${path}' must not contain '..'`;
  return undefined;
}

/**
 * The path of open/open_dir/export must be absolute, but (as in Rain 0.4) the governor checks
 * that when the task runs: a relative path fails the task, naming the path, not the submit.
 */
function pathStringCheck(config: unknown): string | undefined {
  return stringField(config, "path") === undefined ? "config must be {path: string}" : undefined;
}

/**
 * `buildin/run` (Python `tasks.Execute`): runs `args` in a fresh working directory.
 * Input i appears at `in_paths[i].path` (read-only unless `write`; `"+in"` = standard input);
 * output i is the file or directory `out_paths[i]` left by the program (`"+out"` = standard
 * output). `content_type`, if given, is the type the program expects of that input.
 */
export interface RunConfig {
  args: string[];
  in_paths: RunInputPath[];
  out_paths: string[];
}
export interface RunInputPath {
  path: string;
  write?: boolean;
  content_type?: string;
}
/** The `in_paths` entry that feeds an input to the program's standard input. */
export const STDIN_PATH = "+in";
/** The `out_paths` entry that takes the program's standard output. */
export const STDOUT_PATH = "+out";

/** A relative path without `.` components or slashes at the ends; throws naming the path. */
export function normalizeRelativePath(path: string): string {
  const err = checkRelativePath(path);
  if (err) throw new Error(err);
  const parts = path.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.length === 0) throw new Error(`path '${path}' does not name an entry`);
  return parts.join("/");
}

/**
 * Checks a `buildin/run` config against the task's inputs and outputs and returns it with every
 * path normalized (`normalizeRelativePath`); throws a message naming what is wrong.
 */
export function parseRunConfig(
  config: JsonValue | undefined,
  inputs: DataType[],
  outputs: DataType[],
): RunConfig {
  const c = isRecord(config) ? config : undefined;
  const { args, in_paths: inPaths, out_paths: outPaths } = c ?? {};
  if (
    !Array.isArray(args) || args.length === 0 || !args.every((a) => typeof a === "string") ||
    args[0] === ""
  ) {
    throw new Error("config.args must be a non-empty list of strings (the program first)");
  }
  if (!Array.isArray(inPaths) || !Array.isArray(outPaths)) {
    throw new Error("config must have in_paths and out_paths lists");
  }
  if (inPaths.length !== inputs.length) {
    throw new Error(`config has ${inPaths.length} in_paths for ${inputs.length} inputs`);
  }
  if (outPaths.length !== outputs.length) {
    throw new Error(`config has ${outPaths.length} out_paths for ${outputs.length} outputs`);
  }
  /** normalized path → data type of the input or output placed there */
  const placed = new Map<string, DataType>();
  const place = (path: string, dataType: DataType, what: string, seen: Set<string>) => {
    if (seen.has(path)) throw new Error(`path '${path}' is used by two ${what}s`);
    seen.add(path);
    const known = placed.get(path);
    if (known !== undefined && known !== dataType) {
      throw new Error(`path '${path}' is used for a file and for a directory`);
    }
    placed.set(path, dataType);
  };
  const parsedIn: RunInputPath[] = [];
  const inSeen = new Set<string>();
  inPaths.forEach((entry, i) => {
    if (
      !isRecord(entry) || typeof entry.path !== "string" ||
      (entry.write !== undefined && typeof entry.write !== "boolean") ||
      (entry.content_type !== undefined && entry.content_type !== null &&
        typeof entry.content_type !== "string")
    ) {
      throw new Error(
        `in_paths[${i}] must be {path: string, write?: boolean, content_type?: string}`,
      );
    }
    const parsed: RunInputPath = { path: entry.path, write: entry.write === true };
    if (typeof entry.content_type === "string" && entry.content_type !== "") {
      parsed.content_type = entry.content_type;
    }
    if (entry.path === STDIN_PATH) {
      if (inputs[i] !== "blob") throw new Error("the standard input must be a blob");
      if (inSeen.has(STDIN_PATH)) throw new Error("two inputs are mapped to the standard input");
      inSeen.add(STDIN_PATH);
    } else {
      parsed.path = normalizeRelativePath(entry.path);
      place(parsed.path, inputs[i]!, "input", inSeen); // lengths are checked above
    }
    parsedIn.push(parsed);
  });
  const parsedOut: string[] = [];
  const outSeen = new Set<string>();
  outPaths.forEach((path, i) => {
    if (typeof path !== "string") throw new Error(`out_paths[${i}] must be a string`);
    if (path === STDOUT_PATH) {
      if (outputs[i] !== "blob") throw new Error("the standard output must be a blob");
      if (outSeen.has(STDOUT_PATH)) throw new Error("two outputs take the standard output");
      outSeen.add(STDOUT_PATH);
      parsedOut.push(path);
    } else {
      const norm = normalizeRelativePath(path);
      place(norm, outputs[i]!, "output", outSeen); // lengths are checked above
      parsedOut.push(norm);
    }
  });
  // Nothing can be placed inside a file.
  for (const path of placed.keys()) {
    for (let slash = path.indexOf("/"); slash >= 0; slash = path.indexOf("/", slash + 1)) {
      const parent = path.slice(0, slash);
      if (placed.get(parent) === "blob") {
        throw new Error(`path '${path}' is inside '${parent}', which is a file`);
      }
    }
  }
  return { args: args as string[], in_paths: parsedIn, out_paths: parsedOut };
}

export const BUILTIN_SHAPES: Record<string, Shape> = {
  concat: {
    outputs: 1,
    check: (_c, inputs, outputs) =>
      inputs.includes("dir")
        ? "concat inputs must be blobs, not directories"
        : outputs[0] !== "blob"
        ? "concat output must be a blob"
        : undefined,
  },
  sleep: {
    inputs: 1,
    outputs: 1,
    check: (config, inputs, outputs) => {
      const s = isRecord(config) ? config.seconds : undefined;
      if (typeof s !== "number" || !(s >= 0) || !Number.isFinite(s)) {
        return "config must be {seconds: number >= 0}";
      }
      if (inputs[0] !== outputs[0]) return "sleep output must have the data type of its input";
      return undefined;
    },
  },
  open: {
    inputs: 0,
    outputs: 1,
    check: (config, _i, outputs) =>
      pathStringCheck(config) ??
        (outputs[0] !== "blob" ? "open output must be a blob" : undefined),
  },
  open_dir: {
    inputs: 0,
    outputs: 1,
    check: (config, _i, outputs) =>
      pathStringCheck(config) ??
        (outputs[0] !== "dir" ? "open_dir output must be a directory" : undefined),
  },
  export: {
    inputs: 1,
    outputs: 0,
    check: (config) => pathStringCheck(config),
  },
  make_directory: {
    outputs: 1,
    check: (config, inputs, outputs) => {
      const paths = isRecord(config) ? config.paths : undefined;
      if (!Array.isArray(paths) || !paths.every((p) => typeof p === "string")) {
        return "config must be {paths: string[]}";
      }
      if (paths.length !== inputs.length) {
        return `config has ${paths.length} paths for ${inputs.length} inputs`;
      }
      for (const p of paths as string[]) {
        const err = checkRelativePath(p);
        if (err) return err;
      }
      return outputs[0] !== "dir" ? "make_directory output must be a directory" : undefined;
    },
  },
  run: {
    check: (config, inputs, outputs) => {
      try {
        parseRunConfig(config, inputs, outputs);
        return undefined;
      } catch (e) {
        return (e as Error).message;
      }
    },
  },
  slice_directory: {
    inputs: 1,
    outputs: 1,
    check: (config, inputs, outputs) => {
      const path = stringField(config, "path");
      if (path === undefined) return "config must be {path: string}";
      const err = checkRelativePath(path);
      if (err) return err;
      if (inputs[0] !== "dir") return "slice_directory input must be a directory";
      const want: DataType = path.endsWith("/") ? "dir" : "blob";
      return outputs[0] !== want
        ? `slice_directory of '${path}' gives a ${want}, but the output is declared ${outputs[0]}`
        : undefined;
    },
  },
};

/**
 * Checks a task of type `buildin/<method>`. Returns an error message naming what is wrong,
 * or undefined when the task is well-formed.
 */
export function checkBuiltinTask(
  method: string,
  config: JsonValue | undefined,
  inputs: DataType[],
  outputs: DataType[],
): string | undefined {
  const shape = BUILTIN_SHAPES[method];
  if (!shape) return `unknown built-in task type 'buildin/${method}'`;
  if (shape.inputs !== undefined && inputs.length !== shape.inputs) {
    return `buildin/${method} takes ${shape.inputs} input(s), got ${inputs.length}`;
  }
  if (shape.outputs !== undefined && outputs.length !== shape.outputs) {
    return `buildin/${method} has ${shape.outputs} output(s), got ${outputs.length}`;
  }
  return shape.check(config, inputs, outputs);
}

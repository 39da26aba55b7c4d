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
  outputs: number;
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

function absolutePathCheck(config: unknown): string | undefined {
  const path = stringField(config, "path");
  if (path === undefined) return "config must be {path: string}";
  if (!path.startsWith("/")) return `path '${path}' must be absolute`;
  return undefined;
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
      absolutePathCheck(config) ??
        (outputs[0] !== "blob" ? "open output must be a blob" : undefined),
  },
  open_dir: {
    inputs: 0,
    outputs: 1,
    check: (config, _i, outputs) =>
      absolutePathCheck(config) ??
        (outputs[0] !== "dir" ? "open_dir output must be a directory" : undefined),
  },
  export: {
    inputs: 1,
    outputs: 0,
    check: (config) => absolutePathCheck(config),
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
  if (outputs.length !== shape.outputs) {
    return `buildin/${method} has ${shape.outputs} output(s), got ${outputs.length}`;
  }
  return shape.check(config, inputs, outputs);
}

/**
 * Built-in tasks, run by the governor itself (executor `buildin`), and `execute` (`buildin/run`,
 * execute.ts, re-exported here), which runs a program with its inputs mapped to files. Configs are
 * those of docs/protocol.md.
 * The session's methods (`session.concat(...)`, …) call these.
 *
 * @module
 */
import { type DataLike, type DataObject, toDataObject } from "./data.ts";
import { RainError } from "./errors.ts";
import { Output, OutputDir } from "./io.ts";
import type { Session } from "./session.ts";
import { type PolicyOptions, type ResourceOptions, Task } from "./task.ts";
export { execute, shellSplit, STDIN_PATH, STDOUT_PATH } from "./execute.ts";
export type { ExecuteArg, ExecuteOptions } from "./execute.ts";

/**
 * Options common to every built-in task.
 *
 * @example
 * ```ts
 * import { Client } from "@rain/client";
 * await using client = await Client.connect();
 * await using session = await client.newSession();
 * session.concat([session.blob("a"), session.blob("b")], { name: "join" });
 * ```
 */
export interface BuiltinOptions extends PolicyOptions {
  /** Name of the task. */
  name?: string;
}

function absolutePath(path: string, task: string): string {
  if (typeof path !== "string" || !path.startsWith("/")) {
    throw new RainError(
      `${task} needs an absolute path, not ${JSON.stringify(path)}`,
    );
  }
  return path;
}

function relativePath(path: string, task: string): string {
  if (typeof path !== "string" || path === "") {
    throw new RainError(
      `${task} needs a non-empty relative path, not ${JSON.stringify(path)}`,
    );
  }
  if (path.startsWith("/")) {
    throw new RainError(`${task}: path '${path}' must be relative`);
  }
  if (path.split("/").includes("..")) {
    throw new RainError(`${task}: path '${path}' must not contain '..'`);
  }
  return path;
}

/** `buildin/concat`: the blobs joined into one blob. */
export function concat(
  session: Session,
  inputs: Iterable<DataLike>,
  options: BuiltinOptions = {},
): Task {
  const objects: DataObject[] = [];
  for (const input of inputs) {
    const obj = toDataObject(input);
    if (obj.dataType !== "blob") {
      throw new RainError(`concat takes blobs, but ${obj} is a directory`);
    }
    objects.push(obj);
  }
  return new Task(session, {
    ...options,
    taskType: "buildin/concat",
    inputs: objects,
    outputs: 1,
  });
}

/** `buildin/sleep`: passes the input on after `seconds` (same data and content type). */
export function sleep(
  session: Session,
  input: DataLike,
  seconds: number,
  options: BuiltinOptions & ResourceOptions = {},
): Task {
  const obj = toDataObject(input);
  if (
    typeof seconds !== "number" || !(seconds >= 0) || !Number.isFinite(seconds)
  ) {
    throw new RainError(
      `sleep needs a number of seconds >= 0, not ${JSON.stringify(seconds)}`,
    );
  }
  const output = obj.dataType === "blob"
    ? new Output(undefined, { contentType: obj.spec.content_type })
    : new OutputDir();
  return new Task(session, {
    taskType: "buildin/sleep",
    inputs: [obj],
    outputs: [output],
    config: { seconds },
    ...options,
  });
}

/** `buildin/open`: a file (absolute path on the governor) read into a blob. */
export function load(
  session: Session,
  path: string,
  options: BuiltinOptions & { contentType?: string } = {},
): Task {
  return new Task(session, {
    taskType: "buildin/open",
    outputs: [new Output(undefined, { contentType: options.contentType })],
    config: { path: absolutePath(path, "load") },
    name: options.name,
  });
}

/** `buildin/open_dir`: a directory (absolute path on the governor) read into a directory. */
export function loadDir(
  session: Session,
  path: string,
  options: BuiltinOptions = {},
): Task {
  return new Task(session, {
    taskType: "buildin/open_dir",
    outputs: [new OutputDir()],
    config: { path: absolutePath(path, "loadDir") },
    ...options,
  });
}

/** `buildin/export`: writes an object to an absolute path on the governor. No outputs. */
export function store(
  session: Session,
  input: DataLike,
  path: string,
  options: BuiltinOptions = {},
): Task {
  return new Task(session, {
    taskType: "buildin/export",
    inputs: [toDataObject(input)],
    config: { path: absolutePath(path, "store") },
    ...options,
  });
}

/** `buildin/make_directory`: a directory of objects, by relative path. */
export function makeDirectory(
  session: Session,
  entries: Iterable<[string, DataLike]> | Record<string, DataLike>,
  options: BuiltinOptions = {},
): Task {
  const pairs = Symbol.iterator in entries
    ? [...entries as Iterable<[string, DataLike]>]
    : Object.entries(entries);
  const paths = pairs.map(([path]) => relativePath(path, "makeDirectory"));
  return new Task(session, {
    taskType: "buildin/make_directory",
    inputs: pairs.map(([, obj]) => toDataObject(obj)),
    outputs: [new OutputDir()],
    config: { paths },
    ...options,
  });
}

/**
 * `buildin/slice_directory`: a file (a blob) or, for a path ending in `/`, a subdirectory
 * taken out of a directory.
 */
export function sliceDirectory(
  session: Session,
  input: DataLike,
  path: string,
  options: BuiltinOptions & { contentType?: string } = {},
): Task {
  const obj = toDataObject(input);
  if (obj.dataType !== "dir") {
    throw new RainError(
      `sliceDirectory takes a directory, but ${obj} is a blob`,
    );
  }
  relativePath(path, "sliceDirectory");
  let output: Output;
  if (path.endsWith("/")) {
    if (options.contentType) {
      throw new RainError("a directory has no content type");
    }
    output = new OutputDir();
  } else {
    output = new Output(undefined, { contentType: options.contentType });
  }
  return new Task(session, {
    taskType: "buildin/slice_directory",
    inputs: [obj],
    outputs: [output],
    config: { path },
    name: options.name,
  });
}

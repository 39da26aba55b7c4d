/**
 * TypeScript client of [Rain](https://github.com/substantic/rain), a distributed task-pipeline
 * framework: build a graph of tasks and data objects in a session, submit it to a Rain server,
 * which runs the tasks on governors, then wait for and fetch the results. The same model as the
 * Python client (`rain.client`), in idiomatic TypeScript for Deno.
 *
 * ```ts
 * import { Client, Input, Output } from "@rain/client";
 *
 * await using client = await Client.connect("localhost:7210");
 * await using session = await client.newSession({ name: "example" });
 *
 * // Built-in tasks and constants
 * const hello = session.concat([session.blob("Hello "), session.blob("world!")]);
 *
 * // A program, its input mapped to a file and its stdout as an output
 * const upper = session.execute(["tr", "a-z", "A-Z"], { stdin: hello, stdout: true });
 *
 * // A task of your own executor (registered on the governors as `[executors.myexec]`)
 * const mine = session.task({ taskType: "myexec/hello", inputs: [upper], outputs: 1 });
 *
 * upper.output.keep();
 * await session.submit();
 * console.log((await upper.output.fetch()).text()); // "HELLO WORLD!"
 * ```
 *
 * Permissions: `--allow-net=HOST:PORT` of the server is enough with `--allow-env=RAIN_SECRET`
 * (or an explicit `secret`); finding the secret a server published needs `--allow-env=HOME` (or
 * `RAIN_SECRETS_DIR`) and `--allow-read` of `~/.rain/secrets`; `directory()` / `blobFromFile()`
 * need `--allow-read`, `writeTo()` `--allow-write`. The client never makes Deno prompt: what it
 * may not access it skips.
 *
 * @module
 */
import denoJson from "./deno.json" with { type: "json" };

export { Client } from "./client.ts";
export type { ClientOptions, SessionOptions } from "./client.ts";
export { Session } from "./session.ts";
export type { SessionItem } from "./session.ts";
export { DataInstance, DataObject, DataStream, FetchedData } from "./data.ts";
export type { BlobOptions, BlobValue, DataLike, TarEntry } from "./data.ts";
export { parseSize, Task } from "./task.ts";
export type {
  PolicyOptions,
  ResourceOptions,
  TaskInputItem,
  TaskInputs,
  TaskOptions,
  TaskOutputItem,
} from "./task.ts";
export type { EchoSink, TaskLogs } from "./logs.ts";
export { Input, InputDir, Output, OutputDir } from "./io.ts";
export type { InputOptions, OutputOptions } from "./io.ts";
export { Program } from "./program.ts";
export type { ProgramArg, ProgramOptions } from "./program.ts";
export type { BuiltinOptions, ExecuteArg, ExecuteOptions } from "./tasks.ts";
export { RainError, SessionError, TaskError } from "./errors.ts";
export type { RainErrorKind } from "./errors.ts";
export { LabeledList } from "./labeled_list.ts";
export { isContentType, isSubtype } from "./content_type.ts";
export { formatId } from "./types.ts";
export type {
  DataType,
  ErrorKind,
  GovernorId,
  Id,
  JsonValue,
  ObjectInfo,
  ObjectSpec,
  ObjectState,
  ServerInfoResponse,
  SessionId,
  TaskAttempt,
  TaskInfo,
  TaskInput,
  TaskPolicy,
  TaskSpec,
  TaskState,
  UserAttributes,
} from "./types.ts";

/**
 * Version of this package (the same as the `rain` program it belongs to).
 *
 * @example
 * ```ts
 * import { VERSION } from "@rain/client";
 * console.log(VERSION); // e.g. "0.4.0"
 * ```
 */
export const VERSION: string = denoJson.version;

/**
 * The wire shapes the client exchanges with a Rain server: ids, specs, infos, states and the
 * client API bodies. They mirror `common/messages.ts` and `common/attributes.ts` of the Rain
 * repository (a test checks that both stay assignable to each other); the package carries its own
 * copy so that it has no dependency outside this folder.
 *
 * Specs and infos keep their wire names (`task_type`, `content_type`, …) so that what a task or
 * object reports is exactly what the server sent.
 *
 * @module
 */

/**
 * Number of a session, assigned by the server.
 *
 * @example
 * ```ts
 * import { Client } from "@rain/client";
 * await using client = await Client.connect();
 * await using session = await client.newSession();
 * console.log(session.id); // e.g. 1
 * ```
 */
export type SessionId = number;

/**
 * A full id of a task or data object: `[session id, id]`. Ids are assigned by the client, per
 * session, from one counter shared by tasks and objects (the first is 10).
 *
 * @example
 * ```ts
 * import { formatId, type Id } from "@rain/client";
 * const id: Id = [1, 10];
 * console.log(formatId(id)); // "1/10"
 * ```
 */
export type Id = [SessionId, number];

/**
 * `"ip:port"` of a governor's data listener, as the server sees it.
 *
 * @example
 * ```ts
 * import { Client } from "@rain/client";
 * await using client = await Client.connect();
 * await using session = await client.newSession();
 * const task = session.concat([session.blob("a")]);
 * await session.submit();
 * await task.wait();
 * await task.update();
 * const governor = task.info?.governor; // e.g. "127.0.0.1:41234"
 * ```
 */
export type GovernorId = string;

/**
 * A value that survives `JSON.stringify` / `JSON.parse` unchanged.
 *
 * @example
 * ```ts
 * import { Client } from "@rain/client";
 * await using client = await Client.connect();
 * await using session = await client.newSession();
 * session.task({ taskType: "myexec/m", config: { depth: 3, tags: ["a", "b"], extra: null } });
 * ```
 */
export type JsonValue = null | boolean | number | string | JsonValue[] | {
  [key: string]: JsonValue;
};

/**
 * Free JSON attributes of a spec or info (keys starting with `_` are reserved).
 *
 * @example
 * ```ts
 * import { Client } from "@rain/client";
 * await using client = await Client.connect();
 * await using session = await client.newSession();
 * const task = session.concat([session.blob("a")]);
 * task.user.owner = "me"; // free attributes, sent with the spec
 * ```
 */
export type UserAttributes = Record<string, JsonValue>;

/**
 * `"blob"`: bytes; `"dir"`: a directory (travels as a tar archive).
 *
 * @example
 * ```ts
 * import { Client } from "@rain/client";
 * await using client = await Client.connect();
 * await using session = await client.newSession();
 * const dir = await session.directory(".");
 * console.log(dir.dataType); // "dir"
 * ```
 */
export type DataType = "blob" | "dir";

/**
 * Task states as reported by `update()`.
 *
 * @example
 * ```ts
 * import { Client } from "@rain/client";
 * await using client = await Client.connect();
 * await using session = await client.newSession();
 * const task = session.sleep(session.blob("x"), 5);
 * await session.submit();
 * await task.update();
 * if (task.state === "running") console.log("on", task.info?.governor);
 * ```
 */
export type TaskState =
  | "notAssigned"
  | "ready"
  | "assigned"
  | "running"
  | "finished"
  | "failed";

/**
 * Data object states as reported by `update()`.
 *
 * @example
 * ```ts
 * import { Client } from "@rain/client";
 * await using client = await Client.connect();
 * await using session = await client.newSession();
 * const obj = session.blob("x");
 * await session.submit();
 * await obj.update();
 * console.log(obj.state); // "finished"
 * ```
 */
export type ObjectState = "unfinished" | "finished" | "removed";

/**
 * One input of a task in its spec.
 *
 * @example
 * ```ts
 * import { Client } from "@rain/client";
 * await using client = await Client.connect();
 * await using session = await client.newSession();
 * const task = session.task({ taskType: "myexec/m", inputs: { data: session.blob("x") } });
 * console.log(task.spec.inputs); // [{ id: [1, 10], label: "data" }]
 * ```
 */
export interface TaskInput {
  /** The object's id. */
  id: Id;
  /** The input's label, if any. */
  label?: string;
}

/**
 * What the user asked for a task (immutable once submitted).
 *
 * @example
 * ```ts
 * import { Client } from "@rain/client";
 * await using client = await Client.connect();
 * await using session = await client.newSession();
 * const task = session.concat([session.blob("a")], { name: "join" });
 * console.log(task.spec.task_type, task.spec.name, task.spec.resources.cpus); // buildin/concat join 1
 * ```
 */
export interface TaskSpec {
  /** The task's id. */
  id: Id;
  /** `"<executor>/<method>"`, e.g. `"buildin/concat"`. */
  task_type: string;
  /** Task-type specific configuration. */
  config?: JsonValue;
  /** Input objects, in order. */
  inputs: TaskInput[];
  /** Output object ids, in order. */
  outputs: Id[];
  /**
   * Resources the task needs: cpus (a positive integer), and when asked for memory (bytes),
   * gpus (whole, or a fraction < 1 of one device) and custom amounts (docs/resources.md).
   */
  resources: { cpus: number; memory?: number; gpus?: number; custom?: Record<string, number> };
  /** Name of the task (groups tasks in the dashboard). */
  name?: string;
  /** Free user attributes. */
  user?: UserAttributes;
  /** Retries and limits (docs/policies.md); absent: one attempt, no limit. */
  policy?: TaskPolicy;
}

/**
 * What to do when a task's own execution fails or runs too long (docs/policies.md).
 *
 * @example
 * ```ts
 * import { Client } from "@rain/client";
 * await using client = await Client.connect();
 * await using session = await client.newSession();
 * session.execute("./flaky.sh", { maxRetries: 2, retryOn: [75], timeLimit: 60 });
 * ```
 */
export interface TaskPolicy {
  /** Attempts after the first when the task itself fails; default 0. */
  max_retries?: number;
  /** Retry only these failures: exit codes, exception class names, or `"time_limit"`. */
  retry_on?: (number | string)[];
  /** Seconds an attempt may run; it is then killed and counts as a failure. */
  time_limit?: number;
  /** Losses of the governor running the task it survives (default 5). */
  crash_limit?: number;
}

/**
 * One run of a task (`TaskInfo.attempts`, present when it ran more than once).
 *
 * @example
 * ```ts
 * import { Client } from "@rain/client";
 * await using client = await Client.connect();
 * await using session = await client.newSession();
 * const task = session.execute("test $RAIN_TASK_ATTEMPT -ge 2", { shell: true, maxRetries: 1 });
 * await session.submit();
 * await task.wait();
 * await task.update();
 * for (const attempt of task.info?.attempts ?? []) console.log(attempt.governor, attempt.error);
 * ```
 */
export interface TaskAttempt {
  /** The governor it ran on. */
  governor?: GovernorId;
  /** RFC 3339 time it started. */
  start_time?: string;
  /** Seconds it ran. */
  duration?: number;
  /** Why it ended; absent for the attempt that finished the task. */
  error?: string;
}

/**
 * What happened to a task (filled in by the governor and the executor).
 *
 * @example
 * ```ts
 * import { Client } from "@rain/client";
 * await using client = await Client.connect();
 * await using session = await client.newSession();
 * const task = session.sleep(session.blob("x"), 0.1);
 * await session.submit();
 * await task.wait();
 * await task.update();
 * console.log(task.info?.start_time, task.info?.duration, task.info?.governor);
 * ```
 */
export interface TaskInfo {
  /** Non-empty means the task failed. */
  error?: string;
  /** RFC 3339 time the task started. */
  start_time?: string;
  /** Seconds the task ran. */
  duration?: number;
  /** Id of the governor that ran it. */
  governor?: GovernorId;
  /** Debug text (messages of the task). */
  debug?: string;
  /** Free user attributes set by the task. */
  user?: UserAttributes;
  /** Peak resident bytes of the task's processes (measured for tasks over 0.1 s). */
  peak_memory?: number;
  /** The exit code of a program that failed. */
  exit_code?: number;
  /** Class names of the exception a Python task raised, most specific first. */
  exception_types?: string[];
  /** The attempt was killed at its `policy.time_limit`. */
  time_limit_exceeded?: boolean;
  /** Every attempt, in order, when there was more than one. */
  attempts?: TaskAttempt[];
}

/**
 * What the user asked for a data object (immutable once submitted).
 *
 * @example
 * ```ts
 * import { Client } from "@rain/client";
 * await using client = await Client.connect();
 * await using session = await client.newSession();
 * const obj = session.blob("x", { label: "input" });
 * console.log(obj.spec); // { id: [1, 10], data_type: "blob", label: "input", content_type: "text" }
 * ```
 */
export interface ObjectSpec {
  /** The object's id. */
  id: Id;
  /** Label (role) of the object at its producer. */
  label?: string;
  /** Declared content type. */
  content_type?: string;
  /** Blob or directory. */
  data_type: DataType;
  /** Free user attributes. */
  user?: UserAttributes;
}

/**
 * What is known about a data object once computed.
 *
 * @example
 * ```ts
 * import { Client } from "@rain/client";
 * await using client = await Client.connect();
 * await using session = await client.newSession();
 * const out = session.concat([session.blob("abc")]).output;
 * await session.submit();
 * await out.wait();
 * await out.update();
 * console.log(out.info?.size); // 3
 * ```
 */
export interface ObjectInfo {
  /** Non-empty means the object failed. */
  error?: string;
  /** Size in bytes (approximate for directories). */
  size?: number;
  /** Content type set at run time (a sub-type of the declared one). */
  content_type?: string;
  /** Debug text. */
  debug?: string;
  /** Free user attributes set by the producing task. */
  user?: UserAttributes;
}

/**
 * Kinds of errors the server answers (`{"error": {"kind", "message"}}`).
 *
 * @example
 * ```ts
 * import { RainError } from "@rain/client";
 * const error = new RainError("bad graph", "InvalidGraph");
 * console.log(error.kind === "InvalidGraph"); // true
 * ```
 */
export type ErrorKind =
  | "BadRequest"
  | "InvalidGraph"
  | "NotFound"
  | "SessionFailed"
  | "TaskFailed"
  | "SessionClosed"
  | "NotAvailable"
  | "Unauthorized"
  | "Internal";

/** Body of every non-2xx answer of the client API. */
export interface ErrorResponse {
  /** What went wrong. */
  error: { kind: ErrorKind; message: string };
}

/** First line of `GET /api/v1/connect`. */
export interface ConnectResponse {
  /** Id of this client at the server. */
  client_id: number;
  /** Wire protocol version of the server. */
  protocol_version: number;
  /** Version of the server's `rain` program. */
  server_version: string;
}

/** One object of a submit header. */
export interface SubmittedObject {
  /** The object's spec. */
  spec: ObjectSpec;
  /** Keep the object after use (so it can be fetched or used by later submits). */
  keep?: boolean;
  /** Present for constants: number of data bytes in the submit body. */
  data_size?: number;
}

/** JSON header of a submit body. */
export interface SubmitHeader {
  /** Tasks of the submit. */
  tasks: TaskSpec[];
  /** Objects of the submit. */
  objects: SubmittedObject[];
}

/** Answer of `wait`. */
export interface WaitResponse {
  /** True when the wait is satisfied. */
  done: boolean;
  /** Finished tasks among those asked. */
  tasks: number[];
  /** Finished objects among those asked. */
  objects: number[];
}

/** Answer of `update`. */
export interface UpdateResponse {
  /** State and info of each asked task. */
  tasks: { id: number; state: TaskState; info: TaskInfo }[];
  /** State and info of each asked object. */
  objects: { id: number; state: ObjectState; info: ObjectInfo }[];
}

/** Header of a fetched object's body. */
export interface FetchHeader {
  /** The object's id number. */
  id: number;
  /** Blob or directory (a tar archive follows). */
  data_type: DataType;
  /** Content type of the data. */
  content_type?: string;
  /** Size; for blobs exactly the number of bytes that follow. */
  size: number;
  /** The object's spec. */
  spec: ObjectSpec;
  /** The object's info. */
  info: ObjectInfo;
}

/**
 * Answer of `server_info`.
 *
 * @example
 * ```ts
 * import { Client } from "@rain/client";
 * await using client = await Client.connect();
 * const info = await client.serverInfo();
 * const cpus = info.governors.reduce((n, g) => n + g.resources.cpus, 0);
 * ```
 */
export interface ServerInfoResponse {
  /** Every registered governor. */
  governors: {
    governor_id: GovernorId;
    tasks: Id[];
    objects: Id[];
    objects_to_delete: Id[];
    /** Offered: cpus, and memory (bytes), gpu ids, custom amounts when the governor has them. */
    resources: {
      cpus: number;
      memory?: number;
      gpus?: string[];
      gpu_kind?: "cuda" | "rocm";
      custom?: Record<string, number>;
    };
    /** Held by assigned tasks: cpus, memory, share of each gpu, custom amounts. */
    resources_in_use: {
      cpus: number;
      memory: number;
      gpus: number[];
      custom: Record<string, number>;
    };
  }[];
}

/**
 * `"1/10"` for the id `[1, 10]`.
 *
 * @example
 * ```ts
 * import { formatId } from "@rain/client";
 * formatId([1, 10]); // "1/10"
 * ```
 */
export function formatId(id: Id): string {
  return `${id[0]}/${id[1]}`;
}

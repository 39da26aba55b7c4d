/**
 * Typed errors of the client, mirroring the Python client's exceptions:
 * `RainError` (`RainException`), `SessionError` (`SessionException`: the session is closed) and
 * `TaskError` (`TaskException`: a task failed the session).
 *
 * @module
 */
import type { ErrorKind } from "./types.ts";

/**
 * What an error is about: a server error kind, `"Client"` for a misuse caught by the client
 * before anything is sent (fetching an object that is not kept, …) or `"Connection"` when the
 * server cannot be reached or the connection broke.
 *
 * @example
 * ```ts
 * import { RainError, type RainErrorKind } from "@rain/client";
 * function retryable(e: unknown): boolean {
 *   const kind: RainErrorKind | undefined = e instanceof RainError ? e.kind : undefined;
 *   return kind === "Connection";
 * }
 * ```
 */
export type RainErrorKind = ErrorKind | "Client" | "Connection";

/**
 * Every error of the Rain client. `kind` says what it is about.
 *
 * @example
 * ```ts
 * import { Client, RainError } from "@rain/client";
 * try {
 *   await Client.connect("127.0.0.1:1");
 * } catch (e) {
 *   if (e instanceof RainError && e.kind === "Connection") console.log("no server there");
 * }
 * ```
 */
export class RainError extends Error {
  /** What the error is about. */
  readonly kind: RainErrorKind;

  /** An error of `kind` with `message`. */
  constructor(
    message: string,
    kind: RainErrorKind = "Client",
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "RainError";
    this.kind = kind;
  }
}

/**
 * The session is gone: it was closed (by the client, a disconnect or the server).
 *
 * @example
 * ```ts
 * import { SessionError } from "@rain/client";
 * const error = new SessionError("session 1 is closed");
 * console.log(error.kind); // "SessionClosed"
 * ```
 */
export class SessionError extends RainError {
  /** An error about a closed session. */
  constructor(
    message: string,
    kind: RainErrorKind = "SessionClosed",
    options?: ErrorOptions,
  ) {
    super(message, kind, options);
    this.name = "SessionError";
  }
}

/**
 * A task failed, and with it its whole session. The message holds the task's error from the
 * governor (for programs the exit code and stderr), where the task was created, and its debug
 * text. Every later call on the session throws it again, until the session is closed.
 *
 * @example
 * ```ts
 * import { Client, TaskError } from "@rain/client";
 * await using client = await Client.connect("localhost:7210");
 * await using session = await client.newSession();
 * const task = session.load("/no/such/file");
 * task.output.keep();
 * await session.submit();
 * try {
 *   await task.output.fetch();
 * } catch (e) {
 *   if (e instanceof TaskError) console.log(e.message); // names task, error and where it was made
 * }
 * ```
 */
export class TaskError extends SessionError {
  /**
   * An error about a failed session (`kind` "SessionFailed"), or about tasks that failed or
   * were cancelled in a session that goes on (`kind` "TaskFailed", docs/policies.md).
   */
  constructor(
    message: string,
    options?: ErrorOptions,
    kind: "SessionFailed" | "TaskFailed" = "SessionFailed",
  ) {
    super(message, kind, options);
    this.name = "TaskError";
  }
}

/** The error for an `ErrorResponse` of the server. */
export function serverError(kind: ErrorKind, message: string): RainError {
  if (kind === "SessionFailed") return new TaskError(message);
  if (kind === "TaskFailed") return new TaskError(message, undefined, "TaskFailed");
  if (kind === "SessionClosed") return new SessionError(message);
  return new RainError(message, kind);
}

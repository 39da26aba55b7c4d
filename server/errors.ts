/** Errors the client API reports: a kind (see `ErrorKind`), an HTTP status and a message. */
import type { ErrorKind } from "../common/messages.ts";

const STATUS: Record<ErrorKind, number> = {
  BadRequest: 400,
  InvalidGraph: 400,
  Unauthorized: 401,
  NotFound: 404,
  SessionFailed: 409,
  TaskFailed: 409,
  SessionClosed: 409,
  NotAvailable: 409,
  Internal: 500,
};

export class ApiError extends Error {
  constructor(readonly kind: ErrorKind, message: string) {
    super(message);
  }

  get status(): number {
    return STATUS[this.kind];
  }
}

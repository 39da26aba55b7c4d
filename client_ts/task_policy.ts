/**
 * A task's policy options (docs/policies.md): retries, time limit, crash limit → `spec.policy`.
 *
 * @module
 */
import { RainError } from "./errors.ts";
import type { TaskPolicy } from "./types.ts";

/**
 * What to do when the task's own execution fails or runs too long (docs/policies.md); goes to
 * `spec.policy`. Every task kind takes these.
 *
 * @example
 * ```ts
 * import { Client } from "@rain/client";
 * await using client = await Client.connect();
 * await using session = await client.newSession();
 * session.execute("./download.sh", { maxRetries: 3, retryOn: [75], timeLimit: 600 });
 * ```
 */
export interface PolicyOptions {
  /** Runs again after its own failure, up to this many times (default 0). */
  maxRetries?: number;
  /** Retry only these failures: exit codes, exception class names, or `"time_limit"`. */
  retryOn?: Iterable<number | string>;
  /** Seconds an attempt may run; it is then killed and counts as a failure. */
  timeLimit?: number;
  /** Losses of the governor running the task it survives (default 5). */
  crashLimit?: number;
}

/** `spec.policy` of a task, checked (a `RainError` names the bad value); undefined if none. */
export function makePolicy(options: PolicyOptions): TaskPolicy | undefined {
  if (
    options.maxRetries === undefined && options.crashLimit === undefined &&
    options.timeLimit === undefined && options.retryOn === undefined
  ) return undefined;
  const policy: TaskPolicy = {};
  const count = (name: string, value: number | undefined): number | undefined => {
    if (value === undefined) return undefined;
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RainError(`${name} must be a non-negative integer, not ${JSON.stringify(value)}`);
    }
    return value;
  };
  const maxRetries = count("maxRetries", options.maxRetries);
  if (maxRetries !== undefined) policy.max_retries = maxRetries;
  const crashLimit = count("crashLimit", options.crashLimit);
  if (crashLimit !== undefined) policy.crash_limit = crashLimit;
  const limit = options.timeLimit;
  if (limit !== undefined) {
    if (typeof limit !== "number" || !Number.isFinite(limit) || limit <= 0) {
      throw new RainError(
        `timeLimit must be a positive number of seconds, not ${JSON.stringify(limit)}`,
      );
    }
    policy.time_limit = limit;
  }
  if (options.retryOn !== undefined) {
    const entries = [...options.retryOn];
    for (const entry of entries) {
      if (!Number.isSafeInteger(entry) && (typeof entry !== "string" || entry === "")) {
        throw new RainError(
          `retryOn takes exit codes and exception class names, not ${JSON.stringify(entry)}`,
        );
      }
    }
    policy.retry_on = entries;
  }
  return Object.keys(policy).length ? policy : undefined;
}

/** The policy options among `options` (to pass them on). */
export function policyOptions(options: PolicyOptions): PolicyOptions {
  const { maxRetries, retryOn, timeLimit, crashLimit } = options;
  return { maxRetries, retryOn, timeLimit, crashLimit };
}

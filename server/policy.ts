/**
 * Task policies (`spec.policy`, docs/policies.md): their validation at submit and the decision
 * whether a failed attempt runs again.
 */
import type { TaskInfo, TaskPolicy } from "../common/attributes.ts";

/** The `retry_on` entry matching failures by time limit. */
export const TIME_LIMIT_ENTRY = "time_limit";

/** The policy, checked; an Error naming the bad field and value otherwise. */
export function checkPolicy(value: unknown): TaskPolicy | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new Error(`policy must be an object, got ${JSON.stringify(value)}`);
  }
  const raw = value as Record<string, unknown>;
  const policy: TaskPolicy = {};
  for (const key of Object.keys(raw)) {
    if (!["max_retries", "retry_on", "time_limit", "crash_limit"].includes(key)) {
      throw new Error(`policy has an unknown field '${key}'`);
    }
  }
  const count = (field: "max_retries" | "crash_limit") => {
    const v = raw[field];
    if (v === undefined || v === null) return;
    if (!Number.isSafeInteger(v) || (v as number) < 0) {
      throw new Error(`policy.${field} must be a non-negative integer, got ${JSON.stringify(v)}`);
    }
    policy[field] = v as number;
  };
  count("max_retries");
  count("crash_limit");
  const limit = raw.time_limit;
  if (limit !== undefined && limit !== null) {
    if (typeof limit !== "number" || !Number.isFinite(limit) || limit <= 0) {
      throw new Error(
        `policy.time_limit must be a positive number of seconds, got ${JSON.stringify(limit)}`,
      );
    }
    policy.time_limit = limit;
  }
  const retryOn = raw.retry_on;
  if (retryOn !== undefined && retryOn !== null) {
    if (
      !Array.isArray(retryOn) ||
      !retryOn.every((e) => Number.isSafeInteger(e) || (typeof e === "string" && e !== ""))
    ) {
      throw new Error(
        `policy.retry_on must be a list of exit codes and exception class names, got ${
          JSON.stringify(retryOn)
        }`,
      );
    }
    policy.retry_on = retryOn as (number | string)[];
  }
  return Object.keys(policy).length ? policy : undefined;
}

/** Whether a failure (the attempt's `info`) is one `retry_on` asks to retry. */
export function failureMatches(policy: TaskPolicy, info: TaskInfo): boolean {
  const retryOn = policy.retry_on;
  if (retryOn === undefined) return true;
  return retryOn.some((entry) =>
    typeof entry === "number"
      ? info.exit_code === entry
      : entry === TIME_LIMIT_ENTRY
      ? info.time_limit_exceeded === true
      : info.exception_types?.includes(entry) === true
  );
}

/** Whether the task's failed attempt runs again: retries left and the failure matches. */
export function shouldRetry(
  policy: TaskPolicy | undefined,
  retriesSoFar: number,
  info: TaskInfo,
): boolean {
  if (policy === undefined || (policy.max_retries ?? 0) <= retriesSoFar) return false;
  return failureMatches(policy, info);
}

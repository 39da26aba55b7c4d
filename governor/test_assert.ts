/** Small assertion helpers for the governor tests (no JSR, so no @std/assert). */
import { deepStrictEqual } from "node:assert/strict";

export function assert(condition: unknown, message = "assertion failed"): asserts condition {
  if (!condition) throw new Error(message);
}

export function assertEquals<T>(actual: T, expected: T, message?: string): void {
  deepStrictEqual(actual, expected, message ?? "values differ");
}

export function assertStringIncludes(actual: string, expected: string): void {
  if (!actual.includes(expected)) {
    throw new Error(`expected ${JSON.stringify(actual)} to include ${JSON.stringify(expected)}`);
  }
}

// deno-lint-ignore no-explicit-any
type ErrorClass = new (...args: any[]) => Error;

/** Awaits `fn()`, which must reject with an instance of `cls` whose message includes `text`. */
export async function assertRejects(
  fn: () => Promise<unknown>,
  cls: ErrorClass = Error,
  text?: string,
): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    if (!(e instanceof cls)) {
      throw new Error(`expected ${cls.name}, got ${e instanceof Error ? e.name : typeof e}: ${e}`);
    }
    if (text !== undefined) assertStringIncludes(e.message, text);
    return e;
  }
  throw new Error(`expected a rejection with ${cls.name}`);
}

/**
 * Polls `condition` until it holds; throws after `timeoutMs`. For events that have no promise to
 * await (a process leaving /proc, a file appearing); the deadline only bounds a hang.
 */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

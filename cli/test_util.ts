/** Helpers for the command-line unit tests. */
import assert from "node:assert/strict";
import type { CliContext } from "./context.ts";
import { UsageError } from "./errors.ts";

export function testContext(
  options: { env?: Record<string, string>; files?: string[]; cpus?: number; cwd?: string } = {},
): CliContext {
  const env = options.env ?? {};
  const files = new Set(options.files ?? []);
  return {
    hostname: "node1",
    pid: 4242,
    cwd: options.cwd ?? "/home/user/project",
    detectedCpus: options.cpus ?? 8,
    env: (name) => env[name],
    isFile: (path) => files.has(path),
  };
}

/** Asserts that `fn` throws a `UsageError` whose message matches `pattern`. */
export function assertUsageError(fn: () => unknown, pattern: RegExp, command?: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof UsageError, `expected a UsageError, got ${e}`);
    assert.match(e.message, pattern);
    assert.ok(!e.message.includes("\n"), "usage errors are one line");
    if (command !== undefined) assert.equal(e.command, command);
    return true;
  });
}

/** A TCP port on 127.0.0.1 that was free a moment ago (below the ephemeral range). */
export { freePort } from "../client_ts/test_util.ts";

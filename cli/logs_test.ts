import assert from "node:assert/strict";
import { parseLogsArgs } from "./logs.ts";
import { assertUsageError, testContext } from "./test_util.ts";

Deno.test("rain logs arguments: ids, --server (or RAIN_SERVER), --logdir", () => {
  const ctx = testContext();
  assert.deepEqual(parseLogsArgs(["3", "11"], ctx), {
    help: false,
    options: {
      session: 3,
      task: 11,
      server: { host: "127.0.0.1", port: 7210 },
      attemptInfo: false,
    },
  });
  const env = testContext({ env: { RAIN_SERVER: "10.0.0.5:7300" } });
  const viaEnv = parseLogsArgs(["3", "11", "--attempt-info"], env);
  assert.ok(!viaEnv.help);
  assert.deepEqual(viaEnv.options.server, { host: "10.0.0.5", port: 7300 });
  assert.equal(viaEnv.options.attemptInfo, true);
  const given = parseLogsArgs(["3", "11", "--server", "7400"], env);
  assert.ok(!given.help);
  assert.deepEqual(given.options.server, { host: "127.0.0.1", port: 7400 });
  const dead = testContext({ files: ["/logs/run/server/events.db"] });
  const fromLog = parseLogsArgs(["3", "11", "--logdir", "/logs/run"], dead);
  assert.ok(!fromLog.help);
  assert.equal(fromLog.options.eventsDb, "/logs/run/server/events.db");
  assert.deepEqual(parseLogsArgs(["--help"], ctx), { help: true });
});

Deno.test("rain logs argument errors", () => {
  const ctx = testContext();
  assertUsageError(() => parseLogsArgs([], ctx), /missing SESSION_ID/, "logs");
  assertUsageError(() => parseLogsArgs(["3"], ctx), /missing TASK_ID/, "logs");
  assertUsageError(() => parseLogsArgs(["x", "1"], ctx), /SESSION_ID must be a whole number/);
  assertUsageError(() => parseLogsArgs(["1", "-2"], ctx), /unknown option '-2'|TASK_ID/);
  assertUsageError(() => parseLogsArgs(["1", "2", "3"], ctx), /unexpected argument '3'/);
  assertUsageError(
    () => parseLogsArgs(["1", "2", "--server", "h", "--logdir", "/x"], ctx),
    /--server or --logdir, not both/,
  );
  assertUsageError(() => parseLogsArgs(["1", "2", "--logdir", "/nothing"], ctx), /no event log/);
  assertUsageError(() => parseLogsArgs(["1", "2", "--server", "bad_host"], ctx), /not valid/);
});

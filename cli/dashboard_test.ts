import assert from "node:assert/strict";
import { missingSession, parseDashboardArgs, parseReportArgs } from "./dashboard.ts";
import { assertUsageError, testContext } from "./test_util.ts";

const ctx = testContext({
  files: ["/logs/run/events.db", "/logs/start/server/events.db", "/home/user/project/old.db"],
});

function dashboard(argv: string[]) {
  const cmd = parseDashboardArgs(argv, ctx);
  if (cmd.help) throw new Error("help");
  return cmd.options;
}

function report(argv: string[]) {
  const cmd = parseReportArgs(argv, ctx);
  if (cmd.help) throw new Error("help");
  return cmd.options;
}

Deno.test("rain dashboard finds events.db in a server or a 'rain start' log directory", () => {
  assert.deepEqual(dashboard(["--logdir", "/logs/run"]), {
    eventsDb: "/logs/run/events.db",
    httpHost: "127.0.0.1",
    httpPort: 7222,
  });
  assert.equal(dashboard(["--logdir=/logs/start"]).eventsDb, "/logs/start/server/events.db");
  assert.equal(dashboard(["old.db"]).eventsDb, "/home/user/project/old.db");
  assert.deepEqual(
    dashboard(["/logs/run", "--http-listen", "127.0.0.1:9000", "--ready-file", "r"]),
    {
      eventsDb: "/logs/run/events.db",
      httpHost: "127.0.0.1",
      httpPort: 9000,
      readyFile: "/home/user/project/r",
    },
  );
  assert.deepEqual(parseDashboardArgs(["--help"], ctx), { help: true });
});

Deno.test("rain dashboard: one-line usage errors", () => {
  assertUsageError(() => dashboard([]), /missing --logdir/, "dashboard");
  assertUsageError(() => dashboard(["--logdir", "/nowhere"]), /no event log at \/nowhere/);
  assertUsageError(() => dashboard(["--logdir", "/logs/run", "x"]), /unexpected argument 'x'/);
  assertUsageError(() => dashboard(["/logs/run", "--http-listen", "x:y"]), /--http-listen/);
  assertUsageError(() => dashboard(["/logs/run", "--session", "1"]), /unknown option/);
});

Deno.test("rain report options", () => {
  assert.deepEqual(report(["--logdir", "/logs/run", "--session", "3"]), {
    eventsDb: "/logs/run/events.db",
    session: 3,
    output: "/home/user/project/rain-session-3.html",
  });
  assert.equal(report(["/logs/run", "--session=4", "-o", "/tmp/r.html"]).output, "/tmp/r.html");
  assert.equal(
    report(["/logs/run", "--session=4", "--output", "r.html"]).output,
    "/home/user/project/r.html",
  );
  assert.deepEqual(parseReportArgs(["-h"], ctx), { help: true });
});

Deno.test("rain report: one-line usage errors", () => {
  assertUsageError(() => report(["--logdir", "/logs/run"]), /missing --session/, "report");
  assertUsageError(() => report(["/logs/run", "--session", "x"]), /--session must be/);
  assertUsageError(() => report(["/logs/run", "--session", "-1"]), /--session/);
  assertUsageError(() => report(["--session", "1"]), /missing --logdir/);
});

Deno.test("missingSession lists the sessions of the log as ranges", () => {
  assert.equal(missingSession(9, "e.db", []), "session 9 is not in e.db: it holds no sessions");
  assert.equal(missingSession(9, "e.db", [4]), "session 9 is not in e.db: it holds session 4");
  assert.equal(
    missingSession(99, "e.db", [3, 1, 2, 7, 9, 10]),
    "session 99 is not in e.db: it holds sessions 1-3, 7, 9-10",
  );
  const many = missingSession(0, "e.db", Array.from({ length: 30 }, (_, i) => 2 * i + 1));
  assert.match(many, /holds sessions 1, 3, .*, 19, …, 41, .*, 59$/);
});

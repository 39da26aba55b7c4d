import assert from "node:assert/strict";
import { parseServerArgs } from "./server.ts";
import { assertUsageError, testContext } from "./test_util.ts";

const ctx = testContext();

function options(argv: string[], c = ctx) {
  const cmd = parseServerArgs(argv, c);
  assert.equal(cmd.help, false);
  if (cmd.help) throw new Error("unreachable");
  return cmd.options;
}

Deno.test("rain server defaults", () => {
  assert.deepEqual(options([]), {
    listenHost: "0.0.0.0",
    listenPort: 7210,
    httpHost: "0.0.0.0",
    httpPort: 7222,
    logDir: "/tmp/rain-logs/server-node1-4242",
    testMode: false,
  });
});

Deno.test("rain server flags in both spellings", () => {
  const o = options([
    "--listen=127.0.0.1:7300",
    "--http-listen",
    "8080",
    "--logdir",
    "logs",
    "--ready-file=ready.txt",
  ]);
  assert.deepEqual(o, {
    listenHost: "127.0.0.1",
    listenPort: 7300,
    httpHost: "0.0.0.0",
    httpPort: 8080,
    logDir: "/home/user/project/logs",
    readyFile: "/home/user/project/ready.txt",
    testMode: false,
  });
  assert.equal(options(["--listen", "10.0.0.1"]).listenPort, 7210);
  assert.equal(options(["--logdir=/abs/dir"]).logDir, "/abs/dir");
});

Deno.test("RAIN_TEST_MODE=1 turns on test mode", () => {
  assert.equal(options([], testContext({ env: { RAIN_TEST_MODE: "1" } })).testMode, true);
  assert.equal(options([], testContext({ env: { RAIN_TEST_MODE: "0" } })).testMode, false);
});

Deno.test("rain server --help", () => {
  assert.deepEqual(parseServerArgs(["--help"], ctx), { help: true });
  assert.deepEqual(parseServerArgs(["--listen=x:y", "-h"], ctx), { help: true });
});

Deno.test("rain server errors", () => {
  assertUsageError(() => parseServerArgs(["--cpus=2"], ctx), /unknown option '--cpus'/, "server");
  assertUsageError(() => parseServerArgs(["extra"], ctx), /unexpected argument 'extra'/);
  assertUsageError(() => parseServerArgs(["--listen"], ctx), /--listen needs a value/);
  assertUsageError(() => parseServerArgs(["--listen=1.2.3.4:x"], ctx), /--listen '1.2.3.4:x'/);
  assertUsageError(() => parseServerArgs(["--http-listen=70000"], ctx), /--http-listen/);
  assertUsageError(
    () => parseServerArgs(["--listen=7000", "--http-listen=7000"], ctx),
    /both 0.0.0.0:7000/,
  );
});

Deno.test("RAIN_EVENT_LOG=0 turns the event log off", () => {
  assert.equal(options([]).eventLog, undefined);
  assert.equal(options([], testContext({ env: { RAIN_EVENT_LOG: "0" } })).eventLog, false);
});

Deno.test("rain server --secret-file and --insecure", () => {
  const parse = (argv: string[]) => {
    const cmd = parseServerArgs(argv, testContext());
    if (cmd.help) throw new Error("help");
    return cmd.options;
  };
  assert.equal(parse(["--secret-file", "s"]).secretFile, "/home/user/project/s");
  assert.equal(parse(["--insecure"]).insecure, true);
  assert.equal(parse([]).insecure, undefined);
  assertUsageError(
    () => parse(["--insecure", "--secret-file=s"]),
    /--secret-file and --insecure cannot be used together/,
  );
});

Deno.test("rain server --fresh, --reattach-timeout, RAIN_JOURNAL=0", () => {
  const o = options(["--fresh", "--reattach-timeout=5"]);
  assert.equal(o.fresh, true);
  assert.equal(o.clientReattachTimeout, 5);
  assert.equal(options([], testContext({ env: { RAIN_JOURNAL: "0" } })).journal, false);
  assertUsageError(
    () => parseServerArgs(["--reattach-timeout=-1"], ctx),
    /--reattach-timeout must be a number of seconds/,
    "server",
  );
});

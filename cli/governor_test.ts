import assert from "node:assert/strict";
import { parseDeleteListTimeout, parseGovernorArgs } from "./governor.ts";
import { assertUsageError, testContext } from "./test_util.ts";

const ctx = testContext({ cpus: 4, files: ["/home/user/project/gov.toml", "/etc/rain.toml"] });

function options(argv: string[], c = ctx) {
  const cmd = parseGovernorArgs(argv, c);
  if (cmd.help) throw new Error("unexpected help");
  return cmd.options;
}

Deno.test("rain governor defaults", () => {
  assert.deepEqual(options(["localhost"]), {
    serverHost: "localhost",
    serverPort: 7210,
    cpus: 4,
    listenHost: "",
    listenPort: 0,
    workDir: "/tmp/rain-work/governor-node1-4242",
    logDir: "/tmp/rain-logs/governor-node1-4242",
    deleteListTimeout: 5,
  });
});

Deno.test("rain governor flags in both spellings", () => {
  const o = options([
    "--cpus",
    "-1",
    "10.0.0.1:7300",
    "--listen=7400",
    "--workdir",
    "w",
    "--logdir=/l",
    "--config",
    "gov.toml",
    "--ready-file=r",
  ]);
  assert.deepEqual(o, {
    serverHost: "10.0.0.1",
    serverPort: 7300,
    cpus: 3,
    listenHost: "",
    listenPort: 7400,
    workDir: "/home/user/project/w",
    logDir: "/l",
    readyFile: "/home/user/project/r",
    configFile: "/home/user/project/gov.toml",
    deleteListTimeout: 5,
  });
  assert.equal(options(["h", "--cpus=-3"]).cpus, 1);
  assert.equal(options(["h", "--cpus=detect"]).cpus, 4);
  assert.equal(options(["h", "--cpus", "12"]).cpus, 12);
  assert.equal(options(["h", "--config=/etc/rain.toml"]).configFile, "/etc/rain.toml");
  assert.deepEqual(
    [options(["[::1]:7000", "--listen=127.0.0.1"]).listenHost, options(["[::1]"]).serverHost],
    ["127.0.0.1", "::1"],
  );
});

Deno.test("RAIN_DELETE_LIST_TIMEOUT", () => {
  const with_ = (v: string) =>
    options(["h"], testContext({ env: { RAIN_DELETE_LIST_TIMEOUT: v } })).deleteListTimeout;
  assert.equal(with_("0"), 0);
  assert.equal(with_("12"), 12);
  assert.equal(with_("0.5"), 0.5);
  assert.equal(with_(" 3 "), 3);
  assert.equal(with_(""), 5);
  assert.equal(parseDeleteListTimeout(undefined), 5);
  for (const bad of ["abc", "-1", "1e3", "5s", "Infinity", "NaN"]) {
    assertUsageError(() => with_(bad), /RAIN_DELETE_LIST_TIMEOUT must be a number/, "governor");
  }
});

Deno.test("rain governor --help", () => {
  assert.deepEqual(parseGovernorArgs(["-h"], ctx), { help: true });
  assert.deepEqual(parseGovernorArgs(["--cpus=0", "--help"], ctx), { help: true });
});

Deno.test("rain governor errors", () => {
  assertUsageError(() => parseGovernorArgs([], ctx), /missing the server address/, "governor");
  assertUsageError(() => parseGovernorArgs(["a", "b"], ctx), /unexpected argument 'b'/);
  assertUsageError(() => parseGovernorArgs(["7210"], ctx), /a port alone is not enough/);
  assertUsageError(() => parseGovernorArgs(["h:0"], ctx), /port 0 is not allowed/);
  assertUsageError(() => parseGovernorArgs(["h:x"], ctx), /port 'x' is not a number/);
  assertUsageError(() => parseGovernorArgs(["h", "--cpus=0"], ctx), /at least 1/);
  assertUsageError(() => parseGovernorArgs(["h", "--cpus=-4"], ctx), /leaves no cpu/);
  assertUsageError(() => parseGovernorArgs(["h", "--cpus=all"], ctx), /'detect', a positive/);
  assertUsageError(() => parseGovernorArgs(["h", "--cpus"], ctx), /--cpus needs a value/);
  assertUsageError(
    () => parseGovernorArgs(["h", "--config=missing.toml"], ctx),
    /--config file '\/home\/user\/project\/missing.toml' does not exist/,
  );
  assertUsageError(() => parseGovernorArgs(["h", "--listen=x:y:z"], ctx), /--listen/);
  assertUsageError(() => parseGovernorArgs(["h", "--simple"], ctx), /unknown option '--simple'/);
});

Deno.test("rain governor: secret, stdin watch and permission flags", () => {
  const o = options([
    "srv",
    "--secret-file=-",
    "--watch-stdin",
    "--ready-file=-",
    "--allow-read=/data,in",
    "--allow-write=",
    "--allow-run=cat,./bin/tool",
  ]);
  assert.equal(o.secretFile, "-");
  assert.equal(o.watchStdin, true);
  assert.equal(o.readyFile, "-");
  assert.deepEqual(o.permissions, {
    read: ["/data", "/home/user/project/in"],
    write: [],
    run: ["cat", "/home/user/project/bin/tool"],
  });
  assert.equal(options(["srv", "--secret-file", "s"]).secretFile, "/home/user/project/s");
  assert.equal(options(["srv"]).permissions, undefined);
});

Deno.test("rain governor --server-lost-timeout (else RAIN_RECONNECT_TIMEOUT)", () => {
  assert.equal(options(["h", "--server-lost-timeout=90"]).reconnectTimeout, 90);
  const env = testContext({ env: { RAIN_RECONNECT_TIMEOUT: "5" } });
  assert.equal(options(["h"], env).reconnectTimeout, 5);
  assert.equal(options(["h", "--server-lost-timeout", "0"], env).reconnectTimeout, 0);
  assertUsageError(
    () => options(["h", "--server-lost-timeout=soon"]),
    /--server-lost-timeout must be a number of seconds/,
    "governor",
  );
});

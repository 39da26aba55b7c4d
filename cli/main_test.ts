import assert from "node:assert/strict";
import { RAIN_VERSION } from "../common/version.ts";
import { captureIo } from "./io.ts";
import { runCli } from "./main.ts";
import { testContext } from "./test_util.ts";

async function run(argv: string[]) {
  const io = captureIo();
  const code = await runCli(argv, { io, ctx: testContext(), self: () => ["false"] });
  return { code, ...io };
}

Deno.test("rain --version / -v", async () => {
  for (const flag of ["--version", "-v"]) {
    const r = await run([flag]);
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, `rain ${RAIN_VERSION}\n`, ""]);
  }
});

Deno.test("rain --help / -h and every command's --help list every flag with its default", async () => {
  const main = await run(["--help"]);
  assert.equal(main.code, 0);
  for (const c of ["start", "stop", "server", "governor"]) assert.match(main.stdout, new RegExp(c));
  assert.equal((await run(["-h"])).stdout, main.stdout);
  const flags: Record<string, string[]> = {
    server: ["--listen", "--http-listen", "--logdir", "--ready-file"],
    governor: ["--cpus", "--listen", "--workdir", "--logdir", "--config", "--ready-file"],
    start: [
      "--simple",
      "--local-governors",
      "--governor-host-file",
      "--autoconf",
      "-S",
      "--listen",
      "--http-listen",
      "--logdir",
      "--workdir",
      "--governor-config",
      "--runprefix",
      "--remote-init",
    ],
    stop: ["SERVER[:PORT]"],
  };
  for (const [command, list] of Object.entries(flags)) {
    for (const help of ["--help", "-h"]) {
      const r = await run([command, help]);
      assert.equal(r.code, 0);
      assert.equal(r.stderr, "");
      assert.match(r.stdout, new RegExp(`^Usage: rain ${command}`));
      for (const flag of list) assert.ok(r.stdout.includes(flag), `${command} --help: ${flag}`);
    }
  }
  const server = (await run(["server", "--help"])).stdout;
  for (const d of ["0.0.0.0:7210", "0.0.0.0:7222", "/tmp/rain-logs/server-<hostname>-<pid>"]) {
    assert.ok(server.includes(`default: ${d}`), d);
  }
  const governor = (await run(["governor", "--help"])).stdout;
  for (
    const d of [
      "detect",
      "0.0.0.0:0",
      "/tmp/rain-work/governor-<hostname>-<pid>",
      "/tmp/rain-logs/governor-<hostname>-<pid>",
    ]
  ) {
    assert.ok(governor.includes(`default: ${d}`), d);
  }
  assert.ok(governor.includes("7210"));
  assert.ok(
    (await run(["start", "--help"])).stdout.includes(
      "default: /tmp/rain-logs/rain-<hostname>-<pid>",
    ),
  );
});

Deno.test("usage errors: one line on stderr, exit code 2", async () => {
  const cases: [string[], RegExp][] = [
    [["bogus"], /^rain: unknown command 'bogus' \(see 'rain --help'\)\n$/],
    [["--bogus"], /^rain: unknown option '--bogus' \(see 'rain --help'\)\n$/],
    [["server", "--bogus"], /^rain: unknown option '--bogus' .*\(see 'rain server --help'\)\n$/],
    [["server", "--listen=99999"], /^rain: --listen '99999' is not valid.*\n$/],
    [["governor"], /^rain: missing the server address.*\(see 'rain governor --help'\)\n$/],
    [["governor", "h", "--cpus=nope"], /^rain: --cpus must be.*\n$/],
    [["start"], /^rain: say what to start.*\(see 'rain start --help'\)\n$/],
    [["start", "--governor-host-file=x"], /^rain: --governor-host-file '.*\/x' does not exist/],
    [["stop", "a", "b"], /^rain: unexpected argument 'b' \(see 'rain stop --help'\)\n$/],
  ];
  for (const [argv, re] of cases) {
    const r = await run(argv);
    assert.equal(r.code, 2, argv.join(" "));
    assert.equal(r.stdout, "");
    assert.match(r.stderr, re);
    assert.equal(r.stderr.split("\n").length, 2, "exactly one line");
  }
});

/** Every command `dispatch` knows. */
const COMMANDS = [
  "start",
  "stop",
  "status",
  "drain",
  "server",
  "governor",
  "dashboard",
  "report",
  "logs",
];

Deno.test("rain alone lists every command (stderr, exit 2); each has a --help", async () => {
  const r = await run([]);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /^rain: missing command\n/);
  for (const command of COMMANDS) {
    assert.match(r.stderr, new RegExp(`^  ${command} +\\S`, "m"), command);
    const help = await run([command, "--help"]);
    assert.equal(help.code, 0, command);
    assert.match(help.stdout, new RegExp(`^Usage: rain ${command}`), command);
  }
  // The listed commands are exactly those.
  const listed = [...r.stderr.matchAll(/^ {2}([a-z]+) {2,}/gm)].map((m) => m[1]);
  assert.deepEqual(listed.sort(), [...COMMANDS].sort());
});

Deno.test("--listen=abc is refused when parsed, naming the option (exit 2)", async () => {
  for (const command of [["server"], ["governor", "localhost"], ["start", "--simple"]]) {
    const r = await run([...command, "--listen=abc"]);
    assert.equal(r.code, 2, command.join(" "));
    assert.match(r.stderr, /^rain: --listen 'abc' is not valid: 'abc' is not an IP address/);
  }
});

Deno.test("RAIN_DELETE_LIST_TIMEOUT malformed is a usage error", async () => {
  const io = captureIo();
  const code = await runCli(["governor", "localhost"], {
    io,
    ctx: testContext({ env: { RAIN_DELETE_LIST_TIMEOUT: "soon" } }),
  });
  assert.equal(code, 2);
  assert.match(io.stderr, /^rain: RAIN_DELETE_LIST_TIMEOUT must be a number of seconds/);
});

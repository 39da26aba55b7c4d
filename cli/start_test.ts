import assert from "node:assert/strict";
import { parseLocalGovernors, parseStartArgs, planStart, type StartOptions } from "./start.ts";
import { assertUsageError, testContext } from "./test_util.ts";

const ctx = testContext({ cpus: 4, files: ["/home/user/project/gov.toml"] });
const SELF = ["/usr/bin/deno", "run", "-A", "/repo/main.ts"];

function options(argv: string[], c = ctx): StartOptions {
  const cmd = parseStartArgs(argv, c);
  if (cmd.help) throw new Error("unexpected help");
  return cmd.options;
}

Deno.test("rain start --simple defaults and plan", () => {
  const o = options(["--simple"]);
  assert.deepEqual(o, {
    governors: [{ cpus: 4 }],
    listen: { host: "0.0.0.0", port: 7210 },
    httpListen: { host: "0.0.0.0", port: 7222 },
    logDir: "/tmp/rain-logs/rain-node1-4242",
    runPrefix: [],
    timeout: 30,
  });
  const plan = planStart(o, SELF, "node1");
  const L = "/tmp/rain-logs/rain-node1-4242";
  assert.deepEqual(plan.server, {
    name: "server",
    argv: [
      ...SELF,
      "server",
      "--listen=0.0.0.0:7210",
      "--http-listen=0.0.0.0:7222",
      `--logdir=${L}/server`,
      `--ready-file=${L}/server/ready`,
    ],
    logDir: `${L}/server`,
    logFile: `${L}/server/server.log`,
    readyFile: `${L}/server/ready`,
  });
  assert.deepEqual(plan.governors, [{
    name: "governor 0",
    argv: [
      ...SELF,
      "governor",
      "127.0.0.1:7210",
      `--logdir=${L}/governor-0`,
      `--ready-file=${L}/governor-0/ready`,
    ],
    logDir: `${L}/governor-0`,
    logFile: `${L}/governor-0/governor.log`,
    readyFile: `${L}/governor-0/ready`,
  }]);
  assert.deepEqual(plan.connect, { host: "127.0.0.1", port: 7210 });
  assert.equal(
    plan.message,
    "Rain started: server at node1:7210, dashboard at http://node1:7222, 1 governor " +
      "(4 cpus); stop with: rain stop",
  );
});

Deno.test("rain start -S gives the local governor --cpus=-1", () => {
  const o = options(["--simple", "-S"]);
  assert.deepEqual(o.governors, [{ arg: "-1", cpus: 3 }]);
  assert.ok((planStart(o, SELF, "h").governors[0])!.argv.includes("--cpus=-1"));
  assertUsageError(
    () => options(["--simple", "-S"], testContext({ cpus: 1 })),
    /-S leaves no cpu/,
    "start",
  );
});

Deno.test("rain start --local-governors with every option", () => {
  const o = options([
    "--local-governors=[4,4,2]",
    "--listen",
    "127.0.0.1:7300",
    "--http-listen=7301",
    "--logdir",
    "logs",
    "--workdir=/scratch",
    "--governor-config",
    "gov.toml",
    "--runprefix=valgrind --tool='call grind'",
  ]);
  assert.deepEqual(o.governors.map((g) => g.cpus), [4, 4, 2]);
  assert.equal(o.logDir, "/home/user/project/logs");
  const plan = planStart(o, SELF, "node1");
  const P = ["valgrind", "--tool=call grind", ...SELF];
  assert.deepEqual(plan.server.argv, [
    ...P,
    "server",
    "--listen=127.0.0.1:7300",
    "--http-listen=0.0.0.0:7301",
    "--logdir=/home/user/project/logs/server",
    "--ready-file=/home/user/project/logs/server/ready",
  ]);
  assert.deepEqual(plan.governors[2]!.argv, [
    ...P,
    "governor",
    "127.0.0.1:7300",
    "--cpus=2",
    "--logdir=/home/user/project/logs/governor-2",
    "--ready-file=/home/user/project/logs/governor-2/ready",
    "--workdir=/scratch/governor-2",
    "--config=/home/user/project/gov.toml",
  ]);
  assert.equal(
    plan.message,
    "Rain started: server at 127.0.0.1:7300, dashboard at http://node1:7301, 3 governors " +
      "(4, 4, 2 cpus); stop with: rain stop 127.0.0.1:7300",
  );
  // -S does not change explicitly given cpus
  assert.deepEqual(options(["--local-governors=2,1", "-S"]).governors.map((g) => g.arg), [
    "2",
    "1",
  ]);
});

Deno.test("--local-governors forms", () => {
  assert.deepEqual(parseLocalGovernors("[4,4,2]"), [4, 4, 2]);
  assert.deepEqual(parseLocalGovernors("4,4,2"), [4, 4, 2]);
  assert.deepEqual(parseLocalGovernors(" [ 1 , 2 ] "), [1, 2]);
  assert.deepEqual(parseLocalGovernors("3"), [3]);
  assertUsageError(() => parseLocalGovernors("[]"), /no governors listed/, "start");
  assertUsageError(() => parseLocalGovernors("[1,2"), /unbalanced brackets/);
  assertUsageError(() => parseLocalGovernors("1,,2"), /'' is not a number of cpus/);
  assertUsageError(() => parseLocalGovernors("1,x"), /'x' is not a number of cpus/);
  assertUsageError(() => parseLocalGovernors("0"), /at least 1 cpu/);
});

Deno.test("rain start errors", () => {
  const e = (argv: string[], re: RegExp) => assertUsageError(() => options(argv), re, "start");
  e([], /say what to start: --simple, --local-governors/);
  e(["--simple", "--local-governors=1"], /--simple and --local-governors cannot be used together/);
  e(["--governor-host-file=hosts"], /--governor-host-file '\/home\/user\/project\/hosts' does not/);
  e(["--autoconf=pbs"], /--autoconf=pbs needs \$PBS_NODEFILE: run it inside a PBS job/);
  e(["--autoconf=slurm"], /--autoconf=slurm needs \$SLURM_JOB_NODELIST/);
  e(["--autoconf=lsf"], /unknown --autoconf value 'lsf' \(known: pbs, slurm\)/);
  e(["--simple", "--remote-init=x"], /--remote-init is only for remote governors/);
  e(["--simple", "--secret-file=s", "--insecure"], /cannot be used together/);
  e(["--simple", "extra"], /unexpected argument 'extra'/);
  e(["--simple", "--cpus=2"], /unknown option '--cpus'/);
  e(["--simple", "--listen=0"], /needs a fixed port/);
  e(["--simple", "--listen=7000", "--http-listen=7000"], /both 0.0.0.0:7000/);
  e(["--simple", "--governor-config=nope.toml"], /'\/home\/user\/project\/nope.toml' does not/);
  e(["--simple", "--runprefix=a 'b"], /--runprefix .* cannot be split: unterminated/);
  e(["--local-governors"], /--local-governors needs a value/);
  e(["--simple=1"], /--simple takes no value/);
  assertUsageError(
    () => options(["--simple"], testContext({ env: { RAIN_START_TIMEOUT: "x" } })),
    /RAIN_START_TIMEOUT must be a positive number/,
  );
  assert.deepEqual(parseStartArgs(["--bogus", "--help"], ctx), { help: true });
});

Deno.test("rain start --server-lost-timeout is passed to every governor", () => {
  const o = options(["--local-governors=[1,1]", "--server-lost-timeout=120"]);
  for (const governor of planStart(o, SELF, "node1").governors) {
    assert.ok(governor.argv.includes("--server-lost-timeout=120"), governor.argv.join(" "));
  }
  assertUsageError(
    () => options(["--simple", "--server-lost-timeout=x"]),
    /--server-lost-timeout must be a number of seconds/,
  );
});

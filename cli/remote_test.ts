import assert from "node:assert/strict";
import {
  describeRemoteExit,
  expandHostlist,
  launcherArgv,
  parseHostFile,
  parsePbsNodefile,
  programExists,
  remoteScript,
  shQuote,
} from "./remote.ts";
import { parseStartArgs, planRemote, type StartOptions } from "./start.ts";
import { testContext } from "./test_util.ts";

Deno.test("host files: one host a line, comments and blank lines ignored", () => {
  assert.deepEqual(
    parseHostFile("# cluster\nnode1\n\n  node2  # fast\nuser@node3\n10.0.0.4\n", "hosts"),
    ["node1", "node2", "user@node3", "10.0.0.4"],
  );
  assert.throws(() => parseHostFile("# nothing\n\n", "hosts"), /hosts lists no hosts/);
  assert.throws(() => parseHostFile("a\nb c\n", "hosts"), /hosts, line 2: 'b c' is not one host/);
  // An ssh option is not a host (it would be an option injection).
  assert.throws(
    () => parseHostFile("-oProxyCommand=evil\n", "hosts"),
    /line 1: '-oProxyCommand=evil' is not a host name \(it starts with '-'\)/,
  );
  assert.throws(() => parseHostFile("a;rm\n", "hosts"), /'a;rm' is not a host name/);
});

Deno.test("PBS node file: each host once, in order", () => {
  assert.deepEqual(parsePbsNodefile("n1\nn1\nn2\nn1\nn3\n", "$PBS_NODEFILE"), ["n1", "n2", "n3"]);
  assert.throws(() => parsePbsNodefile("\n", "$PBS_NODEFILE"), /lists no hosts/);
});

Deno.test("Slurm host lists are expanded without scontrol", () => {
  assert.deepEqual(expandHostlist("node[01-04,07],gpu2"), [
    "node01",
    "node02",
    "node03",
    "node04",
    "node07",
    "gpu2",
  ]);
  assert.deepEqual(expandHostlist("n[8-10]"), ["n8", "n9", "n10"]);
  assert.deepEqual(expandHostlist("n[098-101]"), ["n098", "n099", "n100", "n101"]);
  assert.deepEqual(expandHostlist("r[1-2]-c[1-2]"), ["r1-c1", "r1-c2", "r2-c1", "r2-c2"]);
  assert.deepEqual(expandHostlist("single"), ["single"]);
  assert.deepEqual(expandHostlist("a,a,b"), ["a", "b"]);
  assert.throws(() => expandHostlist("n[1-3"), /unbalanced '\['/);
  assert.throws(() => expandHostlist("n1-3]"), /unbalanced '\]'/);
  assert.throws(() => expandHostlist("n[3-1]"), /goes backwards/);
  assert.throws(() => expandHostlist("n[a-b]"), /is not a range/);
  assert.throws(() => expandHostlist("n[1-99999999]"), /more than 100000 hosts/);
  assert.throws(() => expandHostlist(""), /names no hosts/);
});

Deno.test("launchers: ssh (options of RAIN_SSH first, host after --) and srun", () => {
  assert.deepEqual(launcherArgv("ssh", ["ssh", "-p", "2222"], "node1", "echo hi"), [
    "ssh",
    "-p",
    "2222",
    "-T",
    "-o",
    "BatchMode=yes",
    "-o",
    "ConnectTimeout=15",
    "-o",
    "ServerAliveInterval=30",
    "--",
    "node1",
    "exec /bin/sh -c 'echo hi'",
  ]);
  assert.deepEqual(launcherArgv("srun", ["srun", "--overlap"], "n3", "x"), [
    "srun",
    "--overlap",
    "--nodes=1",
    "--ntasks=1",
    "--nodelist=n3",
    "/bin/sh",
    "-c",
    "x",
  ]);
  assert.equal(shQuote("it's"), `'it'\\''s'`);
  assert.equal(shQuote("/a/b-c"), "/a/b-c");
});

Deno.test("exit of a launcher says which host and why", () => {
  const s = (code: number) => ({ success: false, code, signal: null });
  assert.equal(
    describeRemoteExit("ssh", "n1", s(255)),
    "host n1 cannot be reached with ssh (exit code 255)",
  );
  assert.equal(
    describeRemoteExit("ssh", "n1", s(127)),
    "rain is missing on host n1 (exit code 127)",
  );
  assert.equal(
    describeRemoteExit("srun", "n1", s(1)),
    "the governor on host n1 exited (exit code 1)",
  );
});

const SELF = ["/opt/rain/deno", "run", "-A", "/opt/rain/main.ts"];

function remoteOptions(argv: string[], env: Record<string, string> = {}, files: string[] = []) {
  const ctx = testContext({ env, files: ["/home/user/project/hosts", ...files] });
  const cmd = parseStartArgs(argv, ctx);
  if (cmd.help) throw new Error("help");
  return cmd.options;
}

Deno.test("rain start --governor-host-file plans one governor per host over ssh", () => {
  const o: StartOptions = remoteOptions(
    ["--governor-host-file=hosts", "-S", "--remote-init=module load x", "--workdir=/w"],
    { RAIN_SSH: "ssh -p 2222" },
  );
  assert.deepEqual(o.remote, {
    source: "hostfile",
    value: "/home/user/project/hosts",
    launcher: "ssh",
    command: ["ssh", "-p", "2222"],
  });
  assert.equal(o.reserveCpu, true);
  assert.equal(o.remoteInit, "module load x");
  const plan = planRemote(o, SELF, "head", ["n1", "n2"], { bootId: "B", netns: "net:[1]" });
  assert.equal(plan.length, 2);
  const [g0] = plan;
  assert.equal(g0!.name, "governor 0 on n1");
  assert.equal(g0!.host, "n1");
  assert.equal(g0!.readyFile, "/tmp/rain-logs/rain-node1-4242/governor-0/ready");
  assert.equal(g0!.logFile, "/tmp/rain-logs/rain-node1-4242/governor-0/governor.log");
  assert.deepEqual(g0!.argv.slice(0, 12), [
    "ssh",
    "-p",
    "2222",
    "-T",
    "-o",
    "BatchMode=yes",
    "-o",
    "ConnectTimeout=15",
    "-o",
    "ServerAliveInterval=30",
    "--",
    "n1",
  ]);
  const remote = g0!.argv[12];
  assert.match(remote!, /^exec \/bin\/sh -c '/);
  assert.match(remote!, /module load x; if \[ ! -e \/opt\/rain\/deno \]/);
  // The server is reached by this host's name (it listens on every interface).
  assert.match(
    remote!,
    /exec \/opt\/rain\/deno run -A \/opt\/rain\/main\.ts governor head:7210 \$rain_cpus --logdir=\/tmp\/rain-logs\/rain-node1-4242\/governor-0 --ready-file=- --secret-file=- --watch-stdin --workdir=\/w\/governor-0/,
  );
  // The secret is not part of any command line.
  assert.ok(!plan.some((p) => p.argv.some((a) => /secret-file=[^-]/.test(a))));
});

Deno.test("--autoconf=slurm uses srun when it is on PATH, else ssh; pbs reads $PBS_NODEFILE", () => {
  const slurm = remoteOptions(["--autoconf=slurm"], {
    SLURM_JOB_NODELIST: "n[1-2]",
    PATH: "/usr/bin:/opt/slurm/bin",
  }, ["/opt/slurm/bin/srun"]);
  assert.deepEqual(slurm.remote, {
    source: "slurm",
    value: "n[1-2]",
    launcher: "srun",
    command: ["srun", "--overlap", "--cpu-bind=none"],
  });
  const noSrun = remoteOptions(["--autoconf=slurm"], { SLURM_NODELIST: "n1", PATH: "/usr/bin" });
  assert.equal(noSrun.remote?.launcher, "ssh");
  const pbs = remoteOptions(["--autoconf=pbs"], { PBS_NODEFILE: "/var/spool/pbs/aux/1.nodes" });
  assert.deepEqual(pbs.remote, {
    source: "pbs",
    value: "/var/spool/pbs/aux/1.nodes",
    launcher: "ssh",
    command: ["ssh"],
  });
});

async function sh(script: string): Promise<{ code: number; out: string; err: string }> {
  const o = await new Deno.Command("/bin/sh", { args: ["-c", script], stdin: "null" }).output();
  const d = new TextDecoder();
  return { code: o.code, out: d.decode(o.stdout), err: d.decode(o.stderr) };
}

Deno.test("the remote script: init, 'rain missing' check, -S detection, exec", async () => {
  const identity = {
    bootId: Deno.readTextFileSync("/proc/sys/kernel/random/boot_id").trim(),
    netns: Deno.readLinkSync("/proc/self/ns/net"),
  };
  // Same machine and network: --cpus=-1 is added.
  const here = await sh(remoteScript({
    command: ["/bin/echo", "governor", "srv:1"],
    args: ["--a=it's"],
    required: ["/bin/echo"],
    init: "echo init >&2;",
    reserveOn: identity,
  }));
  assert.equal(here.code, 0, here.err);
  assert.equal(here.out, "governor srv:1 --cpus=-1 --a=it's\n");
  assert.equal(here.err, "init\n");
  // Another machine: nothing added.
  const there = await sh(remoteScript({
    command: ["/bin/echo", "governor", "srv:1"],
    args: [],
    required: [],
    reserveOn: { bootId: "another-boot", netns: identity.netns },
  }));
  assert.equal(there.out, "governor srv:1\n");
  // rain is not installed at that path.
  const missing = await sh(remoteScript({
    command: ["/nonexistent/rain", "governor", "srv:1"],
    args: [],
    required: ["/nonexistent/rain"],
  }));
  assert.equal(missing.code, 127);
  assert.match(
    missing.err,
    /^rain: \/nonexistent\/rain does not exist on host \S+: rain must be installed at the same path on every host\n$/,
  );
});

Deno.test("launcher programs are looked up like a shell would", () => {
  assert.ok(programExists("sh", "/nonexistent:/bin:/usr/bin"));
  assert.ok(programExists("/bin/sh"));
  assert.ok(!programExists("sh", "/nonexistent"));
  assert.ok(!programExists("/nonexistent/ssh"));
  assert.ok(!programExists("/etc"), "a directory");
});

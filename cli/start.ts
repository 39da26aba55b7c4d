/**
 * `rain start`: starts a server and governors as detached background processes, waits until all
 * of them are ready, prints where Rain runs and exits, leaving them running.
 *
 * Parsing and planning (which processes with which arguments) are pure; `runStart` does the work.
 */
import { dirname, join, resolve } from "node:path";
import {
  type Address,
  connectAddress,
  DEFAULT_HTTP_PORT,
  DEFAULT_SERVER_PORT,
  formatAddress,
  isWildcard,
  listenRules,
  parseAddress,
} from "./address.ts";
import { parseCommandArgs, stringValue } from "./args.ts";
import type { CliContext } from "./context.ts";
import { UsageError } from "./errors.ts";
import { shellSplit } from "./shlex.ts";
import type { Io } from "./io.ts";
import { shutdownOrder, spawnDetached, type Spawned, stopAll } from "./process.ts";
import {
  DEFAULT_SRUN,
  DEFAULT_SSH,
  describeRemoteExit,
  expandHostlist,
  type Launcher,
  launcherArgv,
  type LocalIdentity,
  localIdentity,
  parseHostFile,
  parsePbsNodefile,
  programExists,
  remoteScript,
  type RemoteSpec,
  spawnRemote,
} from "./remote.ts";
import {
  authHeaders,
  generateSecret,
  readSecretFile,
  SECRET_ENV,
  secretKey,
  secretsDir,
} from "../common/secret.ts";
import { TIMED_OUT, withTimeout } from "../common/timeout.ts";
import { parseCustomResources } from "../common/resources.ts";
import { parseRetention } from "../server/events/retention.ts";
import { checkSettings, type ResourceSettings } from "../governor/resources.ts";
import { count } from "../common/plural.ts";

export const DEFAULT_START_TIMEOUT = 30;
/** How long, after a process failed, other remote starts may take to settle (ms). */
const REMOTE_SETTLE_MS = 2000;

export const START_USAGE =
  `Usage: rain start (--simple | --local-governors=LIST | --governor-host-file=FILE |
                   --autoconf=pbs|slurm) [-S] [--listen ADDR] [--http-listen ADDR]
                  [--logdir DIR] [--workdir DIR] [--governor-config FILE]
                  [--governor-resources SPEC]
                  [--runprefix CMD] [--remote-init CMDS] [--secret-file FILE | --insecure]
                  [--server-lost-timeout SECONDS] [--log-retention DAYS|SIZE]

Starts a Rain server and governors in the background, waits until all are ready, prints where
Rain runs and exits. Stop them with 'rain stop'. ADDR is PORT, IP or IP:PORT. Options take
--option=VALUE or --option VALUE.

What to start (exactly one):
  --simple                  one local governor with all cpus of this machine
  --local-governors=LIST    one local governor per entry with that many cpus,
                            e.g. --local-governors=[4,4,2] (brackets optional)
  --governor-host-file=FILE one governor per host listed in FILE (one a line, blank lines and
                            # comments ignored), started over ssh; rain must be at the same
                            path on every host
  --autoconf=pbs            one governor per node of this PBS job ($PBS_NODEFILE), over ssh
  --autoconf=slurm          one governor per node of this Slurm job ($SLURM_JOB_NODELIST),
                            started with srun when it is on PATH, else over ssh

Options:
  -S                        reserve a cpu for the server: --simple's governor and the remote
                            governor on the server's machine get --cpus=-1
                            (governors of --local-governors keep their given cpus)
  --listen ADDR             server address for clients and governors (default: 0.0.0.0:${DEFAULT_SERVER_PORT})
  --http-listen ADDR        server dashboard address (default: 0.0.0.0:${DEFAULT_HTTP_PORT})
  --logdir DIR              logs: the server uses DIR/server, governor i DIR/governor-<i>
                            (i from 0); each has <name>.log with the process's output
                            (default: /tmp/rain-logs/rain-<hostname>-<pid>)
  --workdir DIR             governor i works in DIR/governor-<i>
                            (default: each governor's own default)
  --governor-config FILE    passed to every governor as --config (default: none)
  --governor-resources SPEC resources of every governor, entries separated by ';':
                            memory=SIZE|detect, gpus=detect|none|N|ID,ID..., and custom
                            NAME=AMOUNT, e.g. "memory=32GiB;gpus=0,1;licence=2"; passed as
                            --memory, --gpus, --resources (default: each governor detects)
  --runprefix CMD           prefix of every started process, split like a shell,
                            e.g. --runprefix="valgrind --tool=callgrind" (default: none)
  --remote-init CMDS        /bin/sh commands run on each remote host before its governor,
                            e.g. --remote-init="export PATH=\$PATH:/opt/bin" (default: none)
  --secret-file FILE        the cluster secret (a private file) instead of a new random one
  --insecure                no cluster secret: anyone who reaches the server can run programs
                            (see docs/security.md)
  --server-lost-timeout SECONDS
                            passed to every governor: how long it keeps its tasks and data
                            and tries to reach a lost server again (default: 60)
  --log-retention DAYS|SIZE passed to the server: what its events.db keeps (see
                            'rain server --help'; default: everything)
  -h, --help                show this help

The cluster secret goes to the server and local governors in their environment and to remote
governors on their ssh/srun standard input, never on a command line. The server publishes it for
this user in ~/.rain/secrets, where clients of this user on this machine find it.

Remote governors exit when their ssh/srun connection or their link to the server goes away;
'rain stop' stops them all. With a wildcard --listen, they reach the server by this machine's
host name.

Environment:
  RAIN_START_TIMEOUT=S      seconds to wait for every process to be ready (default: ${DEFAULT_START_TIMEOUT})
  RAIN_SSH=CMD              ssh command for remote hosts, split like a shell, e.g.
                            "ssh -p 2222 -i ~/.ssh/rain_key" (default: ssh)
  RAIN_SRUN=CMD             srun command for --autoconf=slurm
                            (default: ${DEFAULT_SRUN.join(" ")})
`;

export interface StartOptions {
  /** cpus of each local governor: a number, or `detect` / `-1` (decided by the governor). */
  governors: GovernorCpus[];
  listen: Address;
  httpListen: Address;
  logDir: string;
  workDir?: string;
  governorConfig?: string;
  /** `--governor-resources`, as `rain governor` arguments (`--memory=…`, `--gpus=…`, …). */
  governorResourceArgs?: string[];
  runPrefix: string[];
  /** Seconds to wait until everything is ready. */
  timeout: number;
  /** Remote governors (`--governor-host-file`, `--autoconf`) instead of local ones. */
  remote?: RemoteHosts;
  /** `-S` with remote governors (decided on each host). */
  reserveCpu?: boolean;
  /** `--remote-init`. */
  remoteInit?: string;
  /** `--secret-file`, resolved. */
  secretFile?: string;
  /** `--insecure`. */
  insecure?: boolean;
  /** `--server-lost-timeout` seconds, passed to every governor. */
  serverLostTimeout?: string;
  /** `--log-retention`, passed to the server as given (checked here). */
  logRetention?: string;
}

/** Where the hosts of remote governors come from, and how they are started. */
export interface RemoteHosts {
  /** `hostfile`: path of the file; `pbs`: path of $PBS_NODEFILE; `slurm`: the node list. */
  source: "hostfile" | "pbs" | "slurm";
  value: string;
  launcher: Launcher;
  /** ssh or srun command prefix. */
  command: string[];
}

/** `--cpus` argument of one governor, and how many cpus that means here. */
export interface GovernorCpus {
  arg?: string;
  cpus: number;
}

export type StartCommand = { help: true } | { help: false; options: StartOptions };

export function parseStartArgs(argv: string[], ctx: CliContext): StartCommand {
  const args = parseCommandArgs("start", argv, {
    "simple": { type: "boolean" },
    "local-governors": { type: "string" },
    "governor-host-file": { type: "string" },
    "autoconf": { type: "string" },
    "S": { type: "boolean", short: "S" },
    "listen": { type: "string" },
    "http-listen": { type: "string" },
    "logdir": { type: "string" },
    "workdir": { type: "string" },
    "governor-config": { type: "string" },
    "governor-resources": { type: "string" },
    "runprefix": { type: "string" },
    "remote-init": { type: "string" },
    "secret-file": { type: "string" },
    "insecure": { type: "boolean" },
    "server-lost-timeout": { type: "string" },
    "log-retention": { type: "string" },
  });
  if (args.help) return { help: true };
  const fail = (message: string) => new UsageError(message, "start");
  const retention = stringValue(args, "log-retention");
  if (retention !== undefined) {
    try {
      parseRetention(retention);
    } catch (e) {
      throw fail(e instanceof Error ? e.message : String(e));
    }
  }
  if (args.positionals.length > 0) throw fail(`unexpected argument '${args.positionals[0]}'`);

  const modes = ["simple", "local-governors", "governor-host-file", "autoconf"]
    .filter((m) => args.values.has(m));
  if (modes.length === 0) {
    throw fail(
      "say what to start: --simple, --local-governors=[N,…], --governor-host-file=FILE or " +
        "--autoconf=pbs|slurm",
    );
  }
  if (modes.length > 1) {
    throw fail(`--${modes[0]} and --${modes[1]} cannot be used together`);
  }
  const autoconf = stringValue(args, "autoconf");
  if (autoconf !== undefined && autoconf !== "pbs" && autoconf !== "slurm") {
    throw fail(`unknown --autoconf value '${autoconf}' (known: pbs, slurm)`);
  }
  const remote = modes[0] === "governor-host-file" || modes[0] === "autoconf"
    ? remoteHosts(args, ctx, fail)
    : undefined;
  if (!remote && args.values.has("remote-init")) {
    throw fail("--remote-init is only for remote governors (--governor-host-file, --autoconf)");
  }
  if (args.values.has("secret-file") && args.values.has("insecure")) {
    throw fail("--secret-file and --insecure cannot be used together");
  }

  const reserve = args.values.has("S");
  let governors: GovernorCpus[];
  if (remote) {
    governors = [];
  } else if (modes[0] === "simple") {
    if (reserve) {
      if (ctx.detectedCpus - 1 < 1) {
        throw fail(
          `-S leaves no cpu for the governor: only ${count(ctx.detectedCpus, "cpu")} detected`,
        );
      }
      governors = [{ arg: "-1", cpus: ctx.detectedCpus - 1 }];
    } else {
      governors = [{ cpus: ctx.detectedCpus }];
    }
  } else {
    governors = parseLocalGovernors(stringValue(args, "local-governors")!)
      .map((n) => ({ arg: String(n), cpus: n }));
  }

  const listen = parseAddress(
    stringValue(args, "listen") ?? String(DEFAULT_SERVER_PORT),
    listenRules("--listen", "start", DEFAULT_SERVER_PORT),
  );
  if (listen.port === 0) {
    throw fail("--listen needs a fixed port for 'rain start' (governors must know it)");
  }
  const httpListen = parseAddress(
    stringValue(args, "http-listen") ?? String(DEFAULT_HTTP_PORT),
    listenRules("--http-listen", "start", DEFAULT_HTTP_PORT),
  );
  if (httpListen.port === listen.port && httpListen.host === listen.host) {
    throw fail(`--listen and --http-listen are both ${formatAddress(listen)}`);
  }

  const options: StartOptions = {
    governors,
    listen,
    httpListen,
    logDir: resolve(
      ctx.cwd,
      stringValue(args, "logdir") ?? `/tmp/rain-logs/rain-${ctx.hostname}-${ctx.pid}`,
    ),
    runPrefix: [],
    timeout: parseTimeout(ctx.env("RAIN_START_TIMEOUT")),
  };
  if (retention !== undefined) options.logRetention = retention;
  const workDir = stringValue(args, "workdir");
  if (workDir !== undefined) options.workDir = resolve(ctx.cwd, workDir);
  const serverLost = stringValue(args, "server-lost-timeout");
  if (serverLost !== undefined) {
    if (!(Number(serverLost) >= 0)) {
      throw fail(`--server-lost-timeout must be a number of seconds >= 0, got '${serverLost}'`);
    }
    options.serverLostTimeout = serverLost;
  }
  const config = stringValue(args, "governor-config");
  if (config !== undefined) {
    const path = resolve(ctx.cwd, config);
    if (!ctx.isFile(path)) throw fail(`--governor-config file '${path}' does not exist`);
    options.governorConfig = path;
  }
  const resources = stringValue(args, "governor-resources");
  if (resources !== undefined) {
    try {
      options.governorResourceArgs = governorResourceArgs(resources);
    } catch (e) {
      throw fail(`--governor-resources: ${(e as Error).message}`);
    }
  }
  if (remote) {
    options.remote = remote;
    if (reserve) options.reserveCpu = true;
    const init = stringValue(args, "remote-init");
    if (init !== undefined) options.remoteInit = init;
  }
  const secretFile = stringValue(args, "secret-file");
  if (secretFile !== undefined) options.secretFile = resolve(ctx.cwd, secretFile);
  if (args.values.has("insecure")) options.insecure = true;
  const prefix = stringValue(args, "runprefix");
  if (prefix !== undefined) {
    try {
      options.runPrefix = shellSplit(prefix);
    } catch (e) {
      throw fail(`--runprefix '${prefix}' cannot be split: ${(e as Error).message}`);
    }
  }
  return { help: false, options };
}

/** The source of remote hosts and the launcher, from the options and the environment. */
function remoteHosts(
  args: ReturnType<typeof parseCommandArgs>,
  ctx: CliContext,
  fail: (message: string) => UsageError,
): RemoteHosts {
  const split = (name: string, fallback: string[]): string[] => {
    const value = ctx.env(name);
    if (value === undefined || value.trim() === "") return fallback;
    try {
      return shellSplit(value);
    } catch (e) {
      throw fail(`${name} '${value}' cannot be split: ${(e as Error).message}`);
    }
  };
  const ssh = split("RAIN_SSH", DEFAULT_SSH);
  const hostFile = stringValue(args, "governor-host-file");
  if (hostFile !== undefined) {
    const path = resolve(ctx.cwd, hostFile);
    if (!ctx.isFile(path)) throw fail(`--governor-host-file '${path}' does not exist`);
    return { source: "hostfile", value: path, launcher: "ssh", command: ssh };
  }
  if (stringValue(args, "autoconf") === "pbs") {
    const nodefile = ctx.env("PBS_NODEFILE");
    if (!nodefile) {
      throw fail("--autoconf=pbs needs $PBS_NODEFILE: run it inside a PBS job");
    }
    return { source: "pbs", value: resolve(ctx.cwd, nodefile), launcher: "ssh", command: ssh };
  }
  const nodelist = ctx.env("SLURM_JOB_NODELIST") || ctx.env("SLURM_NODELIST");
  if (!nodelist) {
    throw fail("--autoconf=slurm needs $SLURM_JOB_NODELIST: run it inside a Slurm job");
  }
  const srun = split("RAIN_SRUN", DEFAULT_SRUN);
  const srunProgram = srun[0] ?? ""; // split() gives at least one word
  const onPath = (ctx.env("PATH") ?? "").split(":").some((dir) =>
    dir !== "" && ctx.isFile(srunProgram.includes("/") ? srunProgram : join(dir, srunProgram))
  );
  return onPath
    ? { source: "slurm", value: nodelist, launcher: "srun", command: srun }
    : { source: "slurm", value: nodelist, launcher: "ssh", command: ssh };
}

/** Reads the remote hosts (the host file, $PBS_NODEFILE) or expands the Slurm node list. */
export async function readRemoteHosts(remote: RemoteHosts): Promise<string[]> {
  if (remote.source === "slurm") return expandHostlist(remote.value);
  let text: string;
  const what = remote.source === "pbs" ? `$PBS_NODEFILE ${remote.value}` : remote.value;
  try {
    text = await Deno.readTextFile(remote.value);
  } catch (e) {
    throw new Error(`cannot read ${what}: ${(e as Error).message}`);
  }
  return remote.source === "pbs" ? parsePbsNodefile(text, what) : parseHostFile(text, what);
}

/** `memory=32GiB;gpus=0,1;licence=2` → `--memory=32GiB --gpus=0,1 --resources=licence=2`. */
export function governorResourceArgs(spec: string): string[] {
  const out: string[] = [];
  const custom: string[] = [];
  for (const entry of spec.split(/[;\s]+/).filter((e) => e !== "")) {
    const eq = entry.indexOf("=");
    if (eq <= 0) throw new Error(`'${entry}' is not NAME=VALUE`);
    const name = entry.slice(0, eq);
    const value = entry.slice(eq + 1);
    if (name === "memory") out.push(`--memory=${value}`);
    else if (name === "gpus") out.push(`--gpus=${value}`);
    else if (name === "cpus") throw new Error("cpus are set by --simple / --local-governors");
    else custom.push(entry);
  }
  const settings: ResourceSettings = {};
  for (const arg of out) {
    const [flag, value] = [arg.slice(2, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)];
    if (flag === "memory") settings.memory = value;
    else settings.gpus = value;
  }
  if (custom.length) {
    settings.custom = parseCustomResources(custom.join(","));
    out.push(`--resources=${custom.join(",")}`);
  }
  checkSettings(settings);
  return out;
}

/** `[4,4,2]`, `4,4,2` or `4` → `[4, 4, 2]`; every entry a positive number of cpus. */
export function parseLocalGovernors(text: string): number[] {
  const bad = (why: string) =>
    new UsageError(`--local-governors '${text}' is not valid: ${why}`, "start");
  let t = text.trim();
  if (t.startsWith("[") !== t.endsWith("]")) throw bad("unbalanced brackets");
  if (t.startsWith("[")) t = t.slice(1, -1);
  if (t.trim() === "") throw bad("no governors listed (expected e.g. [4,4,2])");
  return t.split(",").map((part) => {
    const p = part.trim();
    if (!/^\d+$/.test(p)) throw bad(`'${p}' is not a number of cpus`);
    const n = Number(p);
    if (n < 1) throw bad("every governor needs at least 1 cpu");
    return n;
  });
}

function parseTimeout(value: string | undefined): number {
  if (value === undefined || value.trim() === "") return DEFAULT_START_TIMEOUT;
  const n = Number(value.trim());
  if (!Number.isFinite(n) || n <= 0) {
    throw new UsageError(
      `RAIN_START_TIMEOUT must be a positive number of seconds (got '${value}')`,
      "start",
    );
  }
  return n;
}

/** One process to start. */
export interface ProcessPlan {
  /** `server` or `governor 0`, … (for messages). */
  name: string;
  argv: string[];
  logDir: string;
  /** stdout and stderr of the process. */
  logFile: string;
  readyFile: string;
}

export interface StartPlan {
  server: ProcessPlan;
  governors: ProcessPlan[];
  /** Where the governors (and `rain stop`) reach the server. */
  connect: Address;
  /** Printed when everything is up. */
  message: string;
}

/** Which processes `rain start` runs, given the command that re-invokes this program. */
export function planStart(options: StartOptions, self: string[], hostname: string): StartPlan {
  const prefix = [...options.runPrefix, ...self];
  const serverDir = join(options.logDir, "server");
  const server: ProcessPlan = {
    name: "server",
    argv: [
      ...prefix,
      "server",
      `--listen=${formatAddress(options.listen)}`,
      `--http-listen=${formatAddress(options.httpListen)}`,
      `--logdir=${serverDir}`,
      `--ready-file=${join(serverDir, "ready")}`,
      ...(options.insecure ? ["--insecure"] : []),
      ...(options.logRetention !== undefined ? [`--log-retention=${options.logRetention}`] : []),
    ],
    logDir: serverDir,
    logFile: join(serverDir, "server.log"),
    readyFile: join(serverDir, "ready"),
  };
  const connect = connectAddress(options.listen);
  const governors = options.governors.map((g, i): ProcessPlan => {
    const dir = join(options.logDir, `governor-${i}`);
    const argv = [...prefix, "governor", formatAddress(connect)];
    if (g.arg !== undefined) argv.push(`--cpus=${g.arg}`);
    argv.push(`--logdir=${dir}`, `--ready-file=${join(dir, "ready")}`);
    if (options.workDir !== undefined) {
      argv.push(`--workdir=${join(options.workDir, `governor-${i}`)}`);
    }
    if (options.governorConfig !== undefined) argv.push(`--config=${options.governorConfig}`);
    if (options.serverLostTimeout !== undefined) {
      argv.push(`--server-lost-timeout=${options.serverLostTimeout}`);
    }
    argv.push(...options.governorResourceArgs ?? []);
    return {
      name: `governor ${i}`,
      argv,
      logDir: dir,
      logFile: join(dir, "governor.log"),
      readyFile: join(dir, "ready"),
    };
  });
  const shown = (a: Address) => ({ host: isWildcard(a.host) ? hostname : a.host, port: a.port });
  const n = options.governors.length;
  if (options.remote) {
    return { server, governors, connect, message: "" }; // the message waits for the hosts
  }
  const stopHint = options.listen.port === DEFAULT_SERVER_PORT && isWildcard(options.listen.host)
    ? "rain stop"
    : `rain stop ${formatAddress(connect)}`;
  const message = `Rain started: server at ${formatAddress(shown(options.listen))}, ` +
    `dashboard at http://${formatAddress(shown(options.httpListen))}, ` +
    `${n} governor${n === 1 ? "" : "s"} (${governorCpus(options.governors.map((g) => g.cpus))}` +
    `); stop with: ${stopHint}`;
  return { server, governors, connect, message };
}

/** Where remote governors reach the server: this host's name when it listens everywhere. */
export function remoteServerAddress(listen: Address, hostname: string): Address {
  return { host: isWildcard(listen.host) ? hostname : listen.host, port: listen.port };
}

/** The remote governors to start, one per host (pure). */
export function planRemote(
  options: StartOptions,
  self: string[],
  hostname: string,
  hosts: string[],
  identity?: LocalIdentity,
): RemoteSpec[] {
  const remote = options.remote!;
  const prefix = [...options.runPrefix, ...self];
  const server = formatAddress(remoteServerAddress(options.listen, hostname));
  // rain itself must be at the same path there: every absolute path of its command line.
  const required = [...new Set(prefix.filter((a) => a.startsWith("/")))];
  return hosts.map((host, i) => {
    const dir = join(options.logDir, `governor-${i}`);
    const args = [`--logdir=${dir}`, "--ready-file=-"];
    if (!options.insecure) args.push("--secret-file=-");
    args.push("--watch-stdin");
    if (options.workDir !== undefined) {
      args.push(`--workdir=${join(options.workDir, `governor-${i}`)}`);
    }
    if (options.governorConfig !== undefined) args.push(`--config=${options.governorConfig}`);
    if (options.serverLostTimeout !== undefined) {
      args.push(`--server-lost-timeout=${options.serverLostTimeout}`);
    }
    args.push(...options.governorResourceArgs ?? []);
    const script = remoteScript({
      command: [...prefix, "governor", server],
      args,
      required,
      init: options.remoteInit,
      reserveOn: options.reserveCpu ? identity : undefined,
    });
    return {
      name: `governor ${i} on ${host}`,
      argv: launcherArgv(remote.launcher, remote.command, host, script),
      logFile: join(dir, "governor.log"),
      readyFile: join(dir, "ready"),
      host,
      launcher: remote.launcher,
    };
  });
}

/** Runs `rain start`: returns its exit code. */
export async function runStart(
  options: StartOptions,
  self: string[],
  ctx: CliContext,
  io: Io,
): Promise<number> {
  const plan = planStart(options, self, ctx.hostname);
  if (await answers(plan.connect)) {
    io.err(
      `rain: ${formatAddress(plan.connect)} already answers (is Rain already running? ` +
        `stop it with: rain stop ${formatAddress(plan.connect)})\n`,
    );
    return 1;
  }
  let hosts: string[] = [];
  let remotes: RemoteSpec[] = [];
  let secret: string | undefined;
  try {
    if (options.remote) {
      const launcher = options.remote.command[0] ?? "";
      if (!programExists(launcher)) {
        throw new Error(
          `'${launcher}' is not found here: remote governors are started with ` +
            `${options.remote.launcher} (install it, or set ${
              options.remote.launcher === "ssh" ? "RAIN_SSH" : "RAIN_SRUN"
            })`,
        );
      }
      hosts = await readRemoteHosts(options.remote);
      remotes = planRemote(
        options,
        self,
        ctx.hostname,
        hosts,
        options.reserveCpu ? localIdentity() : undefined,
      );
    }
    if (!options.insecure) {
      secret = options.secretFile !== undefined
        ? await readSecretFile(options.secretFile)
        : generateSecret();
    }
  } catch (e) {
    io.err(`rain: ${(e as Error).message}\n`);
    return 1;
  }
  // The secret goes in the environment (never on a command line: `ps` shows those).
  const env = secret === undefined ? undefined : { [SECRET_ENV]: secret };
  for (const p of [plan.server, ...plan.governors, ...remotes]) {
    await Deno.mkdir(dirname(p.readyFile), { recursive: true });
    await Deno.remove(p.readyFile).catch(() => {});
  }

  const started: Spawned[] = [];
  let interrupted = false;
  const onSignal = () => interrupted = true;
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  const deadline = Date.now() + options.timeout * 1000;
  try {
    started.push(spawnDetached({ ...plan.server, env }));
    let failure = await waitReady(started, deadline, options.timeout, () => interrupted);
    if (failure === undefined) {
      for (const g of plan.governors) started.push(spawnDetached({ ...g, env }));
      // Remote governors start in parallel; each gets the secret on its launcher's stdin.
      started.push(...await Promise.all(remotes.map((r) => spawnRemote(r, secret))));
      failure = await waitReady(started, deadline, options.timeout, () => interrupted);
    }
    if (failure !== undefined) {
      io.err(`rain: ${failure}\n`);
      const names = started.map((s) => `${s.plan.name} (pid ${s.pid})`).join(", ");
      io.err(`rain: start aborted; stopping what was started: ${names}\n`);
      await stopAll(shutdownOrder(started));
      return 1;
    }
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
  for (const s of started) s.child.unref();
  const message = options.remote
    ? await remoteMessage(options, ctx.hostname, plan.connect, hosts, secret)
    : plan.message;
  io.out(message + "\n");
  if (secret !== undefined) {
    const path = join(
      secretsDir((n) => ctx.env(n)),
      secretKey(options.listen.host, options.listen.port),
    );
    io.out(
      `Cluster secret: clients of this user on this machine find it in ${path}; ` +
        `elsewhere give it as RAIN_SECRET (see docs/security.md)\n`,
    );
    // Monitoring needs the secret from anyone but this user's own tools: the Jupyter-style
    // address opens the dashboard in a browser (it sets a cookie and drops the token).
    const dashboard = formatAddress(dashboardHost(options.httpListen, ctx.hostname));
    io.out(
      `Dashboard (the address holds the secret: do not share it): ` +
        `http://${dashboard}/?token=${secret}\n`,
    );
  } else {
    io.out(
      "WARNING: authentication is off (--insecure): anyone who reaches the server can run " +
        "programs on every governor\n",
    );
  }
  return 0;
}

/** The address a browser opens for a listen address (this machine's name for a wildcard). */
function dashboardHost(listen: Address, hostname: string): Address {
  return { host: isWildcard(listen.host) ? hostname : listen.host, port: listen.port };
}

/** The "Rain started" line for remote governors, with their cpus as the server reports them. */
async function remoteMessage(
  options: StartOptions,
  hostname: string,
  connect: Address,
  hosts: string[],
  secret: string | undefined,
): Promise<string> {
  let cpus = "";
  try {
    const res = await fetch(`http://${formatAddress(connect)}/api/v1/server_info`, {
      headers: authHeaders(secret),
      signal: AbortSignal.timeout(5000),
    });
    const info = await res.json() as { governors: { resources: { cpus: number } }[] };
    cpus = ` (${count(info.governors.reduce((n, g) => n + g.resources.cpus, 0), "cpu")})`;
  } catch {
    // the count is only informative
  }
  const shown = (a: Address) => ({ host: isWildcard(a.host) ? hostname : a.host, port: a.port });
  const n = hosts.length;
  const stopHint = options.listen.port === DEFAULT_SERVER_PORT && isWildcard(options.listen.host)
    ? "rain stop"
    : `rain stop ${formatAddress(connect)}`;
  return `Rain started: server at ${formatAddress(shown(options.listen))}, ` +
    `dashboard at http://${formatAddress(shown(options.httpListen))}, ` +
    `${n} governor${n === 1 ? "" : "s"} on ${hosts.join(", ")}${cpus}; stop with: ${stopHint}`;
}

/**
 * Waits until every started process has written its ready file. Answers `undefined` when all are
 * ready, else what went wrong (a process died, the deadline passed, the user interrupted).
 */
async function waitReady(
  started: Spawned[],
  deadline: number,
  timeout: number,
  interrupted: () => boolean,
): Promise<string | undefined> {
  for (;;) {
    let exited = started.filter((s) => s.exit !== undefined);
    if (exited.length > 0) {
      // Remote starts run in parallel: let the others settle a moment, so that one report names
      // every host that failed.
      const settle = Math.min(deadline, Date.now() + REMOTE_SETTLE_MS);
      const unsettled = () =>
        started.some((s) =>
          s.exit === undefined && (s.plan as Partial<RemoteSpec>).host !== undefined &&
          !isReady(s.plan.readyFile)
        );
      while (Date.now() < settle && unsettled()) await new Promise((r) => setTimeout(r, 50));
      exited = started.filter((s) => s.exit !== undefined);
      const lines = await Promise.all(exited.map(async (s) => {
        const remote = s.plan as Partial<RemoteSpec>;
        const why = remote.host !== undefined
          ? describeRemoteExit(remote.launcher!, remote.host, s.exit!)
          : describeExit(s.exit!);
        return `${s.plan.name} (pid ${s.pid}) exited during start (${why})` +
          await logTail(s.plan.logFile);
      }));
      return lines.join("\nrain: ");
    }
    for (const s of started) s.ready ||= isReady(s.plan.readyFile);
    const pending = started.filter((s) => !s.ready);
    if (pending.length === 0) return undefined;
    if (interrupted()) return "interrupted";
    if (Date.now() > deadline) {
      const tails = await Promise.all(pending.map((s) => logTail(s.plan.logFile)));
      return pending.map((s, i) =>
        `${s.plan.name} (pid ${s.pid}) was not ready within ${timeout} s ` +
        `(set RAIN_START_TIMEOUT to wait longer)${tails[i]}`
      ).join("\nrain: ");
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

function describeExit(status: Deno.CommandStatus): string {
  return status.signal ? `killed by ${status.signal}` : `exit code ${status.code}`;
}

/** A ready file holds `ready` (a remote governor's is its launcher's stdout: empty at first). */
function isReady(path: string): boolean {
  try {
    return Deno.readTextFileSync(path).startsWith("ready");
  } catch {
    return false;
  }
}

/** The last lines of a log file, indented, prefixed by a line naming the file. */
export async function logTail(path: string, lines = 20): Promise<string> {
  let text: string;
  try {
    const file = await Deno.open(path);
    try {
      const size = (await file.stat()).size;
      const start = Math.max(0, size - 8192);
      await file.seek(start, Deno.SeekMode.Start);
      const buf = new Uint8Array(size - start);
      let off = 0;
      while (off < buf.length) {
        const n = await file.read(buf.subarray(off));
        if (n === null) break;
        off += n;
      }
      text = new TextDecoder().decode(buf.subarray(0, off));
    } finally {
      file.close();
    }
  } catch {
    return `; no log at ${path}`;
  }
  const tail = text.split("\n").filter((l) => l.trim() !== "").slice(-lines);
  if (tail.length === 0) return `; its log ${path} is empty`;
  return `; last lines of ${path}:\n${tail.map((l) => `    ${l}`).join("\n")}`;
}

/** True when something accepts TCP connections at `a`. */
export async function answers(a: Address, timeoutMs = 1000): Promise<boolean> {
  const connecting = Deno.connect({ hostname: a.host, port: a.port });
  try {
    const conn = await withTimeout(connecting, timeoutMs);
    if (conn !== TIMED_OUT) {
      conn.close();
      return true;
    }
  } catch {
    // refused or unreachable
  }
  connecting.then((c) => c.close(), () => {});
  return false;
}

/** `1 cpu`, `4 cpus`, `2, 2 cpus`: the cpus of the governors started. */
function governorCpus(cpus: number[]): string {
  return cpus.length === 1 ? count(cpus[0]!, "cpu") : `${cpus.join(", ")} cpus`;
}

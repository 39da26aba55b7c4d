/** `rain start`'s arguments and environment → `StartOptions` (pure, but for file checks). */
import { join, resolve } from "node:path";
import {
  type Address,
  DEFAULT_HTTP_PORT,
  DEFAULT_SERVER_PORT,
  formatAddress,
  listenRules,
  parseAddress,
} from "./address.ts";
import { parseCommandArgs, stringValue } from "./args.ts";
import type { CliContext } from "./context.ts";
import { UsageError } from "./errors.ts";
import { shellSplit } from "./shlex.ts";
import { DEFAULT_SRUN, DEFAULT_SSH, type Launcher } from "./remote.ts";
import { parseCustomResources } from "../common/resources.ts";
import { parseRetention } from "../server/events/retention.ts";
import { checkSettings, type ResourceSettings } from "../governor/resources.ts";
import { count } from "../common/plural.ts";

export const DEFAULT_START_TIMEOUT = 30;

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

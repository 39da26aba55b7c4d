/** `rain governor`: parsing (pure) and running. */
import { resolve } from "node:path";
import type { GovernorOptions } from "../governor/options.ts";
import { DEFAULT_SERVER_PORT, listenRules, parseAddress, serverRules } from "./address.ts";
import { parseCommandArgs, type ParsedArgs, stringValue } from "./args.ts";
import type { CliContext } from "./context.ts";
import { parseCpus } from "./cpus.ts";
import { UsageError } from "./errors.ts";
import { findSecret, readSecretFile, readSecretLine, SECRET_ENV } from "../common/secret.ts";
import { normalizeList, splitFlag } from "../governor/permissions.ts";
import { checkSettings, type ResourceSettings } from "../governor/resources.ts";
import { parseCustomResources } from "../common/resources.ts";

export const DEFAULT_DELETE_LIST_TIMEOUT = 5;

export const GOVERNOR_USAGE =
  `Usage: rain governor SERVER[:PORT] [--cpus N] [--memory SIZE] [--gpus IDS]
                     [--resources NAME=AMOUNT,...] [--listen ADDR] [--workdir DIR]
                     [--logdir DIR] [--config FILE] [--ready-file FILE]
                     [--secret-file FILE] [--watch-stdin] [--server-lost-timeout SECONDS]
                     [--allow-read PATHS] [--allow-write PATHS] [--allow-run PROGRAMS]

Runs a Rain governor: it registers with the server at SERVER[:PORT] (port default:
${DEFAULT_SERVER_PORT}) and runs the tasks the server gives it.
ADDR is PORT, IP or IP:PORT. Options take --option=VALUE or --option VALUE.

Options:
  --cpus N           cpus offered to the server: 'detect' (all cores), a positive N, or
                     -X = detected minus X (default: detect)
  --memory SIZE      memory tasks may ask for: 'detect' (the machine's, or the cgroup limit
                     when lower) or a size such as 64GiB, 512MB (default: detect)
  --gpus IDS         gpus tasks may ask for: 'detect' (CUDA_VISIBLE_DEVICES or
                     ROCR_VISIBLE_DEVICES, else nvidia-smi -L / rocm-smi, else
                     /proc/driver/nvidia/gpus), 'none', a count N (ids 0..N-1) or ids
                     '0,2,3' (one id: '1,') (default: detect)
  --resources LIST   custom summed resources, NAME=AMOUNT[,NAME=AMOUNT...] (e.g. licence=2);
                     these add to [resources] of --config (docs/resources.md)
  --listen ADDR      governor-to-governor data address; port 0 = any free port (default:
                     any port on the interface that reaches the server)
                     (default: 0.0.0.0:0)
  --workdir DIR      where objects and task directories are kept
                     (default: /tmp/rain-work/governor-<hostname>-<pid>)
  --logdir DIR       log directory; created if missing
                     (default: /tmp/rain-logs/governor-<hostname>-<pid>)
  --config FILE      TOML config; [executors.<name>] command = "<program> <args>" registers an
                     executor type (default: none; built-in 'py' = python3 -m rain.executor)
  --ready-file FILE  written with one line "ready" once registered with the server;
                     '-' prints that line on stdout (default: none)
  --secret-file FILE the cluster secret (first line of a private file; '-': the first line
                     of stdin) (default: $RAIN_SECRET, else the secret the server published
                     for this user in ~/.rain/secrets, else none)
  --server-lost-timeout SECONDS
                     when the server is lost, keep running tasks and data and try to reach it
                     again (a restarted server takes them back) this long, then exit;
                     0 = exit at once (default: $RAIN_RECONNECT_TIMEOUT, else 60)
  --watch-stdin      stop (in order) when stdin ends (rain start uses it for governors
                     started over ssh: they go when the launching connection goes)
  --allow-read PATHS   comma-separated paths Load/LoadDir may read (default: any path)
  --allow-write PATHS  comma-separated paths Store may write to (default: any path)
  --allow-run PROGS    comma-separated programs Execute may run (default: any program)
                     These add to [permissions] read/write/run of --config; the work dir is
                     always allowed; Deno enforces them (see docs/security.md)
  -h, --help         show this help

Environment:
  RAIN_DELETE_LIST_TIMEOUT=S  seconds before an object no longer needed is deleted;
                              0 = at once (default: ${DEFAULT_DELETE_LIST_TIMEOUT})
  RAIN_MONITORING_INTERVAL=S  seconds between resource usage reports to the server's event
                              log; 0 = none (default: 2)
  RAIN_RECONNECT_TIMEOUT=S    seconds to keep trying to reach the server after the link
                              dropped, then exit; 0 = exit at once (default: 60)
  RAIN_LOG_LEVEL              debug, info, warn or error (default: info)
`;

export type GovernorCommand = { help: true } | { help: false; options: GovernorOptions };

export function parseGovernorArgs(argv: string[], ctx: CliContext): GovernorCommand {
  const args = parseCommandArgs("governor", argv, {
    "cpus": { type: "string", dashValue: true },
    "memory": { type: "string" },
    "gpus": { type: "string" },
    "resources": { type: "string" },
    "listen": { type: "string" },
    "workdir": { type: "string" },
    "logdir": { type: "string" },
    "config": { type: "string" },
    "ready-file": { type: "string" },
    "secret-file": { type: "string", dashValue: true },
    "watch-stdin": { type: "boolean" },
    "server-lost-timeout": { type: "string" },
    "allow-read": { type: "string" },
    "allow-write": { type: "string" },
    "allow-run": { type: "string" },
  });
  if (args.help) return { help: true };
  const serverText = args.positionals[0];
  if (serverText === undefined) {
    throw new UsageError("missing the server address SERVER[:PORT]", "governor");
  }
  if (args.positionals.length > 1) {
    throw new UsageError(`unexpected argument '${args.positionals[1]}'`, "governor");
  }
  const server = parseAddress(serverText, serverRules("server address", "governor"));
  const cpus = parseCpus(stringValue(args, "cpus") ?? "detect", ctx.detectedCpus);
  const listen = parseAddress(
    // No IP (absent, or a port alone): "", the interface that reaches the server.
    stringValue(args, "listen") ?? "0",
    listenRules("--listen", "governor", 0, ""),
  );
  const name = `governor-${ctx.hostname}-${ctx.pid}`;
  const options: GovernorOptions = {
    serverHost: server.host,
    serverPort: server.port,
    cpus,
    listenHost: listen.host,
    listenPort: listen.port,
    workDir: resolve(ctx.cwd, stringValue(args, "workdir") ?? `/tmp/rain-work/${name}`),
    logDir: resolve(ctx.cwd, stringValue(args, "logdir") ?? `/tmp/rain-logs/${name}`),
    deleteListTimeout: parseDeleteListTimeout(ctx.env("RAIN_DELETE_LIST_TIMEOUT")),
  };
  const flag = stringValue(args, "server-lost-timeout");
  const reconnect = flag ?? ctx.env("RAIN_RECONNECT_TIMEOUT");
  if (reconnect !== undefined && reconnect.trim() !== "") {
    const seconds = Number(reconnect.trim());
    if (!(seconds >= 0)) {
      throw new UsageError(
        `${flag === undefined ? "RAIN_RECONNECT_TIMEOUT" : "--server-lost-timeout"} must be a ` +
          `number of seconds >= 0 (got '${reconnect}')`,
        "governor",
      );
    }
    options.reconnectTimeout = seconds;
  }
  const monitoring = ctx.env("RAIN_MONITORING_INTERVAL");
  if (monitoring !== undefined && monitoring.trim() !== "") {
    const seconds = Number(monitoring.trim());
    if (!(seconds >= 0)) {
      throw new UsageError(
        `RAIN_MONITORING_INTERVAL must be a number of seconds >= 0 (got '${monitoring}')`,
        "governor",
      );
    }
    options.monitoringInterval = seconds;
  }
  const readyFile = stringValue(args, "ready-file");
  if (readyFile !== undefined) {
    options.readyFile = readyFile === "-" ? "-" : resolve(ctx.cwd, readyFile);
  }
  const secretFile = stringValue(args, "secret-file");
  if (secretFile !== undefined) {
    options.secretFile = secretFile === "-" ? "-" : resolve(ctx.cwd, secretFile);
  }
  if (args.values.has("watch-stdin")) options.watchStdin = true;
  const resources = resourceSettings(args);
  if (resources !== undefined) options.resources = resources;
  for (const kind of ["read", "write", "run"] as const) {
    const value = stringValue(args, `allow-${kind}`);
    if (value === undefined) continue;
    options.permissions ??= {};
    options.permissions[kind] = normalizeList(kind, splitFlag(value), ctx.cwd);
  }
  const config = stringValue(args, "config");
  if (config !== undefined) {
    const path = resolve(ctx.cwd, config);
    if (!ctx.isFile(path)) {
      throw new UsageError(`--config file '${path}' does not exist`, "governor");
    }
    options.configFile = path;
  }
  return { help: false, options };
}

/** `--memory`, `--gpus`, `--resources`, checked (detection happens when the governor starts). */
function resourceSettings(args: ParsedArgs): ResourceSettings | undefined {
  const memory = stringValue(args, "memory");
  const gpus = stringValue(args, "gpus");
  const custom = stringValue(args, "resources");
  if (memory === undefined && gpus === undefined && custom === undefined) return undefined;
  const settings: ResourceSettings = {};
  try {
    if (memory !== undefined) settings.memory = memory.trim();
    if (gpus !== undefined) settings.gpus = gpus.trim();
    if (custom !== undefined) settings.custom = parseCustomResources(custom);
    checkSettings(settings);
  } catch (e) {
    throw new UsageError((e as Error).message, "governor");
  }
  return settings;
}

/** `RAIN_DELETE_LIST_TIMEOUT`: seconds (fractions allowed), default 5, 0 = delete at once. */
export function parseDeleteListTimeout(value: string | undefined): number {
  if (value === undefined || value.trim() === "") return DEFAULT_DELETE_LIST_TIMEOUT;
  const t = value.trim();
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(t) || !Number.isFinite(Number(t))) {
    throw new UsageError(
      `RAIN_DELETE_LIST_TIMEOUT must be a number of seconds >= 0 (got '${value}')`,
      "governor",
    );
  }
  return Number(t);
}

/** Runs the governor until it stops; the exit code of `rain governor`. */
export async function runGovernorCommand(options: GovernorOptions): Promise<number> {
  // The log dir outlives the governor; the work dir is created and cleaned by the governor.
  await Deno.mkdir(options.logDir, { recursive: true });
  options.secret = await governorSecret(options);
  const stdinEnded = options.watchStdin ? endOfStdin() : undefined;
  const { runGovernor } = await import("../governor/mod.ts");
  await runGovernor(options, stdinEnded);
  return 0;
}

/**
 * The secret the governor presents: `--secret-file` (`-`: stdin), `$RAIN_SECRET` (then removed
 * from the environment, so that programs the governor starts do not inherit it), or the one the
 * server published for this user on this machine.
 */
async function governorSecret(options: GovernorOptions): Promise<string | undefined> {
  if (options.secretFile === "-") return await readSecretLine(Deno.stdin.readable);
  if (options.secretFile !== undefined) return await readSecretFile(options.secretFile);
  const fromEnv = Deno.env.get(SECRET_ENV);
  if (fromEnv !== undefined) {
    Deno.env.delete(SECRET_ENV);
    if (fromEnv.trim() !== "") return fromEnv.trim();
  }
  return await findSecret(options.serverHost, options.serverPort);
}

/**
 * Settles when stdin reaches its end (or breaks): the governor then stops in order, cleaning its
 * work dir (SIGTERM would leave it, as in Rain 0.4).
 */
async function endOfStdin(): Promise<void> {
  try {
    for await (const _ of Deno.stdin.readable) { /* only the end matters */ }
  } catch {
    // a broken stdin ends it too
  }
}

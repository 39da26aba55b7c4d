/** `rain governor`: parsing (pure) and running. */
import { resolve } from "node:path";
import type { GovernorOptions } from "../governor/options.ts";
import { DEFAULT_SERVER_PORT, listenRules, parseAddress, serverRules } from "./address.ts";
import { parseCommandArgs, stringValue } from "./args.ts";
import type { CliContext } from "./context.ts";
import { parseCpus } from "./cpus.ts";
import { UsageError } from "./errors.ts";

export const DEFAULT_DELETE_LIST_TIMEOUT = 5;

export const GOVERNOR_USAGE =
  `Usage: rain governor SERVER[:PORT] [--cpus N] [--listen ADDR] [--workdir DIR]
                     [--logdir DIR] [--config FILE] [--ready-file FILE]

Runs a Rain governor: it registers with the server at SERVER[:PORT] (port default:
${DEFAULT_SERVER_PORT}) and runs the tasks the server gives it.
ADDR is PORT, IP or IP:PORT. Options take --option=VALUE or --option VALUE.

Options:
  --cpus N           cpus offered to the server: 'detect' (all cores), a positive N, or
                     -X = detected minus X (default: detect)
  --listen ADDR      governor-to-governor data address; port 0 = any free port
                     (default: 0.0.0.0:0)
  --workdir DIR      where objects and task directories are kept
                     (default: /tmp/rain-work/governor-<hostname>-<pid>)
  --logdir DIR       log directory; created if missing
                     (default: /tmp/rain-logs/governor-<hostname>-<pid>)
  --config FILE      TOML config; [executors.<name>] command = "<program> <args>" registers an
                     executor type (default: none; built-in 'py' = python3 -m rain.executor)
  --ready-file FILE  written with one line "ready" once registered with the server
                     (default: none)
  -h, --help         show this help

Environment:
  RAIN_DELETE_LIST_TIMEOUT=S  seconds before an object no longer needed is deleted;
                              0 = at once (default: ${DEFAULT_DELETE_LIST_TIMEOUT})
  RAIN_LOG_LEVEL              debug, info, warn or error (default: info)
`;

export type GovernorCommand = { help: true } | { help: false; options: GovernorOptions };

export function parseGovernorArgs(argv: string[], ctx: CliContext): GovernorCommand {
  const args = parseCommandArgs("governor", argv, {
    "cpus": { type: "string", dashValue: true },
    "listen": { type: "string" },
    "workdir": { type: "string" },
    "logdir": { type: "string" },
    "config": { type: "string" },
    "ready-file": { type: "string" },
  });
  if (args.help) return { help: true };
  if (args.positionals.length === 0) {
    throw new UsageError("missing the server address SERVER[:PORT]", "governor");
  }
  if (args.positionals.length > 1) {
    throw new UsageError(`unexpected argument '${args.positionals[1]}'`, "governor");
  }
  const server = parseAddress(args.positionals[0], serverRules("server address", "governor"));
  const cpus = parseCpus(stringValue(args, "cpus") ?? "detect", ctx.detectedCpus);
  const listen = parseAddress(
    stringValue(args, "listen") ?? "0.0.0.0:0",
    listenRules("--listen", "governor", 0),
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
  const readyFile = stringValue(args, "ready-file");
  if (readyFile !== undefined) options.readyFile = resolve(ctx.cwd, readyFile);
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
  const { runGovernor } = await import("../governor/mod.ts");
  await runGovernor(options);
  return 0;
}

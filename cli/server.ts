/** `rain server`: parsing (pure) and running. */
import { join, resolve } from "node:path";
import type { ServerOptions } from "../server/options.ts";
import {
  DEFAULT_HTTP_PORT,
  DEFAULT_SERVER_PORT,
  formatAddress,
  listenRules,
  parseAddress,
} from "./address.ts";
import { parseCommandArgs, stringValue } from "./args.ts";
import type { CliContext } from "./context.ts";
import { UsageError } from "./errors.ts";
import { parseRetention } from "../server/events/retention.ts";
import { generateSecret, readSecretFile, SECRET_ENV, secretProblem } from "../common/secret.ts";

export const SERVER_USAGE = `Usage: rain server [--listen ADDR] [--http-listen ADDR] [--logdir DIR]
                   [--ready-file FILE] [--secret-file FILE | --insecure]
                   [--heartbeat-timeout SECONDS] [--reattach-timeout SECONDS] [--fresh]
                   [--log-retention DAYS|SIZE]

Runs the Rain server: clients and governors connect to its --listen address.
ADDR is PORT, IP or IP:PORT. Options take --option=VALUE or --option VALUE.

Options:
  --listen ADDR       client and governor address (default: 0.0.0.0:${DEFAULT_SERVER_PORT})
  --http-listen ADDR  dashboard and monitoring HTTP address (default: 0.0.0.0:${DEFAULT_HTTP_PORT})
  --logdir DIR        log directory, holds events.db and the journal; created if missing
                      (default: /tmp/rain-logs/server-<hostname>-<pid>). A server started
                      again over the log dir of one that crashed restores its open sessions
  --fresh             discard the journal of an earlier server in --logdir (its sessions
                      are closed) instead of restoring them
  --ready-file FILE   written with one line "ready" once connections are accepted
                      (default: none)
  --secret-file FILE  the cluster secret (first line; the file must be private, mode 0600)
                      that clients and governors must present (default: $RAIN_SECRET, else
                      the one kept in <logdir>/secret, else a new random one kept there);
                      published for this user in
                      ~/.rain/secrets/<host>_<port> (see docs/security.md)
  --insecure          no secret: anyone who reaches the server can run programs (warned)
  --heartbeat-timeout SECONDS
                      a governor not heard from for this long is lost: its work is redone
                      elsewhere; after a quarter of it, it gets no new work; after a
                      restart, how long governors have to reattach (default: 10)
  --reattach-timeout SECONDS
                      after a restart, how long a client of a restored session has to connect
                      again before its sessions close (default: 60)
                      elsewhere; after a quarter of it, it gets no new work (default: 10)
  --log-retention DAYS|SIZE
                      what events.db keeps: closed sessions older than DAYS days (30 or
                      30d) are dropped, or the oldest closed sessions until it fits SIZE
                      (500MiB), or both (30d,2GiB); never an open session; applied at start
                      and hourly (default: keep everything)
  -h, --help          show this help

Environment:
  RAIN_TEST_MODE=1    honour spec.user._testing placement hints (default: off)
  RAIN_EVENT_LOG=0    do not record the event log <logdir>/events.db (default: recorded)
  RAIN_JOURNAL=0      keep no journal <logdir>/journal: a restarted server restores nothing
                      (default: kept)
  RAIN_LOG_LEVEL      debug, info, warn or error (default: info)
  RAIN_LOG_RETENTION_INTERVAL=S
                      seconds between --log-retention passes (default: 3600)
`;

export type ServerCommand = { help: true } | { help: false; options: ServerOptions };

export function parseServerArgs(argv: string[], ctx: CliContext): ServerCommand {
  const args = parseCommandArgs("server", argv, {
    "listen": { type: "string" },
    "http-listen": { type: "string" },
    "logdir": { type: "string" },
    "ready-file": { type: "string" },
    "secret-file": { type: "string" },
    "insecure": { type: "boolean" },
    "heartbeat-timeout": { type: "string" },
    "reattach-timeout": { type: "string" },
    "fresh": { type: "boolean" },
    "log-retention": { type: "string" },
  });
  if (args.help) return { help: true };
  if (args.positionals.length > 0) {
    throw new UsageError(`unexpected argument '${args.positionals[0]}'`, "server");
  }
  if (args.values.has("secret-file") && args.values.has("insecure")) {
    throw new UsageError("--secret-file and --insecure cannot be used together", "server");
  }
  const listen = parseAddress(
    stringValue(args, "listen") ?? String(DEFAULT_SERVER_PORT),
    listenRules("--listen", "server", DEFAULT_SERVER_PORT),
  );
  const http = parseAddress(
    stringValue(args, "http-listen") ?? String(DEFAULT_HTTP_PORT),
    listenRules("--http-listen", "server", DEFAULT_HTTP_PORT),
  );
  if (listen.port !== 0 && listen.port === http.port && listen.host === http.host) {
    throw new UsageError(
      `--listen and --http-listen are both ${formatAddress(listen)}`,
      "server",
    );
  }
  const logDir = resolve(
    ctx.cwd,
    stringValue(args, "logdir") ?? `/tmp/rain-logs/server-${ctx.hostname}-${ctx.pid}`,
  );
  const readyFile = stringValue(args, "ready-file");
  const options: ServerOptions = {
    listenHost: listen.host,
    listenPort: listen.port,
    httpHost: http.host,
    httpPort: http.port,
    logDir,
    testMode: ctx.env("RAIN_TEST_MODE") === "1",
  };
  if (ctx.env("RAIN_EVENT_LOG") === "0") options.eventLog = false;
  if (ctx.env("RAIN_JOURNAL") === "0") options.journal = false;
  if (readyFile !== undefined) options.readyFile = resolve(ctx.cwd, readyFile);
  const secretFile = stringValue(args, "secret-file");
  if (secretFile !== undefined) options.secretFile = resolve(ctx.cwd, secretFile);
  if (args.values.has("insecure")) options.insecure = true;
  const heartbeat = stringValue(args, "heartbeat-timeout");
  if (heartbeat !== undefined) {
    const seconds = Number(heartbeat);
    if (!(Number.isFinite(seconds) && seconds >= 0.2)) {
      throw new UsageError(
        `--heartbeat-timeout must be a number of seconds ≥ 0.2, got '${heartbeat}'`,
        "server",
      );
    }
    options.heartbeatTimeout = seconds;
  }
  const reattach = stringValue(args, "reattach-timeout");
  if (reattach !== undefined) {
    const seconds = Number(reattach);
    if (!(Number.isFinite(seconds) && seconds >= 0)) {
      throw new UsageError(
        `--reattach-timeout must be a number of seconds ≥ 0, got '${reattach}'`,
        "server",
      );
    }
    options.clientReattachTimeout = seconds;
  }
  if (args.values.has("fresh")) options.fresh = true;
  const retention = stringValue(args, "log-retention");
  if (retention !== undefined) {
    try {
      options.logRetention = parseRetention(retention);
    } catch (e) {
      throw new UsageError(e instanceof Error ? e.message : String(e), "server");
    }
  }
  const interval = ctx.env("RAIN_LOG_RETENTION_INTERVAL");
  if (interval !== undefined && interval !== "") {
    const seconds = Number(interval);
    if (!(Number.isFinite(seconds) && seconds > 0)) {
      throw new UsageError(
        `RAIN_LOG_RETENTION_INTERVAL must be a positive number of seconds, got '${interval}'`,
        "server",
      );
    }
    options.logRetentionIntervalMs = seconds * 1000;
  }
  return { help: false, options };
}

/** Runs the server until it stops; the exit code of `rain server`. */
export async function runServerCommand(options: ServerOptions): Promise<number> {
  await Deno.mkdir(options.logDir, { recursive: true });
  if (!options.insecure) options.secret = await serverSecret(options);
  Deno.env.delete(SECRET_ENV);
  const { runServer } = await import("../server/mod.ts");
  const { JournalError } = await import("../server/journal/journal.ts");
  try {
    await runServer(options);
  } catch (e) {
    if (!(e instanceof JournalError)) throw e;
    console.error(`rain server: ${e.message}`);
    return 1;
  }
  return 0;
}

/**
 * `--secret-file`, else `$RAIN_SECRET` (how `rain start` hands it over), else the one kept in
 * the log dir (a restarted server keeps its secret, so its governors and clients stay
 * connected), else a new one. Every secret but a `--secret-file` is kept (0600) in the log dir.
 */
async function serverSecret(options: ServerOptions): Promise<string> {
  if (options.secretFile !== undefined) return await readSecretFile(options.secretFile);
  const kept = join(options.logDir, "secret");
  const fromEnv = Deno.env.get(SECRET_ENV)?.trim();
  let secret: string;
  if (fromEnv) {
    const problem = secretProblem(fromEnv);
    if (problem) throw new Error(`${SECRET_ENV} cannot be used as the cluster secret: ${problem}`);
    secret = fromEnv;
  } else {
    secret = await readSecretFile(kept).catch(() => generateSecret());
  }
  await Deno.writeTextFile(kept, secret + "\n", { mode: 0o600 });
  await Deno.chmod(kept, 0o600);
  return secret;
}

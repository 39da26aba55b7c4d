/** `rain server`: parsing (pure) and running. */
import { resolve } from "node:path";
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

export const SERVER_USAGE = `Usage: rain server [--listen ADDR] [--http-listen ADDR] [--logdir DIR]
                   [--ready-file FILE]

Runs the Rain server: clients and governors connect to its --listen address.
ADDR is PORT, IP or IP:PORT. Options take --option=VALUE or --option VALUE.

Options:
  --listen ADDR       client and governor address (default: 0.0.0.0:${DEFAULT_SERVER_PORT})
  --http-listen ADDR  dashboard and monitoring HTTP address (default: 0.0.0.0:${DEFAULT_HTTP_PORT})
  --logdir DIR        log directory, holds events.db; created if missing
                      (default: /tmp/rain-logs/server-<hostname>-<pid>)
  --ready-file FILE   written with one line "ready" once connections are accepted
                      (default: none)
  -h, --help          show this help

Environment:
  RAIN_TEST_MODE=1    honour spec.user._testing placement hints (default: off)
  RAIN_LOG_LEVEL      debug, info, warn or error (default: info)
`;

export type ServerCommand = { help: true } | { help: false; options: ServerOptions };

export function parseServerArgs(argv: string[], ctx: CliContext): ServerCommand {
  const args = parseCommandArgs("server", argv, {
    "listen": { type: "string" },
    "http-listen": { type: "string" },
    "logdir": { type: "string" },
    "ready-file": { type: "string" },
  });
  if (args.help) return { help: true };
  if (args.positionals.length > 0) {
    throw new UsageError(`unexpected argument '${args.positionals[0]}'`, "server");
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
  if (readyFile !== undefined) options.readyFile = resolve(ctx.cwd, readyFile);
  return { help: false, options };
}

/** Runs the server until it stops; the exit code of `rain server`. */
export async function runServerCommand(options: ServerOptions): Promise<number> {
  await Deno.mkdir(options.logDir, { recursive: true });
  const { runServer } = await import("../server/mod.ts");
  await runServer(options);
  return 0;
}

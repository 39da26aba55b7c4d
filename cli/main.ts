/** The `rain` command line: dispatches to the subcommands. */
import { RAIN_VERSION } from "../common/version.ts";
import { selfCommand } from "../common/self_command.ts";
import { type CliContext, realContext } from "./context.ts";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError, usageLine } from "./errors.ts";
import { GOVERNOR_USAGE, parseGovernorArgs, runGovernorCommand } from "./governor.ts";
import {
  DASHBOARD_USAGE,
  parseDashboardArgs,
  parseReportArgs,
  REPORT_USAGE,
  runDashboard,
  runReport,
} from "./dashboard.ts";
import { type Io, stdIo } from "./io.ts";
import { parseServerArgs, runServerCommand, SERVER_USAGE } from "./server.ts";
import { parseStartArgs, runStart, START_USAGE } from "./start.ts";
import { parseStopArgs, runStop, STOP_USAGE } from "./stop.ts";
import { DRAIN_USAGE, parseDrainArgs, runDrain } from "./drain.ts";
import { parseStatusArgs, runStatus, STATUS_USAGE } from "./status.ts";
import { LOGS_USAGE, parseLogsArgs, runLogs } from "./logs.ts";

export const MAIN_USAGE = `Usage: rain <command> [options]
       rain <command> --help

Rain ${RAIN_VERSION}: distributed task pipelines.

Commands:
  start      start a server and governors in the background, wait until they are ready
  stop       shut down a running server and its governors
  status     show the governors and sessions (progress) of a running server
  drain      stop a governor once its work is done or moved (no work lost)
  server     run the server (clients and governors connect to it)
  governor   run a governor (runs tasks) attached to a server
  dashboard  serve the dashboard over the event log of a stopped run (read-only)
  report     write a one-file HTML report of a session from an event log
  logs       print what a task printed (its stdout and stderr), live or from an event log

Options:
  -h, --help     show this help
  -v, --version  print the version

Environment:
  RAIN_TEST_MODE=1            server: honour spec.user._testing placement hints
  RAIN_DELETE_LIST_TIMEOUT=S  governor: seconds before an unneeded object is deleted (default: 5)
  RAIN_LOG_LEVEL              debug, info, warn or error (default: info)
`;

export interface RunDeps {
  io?: Io;
  ctx?: CliContext;
  /** argv prefix that re-invokes this program (default: `selfCommand()`). */
  self?: () => string[];
}

/** Runs `rain` with `argv` (without the program name); resolves to the exit code. */
export async function runCli(argv: string[], deps: RunDeps = {}): Promise<number> {
  const io = deps.io ?? stdIo;
  try {
    return await dispatch(argv, io, deps);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(usageLine(e) + "\n");
      return EXIT_USAGE;
    }
    const command = argv[0] ?? "";
    io.err(`rain ${command}: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT_FAILURE;
  }
}

async function dispatch(argv: string[], io: Io, deps: RunDeps): Promise<number> {
  const [command, ...rest] = argv;
  const ctx = () => deps.ctx ?? realContext();
  switch (command) {
    case undefined:
      // Every command, as `rain --help` lists them (on stderr: nothing was done).
      io.err(`rain: missing command\n\n${MAIN_USAGE}`);
      return EXIT_USAGE;
    case "-h":
    case "--help":
      io.out(MAIN_USAGE);
      return EXIT_OK;
    case "-v":
    case "--version":
      io.out(`rain ${RAIN_VERSION}\n`);
      return EXIT_OK;
    case "server": {
      const cmd = parseServerArgs(rest, ctx());
      if (cmd.help) return help(io, SERVER_USAGE);
      return await runServerCommand(cmd.options);
    }
    case "governor": {
      const cmd = parseGovernorArgs(rest, ctx());
      if (cmd.help) return help(io, GOVERNOR_USAGE);
      return await runGovernorCommand(cmd.options);
    }
    case "start": {
      const c = ctx();
      const cmd = parseStartArgs(rest, c);
      if (cmd.help) return help(io, START_USAGE);
      return await runStart(cmd.options, (deps.self ?? selfCommand)(), c, io);
    }
    case "stop": {
      const cmd = parseStopArgs(rest, (name) => ctx().env(name));
      if (cmd.help) return help(io, STOP_USAGE);
      return await runStop(cmd.server, cmd.timeout, io, cmd.secretFile);
    }
    case "drain": {
      const cmd = parseDrainArgs(rest);
      if (cmd.help) return help(io, DRAIN_USAGE);
      return await runDrain(cmd, io);
    }
    case "status": {
      const cmd = parseStatusArgs(rest);
      if (cmd.help) return help(io, STATUS_USAGE);
      return await runStatus(cmd.server, cmd.json, io);
    }
    case "dashboard": {
      const cmd = parseDashboardArgs(rest, ctx());
      if (cmd.help) return help(io, DASHBOARD_USAGE);
      return await runDashboard(cmd.options, io);
    }
    case "logs": {
      const cmd = parseLogsArgs(rest, ctx());
      if (cmd.help) return help(io, LOGS_USAGE);
      return await runLogs(cmd.options, io);
    }
    case "report": {
      const cmd = parseReportArgs(rest, ctx());
      if (cmd.help) return help(io, REPORT_USAGE);
      return await runReport(cmd.options, io);
    }
    default:
      if (command.startsWith("-")) throw new UsageError(`unknown option '${command}'`);
      throw new UsageError(`unknown command '${command}'`);
  }
}

function help(io: Io, text: string): number {
  io.out(text);
  return EXIT_OK;
}

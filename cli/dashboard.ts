/**
 * `rain dashboard` (post-mortem: the dashboard over a stopped run's event log, read-only) and
 * `rain report` (a one-file HTML report of one session). Parsing is pure (unit tested).
 */
import { resolve } from "node:path";
import { DEFAULT_HTTP_PORT, formatAddress, listenRules, parseAddress } from "./address.ts";
import { parseCommandArgs, stringValue } from "./args.ts";
import type { CliContext } from "./context.ts";
import { UsageError } from "./errors.ts";
import type { Io } from "./io.ts";

const EVENTS_DB = "events.db";

export const DASHBOARD_USAGE =
  `Usage: rain dashboard --logdir DIR [--http-listen ADDR] [--ready-file FILE]
       rain dashboard EVENTS_DB [--http-listen ADDR]

Serves the dashboard over the event log of a server that ran before (post-mortem, read-only):
sessions, task stream, task groups, task graph, task inspector, governors.
DIR is a server's --logdir (holding events.db) or a 'rain start' --logdir (holding
server/events.db). ADDR is PORT, IP or IP:PORT.

Options:
  --logdir DIR        the log directory to read (or give the events.db file instead)
  --http-listen ADDR  where to serve the dashboard (default: 127.0.0.1:${DEFAULT_HTTP_PORT});
                      anyone but this user's own local tools needs the printed token
  --ready-file FILE   written with one line "ready" once the dashboard is served (default: none)
  -h, --help          show this help
`;

export const REPORT_USAGE = `Usage: rain report --logdir DIR --session N [-o FILE]
       rain report EVENTS_DB --session N [-o FILE]

Writes a one-file HTML report of session N from an event log: every dashboard view of the
session with its data inlined, so it opens offline in a browser. Works on the log of a running
or stopped server. DIR as for 'rain dashboard'.

Options:
  --logdir DIR        the log directory to read (or give the events.db file instead)
  --session N         the session to report on
  -o, --output FILE   where to write (default: rain-session-N.html)
  -h, --help          show this help
`;

export interface DashboardOptions {
  eventsDb: string;
  httpHost: string;
  httpPort: number;
  readyFile?: string;
}

export interface ReportOptions {
  eventsDb: string;
  session: number;
  output: string;
}

/** The events.db named by `--logdir DIR` or a positional path (a file or a directory). */
export function eventsDbArg(
  command: string,
  logdir: string | undefined,
  positionals: string[],
  ctx: CliContext,
): string {
  if (positionals.length > (logdir === undefined ? 1 : 0)) {
    throw new UsageError(
      `unexpected argument '${positionals[logdir === undefined ? 1 : 0]}'`,
      command,
    );
  }
  const given = logdir ?? positionals[0];
  if (given === undefined) {
    throw new UsageError("missing --logdir DIR (or an events.db path)", command);
  }
  const path = resolve(ctx.cwd, given);
  const candidates = [path, resolve(path, EVENTS_DB), resolve(path, "server", EVENTS_DB)];
  const found = candidates.find((p) => ctx.isFile(p));
  if (!found) {
    throw new UsageError(
      `no event log at ${given} (looked for ${EVENTS_DB} and server/${EVENTS_DB})`,
      command,
    );
  }
  return found;
}

export type DashboardCommand = { help: true } | { help: false; options: DashboardOptions };

export function parseDashboardArgs(argv: string[], ctx: CliContext): DashboardCommand {
  const args = parseCommandArgs("dashboard", argv, {
    "logdir": { type: "string" },
    "http-listen": { type: "string" },
    "ready-file": { type: "string" },
  });
  if (args.help) return { help: true };
  const eventsDb = eventsDbArg("dashboard", stringValue(args, "logdir"), args.positionals, ctx);
  const http = parseAddress(
    // Loopback by default: an event log holds task specs and errors (a token guards it too).
    stringValue(args, "http-listen") ?? `127.0.0.1:${DEFAULT_HTTP_PORT}`,
    listenRules("--http-listen", "dashboard", DEFAULT_HTTP_PORT),
  );
  const options: DashboardOptions = { eventsDb, httpHost: http.host, httpPort: http.port };
  const ready = stringValue(args, "ready-file");
  if (ready !== undefined) options.readyFile = resolve(ctx.cwd, ready);
  return { help: false, options };
}

export type ReportCommand = { help: true } | { help: false; options: ReportOptions };

export function parseReportArgs(argv: string[], ctx: CliContext): ReportCommand {
  const args = parseCommandArgs("report", argv, {
    "logdir": { type: "string" },
    "session": { type: "string" },
    "output": { type: "string", short: "o" },
  });
  if (args.help) return { help: true };
  const eventsDb = eventsDbArg("report", stringValue(args, "logdir"), args.positionals, ctx);
  const raw = stringValue(args, "session");
  if (raw === undefined) throw new UsageError("missing --session N", "report");
  if (!/^\d+$/.test(raw.trim())) {
    throw new UsageError(`--session must be a session id (a whole number), got '${raw}'`, "report");
  }
  const session = Number(raw.trim());
  const output = resolve(ctx.cwd, stringValue(args, "output") ?? `rain-session-${session}.html`);
  return { help: false, options: { eventsDb, session, output } };
}

/** The read-only app of an old log: the event queries plus the dashboard. */
async function postMortemApp(eventsDb: string) {
  const { Hono } = await import("hono");
  const { PostMortemEvents } = await import("../server/events/post_mortem.ts");
  const { eventsApi } = await import("../server/events/routes.ts");
  const { mountDashboard } = await import("../server/dashboard_routes.ts");
  const events = new PostMortemEvents(eventsDb);
  const app = new Hono();
  app.route("/", eventsApi(events));
  mountDashboard(app, { mode: "postmortem", events, source: eventsDb });
  return { app, events };
}

/** Serves the post-mortem dashboard until SIGINT/SIGTERM. */
export async function runDashboard(options: DashboardOptions, io: Io): Promise<number> {
  const { app, events } = await postMortemApp(options.eventsDb);
  const { Auth } = await import("../server/auth.ts");
  const { serveGuarded } = await import("../common/conn_guard.ts");
  const { generateSecret } = await import("../common/secret.ts");
  // An event log holds task specs, command lines and errors: a token of this run is needed by
  // anyone but this user's own loopback tools (the server's monitoring rule).
  const token = generateSecret();
  const auth = new Auth(token);
  const server = await serveGuarded(
    {
      hostname: options.httpHost,
      port: options.httpPort,
      what: "--http-listen",
      trusted: (headers, target) => auth.knowsSecret(headers, target),
    },
    auth.protect(app.fetch, "monitoring"),
  );
  const where = formatAddress({
    host: options.httpHost === "0.0.0.0" ? "127.0.0.1" : options.httpHost,
    port: server.addr.port,
  });
  io.out(
    `Rain dashboard (post-mortem, read-only) of ${options.eventsDb} on ` +
      `http://${where}/?token=${token} (the address holds the access token)\n`,
  );
  if (options.readyFile) await Deno.writeTextFile(options.readyFile, "ready\n");
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  for (const signal of ["SIGTERM", "SIGINT"] as const) Deno.addSignalListener(signal, stop);
  await stopped;
  for (const signal of ["SIGTERM", "SIGINT"] as const) Deno.removeSignalListener(signal, stop);
  await server.shutdown();
  events.close();
  return 0;
}

/** Writes the report; a session missing from the log is a one-line error (exit 1). */
export async function runReport(options: ReportOptions, io: Io): Promise<number> {
  const { app, events } = await postMortemApp(options.eventsDb);
  const { sessionReport } = await import("../server/dashboard_routes.ts");
  try {
    await events.refresh();
    if (!events.model.sessions.has(options.session)) {
      throw new Error(
        missingSession(options.session, options.eventsDb, events.model.sessions.keys()),
      );
    }
    const html = await sessionReport(app, options.session, options.eventsDb);
    await Deno.writeTextFile(options.output, html);
    io.out(
      `wrote ${options.output} (${(html.length / 1024).toFixed(0)} KiB): session ` +
        `${options.session} of ${options.eventsDb}\n`,
    );
    return 0;
  } finally {
    events.close();
  }
}

/** "session 99 is not in FILE; it holds sessions 1-3, 7" (ranges, at most 20 of them). */
export function missingSession(session: number, eventsDb: string, ids: Iterable<number>): string {
  const sorted = [...ids].sort((a, b) => a - b);
  if (sorted.length === 0) return `session ${session} is not in ${eventsDb}: it holds no sessions`;
  const ranges: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    ranges.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  const shown = ranges.length > 20 ? [...ranges.slice(0, 10), "…", ...ranges.slice(-10)] : ranges;
  const noun = sorted.length === 1 ? "session" : "sessions";
  return `session ${session} is not in ${eventsDb}: it holds ${noun} ${shown.join(", ")}`;
}

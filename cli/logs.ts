/**
 * `rain logs SESSION_ID TASK_ID`: what a task printed (issue 17), from a running server (its
 * client port, `GET /api/v1/sessions/<sid>/tasks/<id>/output`) or post-mortem from an event log
 * (`--logdir`, as `rain report`). The task's stdout goes to stdout, its stderr to stderr.
 */
import { type Address, DEFAULT_SERVER_PORT, formatAddress, serverArgument } from "./address.ts";
import { parseCommandArgs, stringValue } from "./args.ts";
import type { CliContext } from "./context.ts";
import { eventsDbArg, missingSession } from "./dashboard.ts";
import { UsageError } from "./errors.ts";
import type { Io } from "./io.ts";
import { authHeaders, findSecret } from "../common/secret.ts";
import { refusal } from "./http_error.ts";
import type { TaskOutputView } from "../server/events/task_output.ts";

export const LOGS_USAGE = `Usage: rain logs SESSION_ID TASK_ID [--server SERVER[:PORT]]
       rain logs SESSION_ID TASK_ID --logdir DIR

Prints what a task printed (its standard output and error not mapped to an output object;
everything a Python task prints): its stdout on stdout, its stderr on stderr. Each stream keeps
its first and last 32 KiB (a line says how much was dropped between). From a running server,
or from the event log of a stopped one (DIR as for 'rain report').

Options:
  --server SERVER[:PORT]  the server's --listen address (default: $RAIN_SERVER or
                          127.0.0.1:${DEFAULT_SERVER_PORT})
  --logdir DIR            read the event log instead (or give the events.db file)
  --attempt-info          also say which attempt the output is of (on stderr)
  -h, --help              show this help
`;

export interface LogsOptions {
  session: number;
  task: number;
  /** Post-mortem: the events.db to read. */
  eventsDb?: string;
  server: Address;
  attemptInfo: boolean;
}

export type LogsCommand = { help: true } | { help: false; options: LogsOptions };

function idArg(raw: string | undefined, what: string): number {
  if (raw === undefined) throw new UsageError(`missing ${what}`, "logs");
  if (!/^\d+$/.test(raw)) {
    throw new UsageError(`${what} must be a whole number, got '${raw}'`, "logs");
  }
  return Number(raw);
}

export function parseLogsArgs(argv: string[], ctx: CliContext): LogsCommand {
  const args = parseCommandArgs("logs", argv, {
    "server": { type: "string" },
    "logdir": { type: "string" },
    "attempt-info": { type: "boolean" },
  });
  if (args.help) return { help: true };
  const [sid, tid, ...extra] = args.positionals;
  const session = idArg(sid, "SESSION_ID");
  const task = idArg(tid, "TASK_ID");
  if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`, "logs");
  const logdir = stringValue(args, "logdir");
  const serverText = stringValue(args, "server");
  if (logdir !== undefined && serverText !== undefined) {
    throw new UsageError("give --server or --logdir, not both", "logs");
  }
  const server = serverArgument(
    [serverText ?? ctx.env("RAIN_SERVER") ?? "127.0.0.1"].filter((s) => s !== ""),
    "logs",
  );
  const options: LogsOptions = {
    session,
    task,
    server,
    attemptInfo: args.values.has("attempt-info"),
  };
  if (logdir !== undefined) options.eventsDb = eventsDbArg("logs", logdir, [], ctx);
  return { help: false, options };
}

async function fromServer(o: LogsOptions): Promise<TaskOutputView> {
  const where = formatAddress(o.server);
  let res: Response;
  let secret: string | undefined;
  try {
    secret = await findSecret(o.server.host, o.server.port);
    res = await fetch(`http://${where}/api/v1/sessions/${o.session}/tasks/${o.task}/output`, {
      headers: authHeaders(secret),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (e) {
    const err = e as Error & { cause?: Error };
    const why = err?.name === "TimeoutError"
      ? "no answer in time"
      : (err?.cause?.message ?? err?.message ?? String(e)).split("\n")[0];
    throw new Error(`no Rain server answers at ${where} (${why})`);
  }
  const text = await res.text();
  if (!res.ok) {
    // A missing task or session is said plainly; anything else as the server's refusal.
    if (res.status === 404) {
      const message = (JSON.parse(text) as { error?: { message?: string } })?.error?.message;
      if (message) throw new Error(message);
    }
    throw new Error(refusal(where, "the task's output", res.status, text, secret !== undefined));
  }
  return JSON.parse(text) as TaskOutputView;
}

async function fromLog(o: LogsOptions, eventsDb: string): Promise<TaskOutputView> {
  const { PostMortemEvents } = await import("../server/events/post_mortem.ts");
  const { taskOutputView } = await import("../server/events/task_output.ts");
  const { QueryError } = await import("../server/events/criteria.ts");
  const events = new PostMortemEvents(eventsDb);
  try {
    await events.refresh();
    if (!events.model.sessions.has(o.session)) {
      throw new Error(missingSession(o.session, eventsDb, events.model.sessions.keys()));
    }
    return await taskOutputView(events, o.session, o.task);
  } catch (e) {
    if (e instanceof QueryError) throw new Error(`${e.message} (${eventsDb})`);
    throw e;
  } finally {
    events.close();
  }
}

export async function runLogs(o: LogsOptions, io: Io): Promise<number> {
  const view = o.eventsDb === undefined ? await fromServer(o) : await fromLog(o, o.eventsDb);
  if (o.attemptInfo) {
    io.err(
      view.attempt === null
        ? `task ${o.session}/${o.task} (${view.state}) printed nothing\n`
        : `task ${o.session}/${o.task} (${view.state}), attempt ${view.attempt}:\n`,
    );
  }
  io.out(view.stdout);
  io.err(view.stderr);
  return 0;
}

/**
 * `rain start`: starts a server and governors as detached background processes, waits until all
 * of them are ready, prints where Rain runs and exits, leaving them running.
 *
 * Parsing and planning (which processes with which arguments) are pure; `runStart` does the work.
 */
import { join, resolve } from "node:path";
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

export const DEFAULT_START_TIMEOUT = 30;

export const START_USAGE =
  `Usage: rain start (--simple | --local-governors=LIST) [-S] [--listen ADDR]
                  [--http-listen ADDR] [--logdir DIR] [--workdir DIR]
                  [--governor-config FILE] [--runprefix CMD]

Starts a Rain server and governors in the background, waits until all are ready, prints where
Rain runs and exits. Stop them with 'rain stop'. ADDR is PORT, IP or IP:PORT. Options take
--option=VALUE or --option VALUE.

What to start (exactly one):
  --simple                  one local governor with all cpus of this machine
  --local-governors=LIST    one local governor per entry with that many cpus,
                            e.g. --local-governors=[4,4,2] (brackets optional)
  --governor-host-file=FILE remote governors over ssh (not supported yet)
  --autoconf=pbs            governors on the nodes of a PBS job (not supported yet)

Options:
  -S                        reserve a cpu for the server: --simple's governor gets --cpus=-1
                            (governors of --local-governors keep their given cpus)
  --listen ADDR             server address for clients and governors (default: 0.0.0.0:${DEFAULT_SERVER_PORT})
  --http-listen ADDR        server dashboard address (default: 0.0.0.0:${DEFAULT_HTTP_PORT})
  --logdir DIR              logs: the server uses DIR/server, governor i DIR/governor-<i>
                            (i from 0); each has <name>.log with the process's output
                            (default: /tmp/rain-logs/rain-<hostname>-<pid>)
  --workdir DIR             governor i works in DIR/governor-<i>
                            (default: each governor's own default)
  --governor-config FILE    passed to every governor as --config (default: none)
  --runprefix CMD           prefix of every started process, split like a shell,
                            e.g. --runprefix="valgrind --tool=callgrind" (default: none)
  --remote-init CMDS        shell commands run before remote governors (not supported yet)
  -h, --help                show this help

Environment:
  RAIN_START_TIMEOUT=S      seconds to wait for every process to be ready (default: ${DEFAULT_START_TIMEOUT})
`;

export interface StartOptions {
  /** cpus of each local governor: a number, or `detect` / `-1` (decided by the governor). */
  governors: GovernorCpus[];
  listen: Address;
  httpListen: Address;
  logDir: string;
  workDir?: string;
  governorConfig?: string;
  runPrefix: string[];
  /** Seconds to wait until everything is ready. */
  timeout: number;
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
    "runprefix": { type: "string" },
    "remote-init": { type: "string" },
  });
  if (args.help) return { help: true };
  const fail = (message: string) => new UsageError(message, "start");
  if (args.positionals.length > 0) throw fail(`unexpected argument '${args.positionals[0]}'`);

  const modes = ["simple", "local-governors", "governor-host-file", "autoconf"]
    .filter((m) => args.values.has(m));
  if (modes.length === 0) {
    throw fail("say what to start: --simple or --local-governors=[N,…]");
  }
  if (modes.length > 1) {
    throw fail(`--${modes[0]} and --${modes[1]} cannot be used together`);
  }
  const autoconf = stringValue(args, "autoconf");
  if (autoconf !== undefined && autoconf !== "pbs") {
    throw fail(`unknown --autoconf value '${autoconf}' (the only one is 'pbs')`);
  }
  const remote = modes[0] === "governor-host-file" || modes[0] === "autoconf";
  if (remote) {
    throw fail(
      `--${modes[0]} is not supported yet (remote governors over ssh come in a later ` +
        `version); use --simple or --local-governors`,
    );
  }
  if (args.values.has("remote-init")) {
    throw fail("--remote-init is not supported yet (it is only for remote governors)");
  }

  const reserve = args.values.has("S");
  let governors: GovernorCpus[];
  if (modes[0] === "simple") {
    if (reserve) {
      if (ctx.detectedCpus - 1 < 1) {
        throw fail(`-S leaves no cpu for the governor: only ${ctx.detectedCpus} cpu detected`);
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
  const workDir = stringValue(args, "workdir");
  if (workDir !== undefined) options.workDir = resolve(ctx.cwd, workDir);
  const config = stringValue(args, "governor-config");
  if (config !== undefined) {
    const path = resolve(ctx.cwd, config);
    if (!ctx.isFile(path)) throw fail(`--governor-config file '${path}' does not exist`);
    options.governorConfig = path;
  }
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
  const stopHint = options.listen.port === DEFAULT_SERVER_PORT && isWildcard(options.listen.host)
    ? "rain stop"
    : `rain stop ${formatAddress(connect)}`;
  const message = `Rain started: server at ${formatAddress(shown(options.listen))}, ` +
    `dashboard at http://${formatAddress(shown(options.httpListen))}, ` +
    `${n} governor${n === 1 ? "" : "s"} (${options.governors.map((g) => g.cpus).join(", ")} ` +
    `cpus); stop with: ${stopHint}`;
  return { server, governors, connect, message };
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
  for (const p of [plan.server, ...plan.governors]) {
    await Deno.mkdir(p.logDir, { recursive: true });
    await Deno.remove(p.readyFile).catch(() => {});
  }

  const started: Spawned[] = [];
  let interrupted = false;
  const onSignal = () => interrupted = true;
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  const deadline = Date.now() + options.timeout * 1000;
  try {
    started.push(spawnDetached(plan.server));
    let failure = await waitReady(started, deadline, options.timeout, () => interrupted);
    if (failure === undefined) {
      for (const g of plan.governors) started.push(spawnDetached(g));
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
  io.out(plan.message + "\n");
  return 0;
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
    for (const s of started) {
      if (s.exit !== undefined) {
        return `${s.plan.name} (pid ${s.pid}) exited during start ` +
          `(${describeExit(s.exit)})${await logTail(s.plan.logFile)}`;
      }
    }
    for (const s of started) s.ready ||= exists(s.plan.readyFile);
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

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
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
  let timer: ReturnType<typeof setTimeout> | undefined;
  const connecting = Deno.connect({ hostname: a.host, port: a.port });
  try {
    const conn = await Promise.race([
      connecting,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("timeout")), timeoutMs);
      }),
    ]);
    conn.close();
    return true;
  } catch {
    connecting.then((c) => c.close(), () => {});
    return false;
  } finally {
    clearTimeout(timer);
  }
}

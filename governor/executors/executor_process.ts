/**
 * One executor process: started in its own process group (so killing it kills what it started),
 * in its own working directory, with the executor environment (docs/executors.md); its stdout
 * and stderr go to files in the governor's log directory and the last lines are kept for error
 * messages. After it registers on the hub it runs one call at a time.
 *
 * Death is detected by the end of its connection or of the process. A call in progress then
 * fails with the exit status and the tails of stdout and stderr; so does a process that exits
 * (or does not register in time) before registering.
 */
import { join } from "node:path";
import {
  type Call,
  type CallFailed,
  type CallResult,
  decodeFrameBody,
  encodeFrame,
  EXECUTOR_ENV,
  type Frame,
  FrameSplitter,
} from "../../common/executor_protocol.ts";
import type { Id, SessionId } from "../../common/ids.ts";
import { Logger } from "../../common/log.ts";
import { settlesWithin, TIMED_OUT, withTimeout } from "../../common/timeout.ts";
import { errorMessage, removeTree } from "../fs_util.ts";
import { killTagged, newProcessTag, PROCESS_TAG_ENV } from "../tagged_processes.ts";
import type { ExecutorConfig } from "./config.ts";
import { rainPythonPath } from "./config.ts";
import type { ExecutorHub } from "./hub.ts";
import type { ExecutorChild, ExecutorStatus, ForkServer } from "./fork_server.ts";
import { CappedLog } from "../../common/capped_log.ts";
import { readCapped } from "../task_output.ts";

const log = new Logger("governor.executors");

/** Bytes of stdout and stderr kept for error messages. */
const TAIL_BYTES = 8 * 1024;
const TAIL_LINES = 30;
/** How long a dying executor may take to exit and flush its output before it is killed. */
const EXIT_GRACE_MS = 1000;

export type CallAnswer = Frame<CallResult | CallFailed>;

/** The last bytes written to a stream. */
class Tail {
  #chunks: Uint8Array[] = [];
  #size = 0;

  push(chunk: Uint8Array): void {
    this.#chunks.push(chunk);
    this.#size += chunk.length;
    while (this.#chunks.length > 1 && this.#size - this.#chunks[0]!.length >= TAIL_BYTES) {
      this.#size -= this.#chunks.shift()!.length;
    }
  }

  text(): string {
    const all = new Uint8Array(this.#size);
    let offset = 0;
    for (const c of this.#chunks) {
      all.set(c, offset);
      offset += c.length;
    }
    return lastLines(new TextDecoder().decode(all.subarray(Math.max(0, all.length - TAIL_BYTES))));
  }
}

function lastLines(text: string): string {
  return text.slice(-TAIL_BYTES).split("\n").slice(-TAIL_LINES - 1).join("\n").trimEnd();
}

async function pump(stream: ReadableStream<Uint8Array>, tail: Tail, logPath?: string) {
  // Capped: a chatty executor must not fill the disk (head and tail kept, the gap counted).
  let file: CappedLog | undefined;
  let fileFailed = logPath === undefined;
  try {
    for await (const chunk of stream) {
      tail.push(chunk);
      if (fileFailed) continue;
      try {
        file ??= new CappedLog(await Deno.open(logPath!, { create: true, append: true }));
        await file.write(chunk);
      } catch (e) {
        fileFailed = true;
        log.warn(`cannot write ${logPath}: ${errorMessage(e)}`);
      }
    }
  } catch {
    // the pipe broke: the process is gone
  } finally {
    await file?.close().catch(() => {});
  }
}

function describeStatus(status: ExecutorStatus | undefined): string {
  if (status === undefined) return "still running, killed";
  if (status.cause) return status.cause;
  if (status.signal) return `killed by signal ${status.signal}`;
  return `exit code ${status.code}`;
}

export interface SpawnOptions {
  config: ExecutorConfig;
  hub: ExecutorHub;
  /** Unique per governor, e.g. `py-3`: the `RAIN_EXECUTOR_ID`. */
  id: string;
  /** The executor's working directory (created here, removed when the process is gone). */
  workDir: string;
  /** Where `<id>.stdout` / `<id>.stderr` are written (none: only kept in memory). */
  logDir?: string;
  governorId: string;
  /** Aborts the start (kills the process). */
  signal?: AbortSignal;
  /** Forks the executor there instead of starting `config.command` (fork_server.ts). */
  forkServer?: ForkServer;
}

/**
 * The environment shared by every executor of a type (a fork server is started with it):
 * this program's `rain` package first on `PYTHONPATH`, unbuffered output, then `config.env`.
 */
export function executorBaseEnv(config: ExecutorConfig): Record<string, string> {
  const pythonPath = rainPythonPath();
  const inherited = Deno.env.get("PYTHONPATH");
  const env: Record<string, string> = {
    PYTHONUNBUFFERED: Deno.env.get("PYTHONUNBUFFERED") ?? "1",
  };
  const path = [pythonPath, inherited].filter((p) => p).join(":");
  if (path) env.PYTHONPATH = path;
  return Object.assign(env, config.env);
}

export class ExecutorProcess {
  readonly type: string;
  readonly id: string;
  readonly workDir: string;
  readonly pid: number;
  /** Carried by the executor and everything it starts (`tagged_processes.ts`). */
  readonly tag: string;
  /** Where a call's output goes (`Call.output`): beside the working directory, not in it. */
  readonly outputFiles: { stdout: string; stderr: string };
  /** Objects the executor keeps (answers' `keep`), by session: sent as `cached` later. */
  readonly cached = new Map<SessionId, Set<number>>();
  #child: ExecutorChild;
  #conn: Deno.UnixConn | undefined;
  #splitter: FrameSplitter | undefined;
  #stdout = new Tail();
  #stderr = new Tail();
  #pumps: Promise<unknown>;
  #status: ExecutorStatus | undefined;
  #exited: Promise<Deno.CommandStatus>;
  #dead = false;
  #killed = false;
  #deathReason: Promise<[string, string]> | undefined;
  #pending:
    | { task: Id; resolve: (a: CallAnswer) => void; reject: (e: Error) => void }
    | undefined;
  #writing: Promise<void> = Promise.resolve();
  /** A call was sent whose output files the pool has not read yet. */
  #callOutputUnread = false;
  #onDeath: (() => void) | undefined;

  private constructor(o: SpawnOptions, child: ExecutorChild, tag: string) {
    this.type = o.config.name;
    this.id = o.id;
    this.tag = tag;
    this.workDir = o.workDir;
    this.outputFiles = { stdout: `${o.workDir}.stdout`, stderr: `${o.workDir}.stderr` };
    this.#child = child;
    this.pid = child.pid;
    const logBase = o.logDir === undefined ? undefined : join(o.logDir, o.id);
    this.#pumps = Promise.all([
      pump(child.stdout, this.#stdout, logBase && `${logBase}.stdout`),
      pump(child.stderr, this.#stderr, logBase && `${logBase}.stderr`),
    ]);
    this.#exited = child.status.then((s) => {
      this.#status = s;
      // Whatever the executor started dies with it.
      this.#signalGroup("SIGKILL");
      this.#died();
      return s;
    });
    this.#exited.then(() => {
      // A call's output files go once the pool has read them (outputRead).
      if (!this.#callOutputUnread) void this.#removeOutputFiles();
      return removeTree(this.workDir);
    }).catch((e) => log.warn(`cannot remove ${this.workDir}: ${errorMessage(e)}`));
  }

  /**
   * Starts an executor and waits until it registers. Rejects with a message for the task
   * (command, exit status, stdout and stderr tails) if it cannot start, exits first, or does not
   * register within its start timeout.
   */
  static async spawn(o: SpawnOptions): Promise<ExecutorProcess> {
    const { config } = o;
    const commandText = config.command.join(" ");
    await Deno.mkdir(o.workDir, { recursive: true });
    // The id plus a random part: only the process started here can register as it.
    const token = `${o.id}-${crypto.randomUUID()}`;
    const tag = newProcessTag();
    const env: Record<string, string> = {
      [EXECUTOR_ENV.socket]: o.hub.socketPath,
      [EXECUTOR_ENV.id]: token,
      [EXECUTOR_ENV.type]: config.name,
      [EXECUTOR_ENV.workDir]: o.workDir,
      [EXECUTOR_ENV.governor]: o.governorId,
      // What the executor starts dies with it even outside its process group, and the orphan
      // reaper finds it if the governor dies.
      [PROCESS_TAG_ENV]: tag,
      ...executorBaseEnv(config),
    };
    let child: ExecutorChild;
    const registered = o.hub.expect(token);
    try {
      child = o.forkServer
        ? await o.forkServer.fork(o.workDir, env)
        : new Deno.Command(config.command[0]!, { // config.ts refuses an empty command
          args: config.command.slice(1),
          cwd: o.workDir,
          env,
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
          detached: true,
        }).spawn();
    } catch (e) {
      o.hub.cancel(token);
      await removeTree(o.workDir).catch(() => {});
      const why = e instanceof Deno.errors.NotFound
        ? `program '${config.command[0]}' not found`
        : errorMessage(e);
      throw new Error(`cannot start executor '${config.name}' (${commandText}): ${why}`);
    }
    const proc = new ExecutorProcess(o, child, tag);
    let onAbort: (() => void) | undefined;
    try {
      const settled = await withTimeout(
        Promise.race([
          registered.then((r) => ({ kind: "registered" as const, r })),
          proc.#exited.then(() => ({ kind: "exited" as const })),
          new Promise<{ kind: "aborted" }>((resolve) => {
            if (o.signal === undefined) return;
            if (o.signal.aborted) return resolve({ kind: "aborted" });
            onAbort = () => resolve({ kind: "aborted" });
            o.signal.addEventListener("abort", onAbort, { once: true });
          }),
        ]),
        config.startTimeout * 1000,
      );
      const outcome = settled === TIMED_OUT ? { kind: "timeout" as const } : settled;
      switch (outcome.kind) {
        case "registered":
          proc.#attach(outcome.r.conn, outcome.r.splitter);
          log.debug(`executor ${o.id} (pid ${proc.pid}) registered`);
          return proc;
        case "exited":
          throw new Error(
            `executor '${config.name}' (${commandText}) exited before registering ` +
              `(${describeStatus(proc.#status)})${await proc.#outputs()}`,
          );
        case "timeout":
          proc.kill();
          throw new Error(
            `executor '${config.name}' (${commandText}) did not register within ` +
              `${config.startTimeout} s${await proc.#outputs()}`,
          );
        default:
          proc.kill();
          throw o.signal!.reason;
      }
    } catch (e) {
      o.hub.cancel(token);
      proc.kill();
      if (e instanceof Error && e.message.startsWith("the executor speaks")) {
        throw new Error(`executor '${config.name}' (${commandText}): ${e.message}`);
      }
      throw e;
    } finally {
      if (onAbort) o.signal!.removeEventListener("abort", onAbort);
    }
  }

  get dead(): boolean {
    return this.#dead;
  }

  /** Called once when the process dies or is killed (the pool forgets it). */
  set onDeath(f: () => void) {
    this.#onDeath = f;
  }

  #attach(conn: Deno.UnixConn, splitter: FrameSplitter): void {
    this.#conn = conn;
    this.#splitter = splitter;
    this.#readLoop();
  }

  async #readLoop(): Promise<void> {
    const conn = this.#conn!;
    const splitter = this.#splitter!;
    try {
      for (;;) {
        let body: Uint8Array | undefined;
        while ((body = splitter.next()) !== undefined) this.#dispatch(body);
        if (this.#dead) return;
        const n = await conn.read(splitter.space());
        if (n === null) break;
        splitter.commit(n);
      }
    } catch (e) {
      if (!this.#dead) log.debug(`executor ${this.id}: connection failed: ${errorMessage(e)}`);
    }
    this.#died();
  }

  #dispatch(body: Uint8Array): void {
    let answer: CallAnswer;
    try {
      answer = decodeFrameBody<CallResult | CallFailed>(body);
    } catch (e) {
      return this.#protocolError(`bad frame: ${errorMessage(e)}`);
    }
    const m = answer.message;
    const pending = this.#pending;
    if (m.type !== "result" && m.type !== "failed") {
      return this.#protocolError(`unexpected message '${(m as { type: string }).type}'`);
    }
    if (
      pending === undefined || !Array.isArray(m.task) || m.task[0] !== pending.task[0] ||
      m.task[1] !== pending.task[1]
    ) {
      return this.#protocolError(`answer for task ${JSON.stringify(m.task)} that was not called`);
    }
    this.#pending = undefined;
    pending.resolve(answer);
  }

  #protocolError(what: string): void {
    const pending = this.#pending;
    this.#pending = undefined;
    log.warn(`executor ${this.id} broke the protocol: ${what}; killing it`);
    this.kill();
    pending?.reject(new Error(`executor '${this.type}' broke the executor protocol: ${what}`));
  }

  #died(): void {
    if (this.#dead) {
      return;
    }
    this.#dead = true;
    try {
      this.#conn?.close();
    } catch {
      // already closed
    }
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending !== undefined && !this.#killed) {
      this.#reason().then(([status, outputs]) =>
        pending.reject(
          Object.assign(
            new Error(
              `executor '${this.type}' (pid ${this.pid}) died while running the task ` +
                `(${status})${outputs}`,
            ),
            // Read by the task runner: a signal the governor may be going down with.
            this.#status?.signal ? { signal: this.#status.signal } : {},
          ),
        )
      );
    } else if (pending !== undefined) {
      pending.reject(new Error(`executor '${this.type}' was killed`));
    }
    this.#onDeath?.();
  }

  /** Exit status and output tails, once the process has exited (killed if it lingers). */
  #reason(): Promise<[string, string]> {
    this.#deathReason ??= (async (): Promise<[string, string]> => {
      if (this.#status === undefined) {
        if (!await settlesWithin(this.#exited, EXIT_GRACE_MS)) this.kill();
      }
      return [describeStatus(this.#status), await this.#outputs()];
    })();
    return this.#deathReason;
  }

  async #outputs(): Promise<string> {
    await settlesWithin(this.#pumps, EXIT_GRACE_MS);
    // What the executor printed outside calls, then what the call in progress printed.
    const callOut = readCapped(this.outputFiles.stdout);
    const callErr = readCapped(this.outputFiles.stderr);
    const out = lastLines([this.#stdout.text(), callOut].filter((t) => t).join("\n"));
    const err = lastLines([this.#stderr.text(), callErr].filter((t) => t).join("\n"));
    return `\nstdout (last lines):${out ? "\n" + out : " (empty)"}\nstderr (last lines):${
      err ? "\n" + err : " (empty)"
    }`;
  }

  /**
   * Sends a call and resolves with the answer. Rejects when the executor dies meanwhile (with
   * the reason) or when `signal` fires (the executor is killed).
   */
  call(call: Call, parts: Uint8Array[], signal: AbortSignal): Promise<CallAnswer> {
    if (this.#dead) {
      return this.#reason().then(([status, outputs]) => {
        throw new Error(`executor '${this.type}' (pid ${this.pid}) is dead (${status})${outputs}`);
      });
    }
    if (this.#pending !== undefined) {
      return Promise.reject(new Error(`executor ${this.id} is busy`));
    }
    if (signal.aborted) {
      this.kill();
      return Promise.reject(signal.reason);
    }
    const frame = encodeFrame(call, parts);
    this.#callOutputUnread = call.output !== undefined;
    return new Promise<CallAnswer>((resolve, reject) => {
      const onAbort = () => {
        this.#pending = undefined;
        this.kill();
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.#pending = {
        task: call.spec.id,
        resolve: (a) => {
          signal.removeEventListener("abort", onAbort);
          resolve(a);
        },
        reject: (e) => {
          signal.removeEventListener("abort", onAbort);
          reject(e);
        },
      };
      this.#write(frame);
    });
  }

  /** The pool has read the last call's output files: they may go once the executor is gone. */
  outputRead(): void {
    this.#callOutputUnread = false;
    if (this.#dead) void this.#removeOutputFiles();
  }

  #removeOutputFiles(): Promise<void> {
    return Promise.all([this.outputFiles.stdout, this.outputFiles.stderr].map(removeTree))
      .then(() => {}, (e) => log.warn(`cannot remove the output files of ${this}: ${e}`));
  }

  /** Tells the executor to forget objects it keeps for a session (no answer). */
  dropSession(session: SessionId): void {
    if (!this.cached.delete(session) || this.#dead) return;
    this.#write(encodeFrame({ type: "drop_session", session }));
  }

  #write(bytes: Uint8Array): void {
    const conn = this.#conn!;
    this.#writing = this.#writing.then(async () => {
      if (this.#dead) return;
      let written = 0;
      try {
        while (written < bytes.length) written += await conn.write(bytes.subarray(written));
      } catch (e) {
        // The read side sees the end of the connection and reports the death.
        log.debug(`executor ${this.id}: write failed: ${errorMessage(e)}`);
      }
    });
  }

  /**
   * Kills the executor's process group at once, then (in the background) whatever it started
   * that left the group.
   */
  kill(): void {
    if (!this.#killed) {
      this.#killed = true;
      log.debug(`killing executor ${this.id} (pid ${this.pid})`);
      killTagged(this.tag).catch(() => {});
    }
    this.#signalGroup("SIGKILL");
    this.#died();
  }

  /** Settles when the process has exited. */
  get exited(): Promise<unknown> {
    return this.#exited;
  }

  #signalGroup(signal: Deno.Signal): void {
    try {
      Deno.kill(-this.pid, signal);
    } catch {
      try {
        if (this.#status === undefined) this.#child.kill(signal);
      } catch {
        // already gone
      }
    }
  }

  toString(): string {
    return `executor ${this.id} (pid ${this.pid})`;
  }
}

/**
 * The governor's side of the Python fork server (client_py/rain/executor/fork_server.py): one
 * warm `python3 -m rain.executor` per executor type that forks a fresh executor for each session
 * instead of starting an interpreter (issue 15: isolation at the cost of a fork).
 *
 * Used for executor types whose command is `<python> -m rain.executor` (the default `py`), unless
 * their config says `fork_server = false` or the governor runs with `RAIN_NO_FORK_SERVER=1`. A forked executor looks like a started program to
 * `ExecutorProcess`: a pid leading its own process group, stdout and stderr streams (relayed by
 * the server), an exit status. When the server dies, its children's groups are killed and the
 * next fork starts a new server; if it cannot start, executors are started as programs.
 */
import { decodeFrameBody, encodeFrame, FrameSplitter } from "../../common/executor_protocol.ts";
import { Logger } from "../../common/log.ts";
import { settlesWithin } from "../../common/timeout.ts";
import { errorMessage } from "../fs_util.ts";
import { newProcessTag, PROCESS_TAG_ENV } from "../tagged_processes.ts";
import type { ExecutorConfig } from "./config.ts";

const log = new Logger("governor.forkserver");

/** How long a fork server that closed its stdout is given to exit before it is killed. */
const SERVER_EXIT_WAIT_MS = 1000;

/** Set to "1" in the environment of the fork server (not of its children). */
export const FORK_SERVER_ENV = "RAIN_EXECUTOR_FORK_SERVER";

/** How an executor ended; `cause` says it when the status alone would mislead. */
export type ExecutorStatus = Deno.CommandStatus & { readonly cause?: string };

/** What `ExecutorProcess` needs of a started executor (a `Deno.ChildProcess` has it all). */
export interface ExecutorChild {
  readonly pid: number;
  readonly stdout: ReadableStream<Uint8Array>;
  readonly stderr: ReadableStream<Uint8Array>;
  readonly status: Promise<ExecutorStatus>;
  kill(signal?: Deno.Signal): void;
}

/** "1" in the governor's environment: no fork servers at all (to compare, or to debug). */
export const NO_FORK_SERVER_ENV = "RAIN_NO_FORK_SERVER";

/** True for executor types a fork server can serve: `<python> -m rain.executor`. */
export function forkable(config: ExecutorConfig): boolean {
  const c = config.command;
  if (Deno.env.get(NO_FORK_SERVER_ENV) === "1") return false;
  return config.forkServer !== false && c.length === 3 && c[1] === "-m" &&
    c[2] === "rain.executor";
}

interface ServerMessage {
  type: "forked" | "fork_failed" | "output" | "exited";
  key: string;
  pid?: number;
  error?: string;
  stream?: 1 | 2;
  code?: number;
  signal?: Deno.Signal | null;
}

class ForkedChild implements ExecutorChild {
  pid = 0;
  readonly stdout: ReadableStream<Uint8Array>;
  readonly stderr: ReadableStream<Uint8Array>;
  readonly status: Promise<ExecutorStatus>;
  #streams: ReadableStreamDefaultController<Uint8Array>[] = [];
  #settle!: (status: ExecutorStatus) => void;
  #exited = false;

  constructor() {
    const stream = () =>
      new ReadableStream<Uint8Array>({ start: (c) => void this.#streams.push(c) });
    this.stdout = stream();
    this.stderr = stream();
    this.status = new Promise((resolve) => this.#settle = resolve);
  }

  output(stream: 1 | 2, data: Uint8Array): void {
    if (!this.#exited) this.#streams[stream - 1]?.enqueue(data);
  }

  exited(status: ExecutorStatus): void {
    if (this.#exited) return;
    this.#exited = true;
    for (const c of this.#streams) c.close();
    this.#settle(status);
  }

  kill(signal: Deno.Signal = "SIGTERM"): void {
    if (this.#exited || this.pid === 0) return;
    try {
      Deno.kill(this.pid, signal);
    } catch { /* gone */ }
  }
}

/** One fork server process and the children it forked. */
export class ForkServer {
  #process: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #children = new Map<string, ForkedChild>();
  #waiting = new Map<string, { resolve: (c: ForkedChild) => void; reject: (e: Error) => void }>();
  #counter = 0;
  #dead = false;
  readonly done: Promise<void>;

  private constructor(process: Deno.ChildProcess) {
    this.#process = process;
    this.#writer = process.stdin.getWriter();
    this.done = this.#readLoop();
  }

  /** Starts a fork server for `config` with `env` (the executors' shared environment). */
  static start(config: ExecutorConfig, env: Record<string, string>): ForkServer {
    const process = new Deno.Command(config.command[0]!, {
      args: config.command.slice(1),
      // Tagged: if the governor dies, the orphan reaper finds the server and its children
      // (a forked child's /proc environ is the server's).
      env: { ...env, [FORK_SERVER_ENV]: "1", [PROCESS_TAG_ENV]: newProcessTag() },
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    return new ForkServer(process);
  }

  get dead(): boolean {
    return this.#dead;
  }

  get pid(): number {
    return this.#process.pid;
  }

  /** Forks an executor in `cwd` with `env` added to the server's environment. */
  fork(cwd: string, env: Record<string, string>): Promise<ExecutorChild> {
    if (this.#dead) return Promise.reject(new Error("the fork server is gone"));
    const key = String(++this.#counter);
    const child = new ForkedChild();
    this.#children.set(key, child);
    const forked = new Promise<ForkedChild>((resolve, reject) =>
      this.#waiting.set(key, { resolve, reject })
    );
    this.#writer.write(encodeFrame({ type: "fork", key, cwd, env })).catch((e) =>
      this.#fail(key, `cannot ask the fork server: ${errorMessage(e)}`)
    );
    return forked;
  }

  #fail(key: string, why: string): void {
    this.#children.delete(key);
    const waiter = this.#waiting.get(key);
    this.#waiting.delete(key);
    waiter?.reject(new Error(why));
  }

  async #readLoop(): Promise<void> {
    const splitter = new FrameSplitter();
    try {
      for await (const chunk of this.#process.stdout) {
        splitter.push(chunk);
        let body: Uint8Array | undefined;
        while ((body = splitter.next()) !== undefined) this.#dispatch(body);
      }
    } catch (e) {
      log.warn(`fork server (pid ${this.pid}): ${errorMessage(e)}`);
    }
    this.#dead = true;
    // Its end of stdout closed: the server is exiting. Its status says why, and its children
    // report that signal: a SIGTERM to the governor's process group ends the server too, and
    // the task runner must see a group signal (and wait for the governor's own handler), not a
    // kill of the executor (that would fail the task at once).
    const status = await settlesWithin(this.#process.status, SERVER_EXIT_WAIT_MS)
      ? await this.#process.status
      : undefined;
    const signal = status?.signal ?? "SIGKILL";
    const cause = `its fork server (pid ${this.pid}) ` +
      (status?.signal ? `was killed by signal ${status.signal}` : "exited");
    // Its children cannot be watched any more: they go, and report as killed.
    for (const child of this.#children.values()) {
      try {
        if (child.pid > 0) Deno.kill(-child.pid, "SIGKILL");
      } catch { /* gone */ }
      child.exited({ success: false, code: 137, signal, cause });
    }
    this.#children.clear();
    for (const key of [...this.#waiting.keys()]) this.#fail(key, "the fork server exited");
    if (status === undefined) {
      log.warn(`fork server (pid ${this.pid}) closed its output but did not exit; killing it`);
      try {
        this.#process.kill("SIGKILL");
      } catch { /* gone */ }
    } else if (status.code !== 0 || status.signal) {
      log.warn(`fork server (pid ${this.pid}) exited (code ${status.code}, ${status.signal})`);
    }
  }

  #dispatch(body: Uint8Array): void {
    const { message: m, parts } = decodeFrameBody<ServerMessage>(body);
    const child = this.#children.get(m.key);
    if (child === undefined) return;
    switch (m.type) {
      case "forked": {
        child.pid = m.pid ?? 0;
        const waiter = this.#waiting.get(m.key);
        this.#waiting.delete(m.key);
        waiter?.resolve(child);
        break;
      }
      case "fork_failed":
        this.#fail(m.key, `the fork server cannot fork: ${m.error}`);
        break;
      case "output":
        if (parts[0] !== undefined) child.output(m.stream === 2 ? 2 : 1, parts[0]);
        break;
      case "exited":
        this.#children.delete(m.key);
        child.exited({
          success: m.code === 0 && !m.signal,
          code: m.code ?? 1,
          signal: m.signal ?? null,
        });
        break;
    }
  }

  /** Stops the server: it kills its children as it exits. */
  close(): Promise<void> {
    if (!this.#dead) this.#writer.close().catch(() => {});
    return this.done;
  }

  /** Kills the server and its children at once (the governor exits right after). */
  kill(): void {
    for (const child of this.#children.values()) {
      try {
        if (child.pid > 0) Deno.kill(-child.pid, "SIGKILL");
      } catch { /* gone */ }
    }
    try {
      this.#process.kill("SIGKILL");
    } catch { /* gone */ }
  }
}

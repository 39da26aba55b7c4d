/**
 * What a task printed (`task.logs()`): the governor captures a task's standard output and error
 * not mapped to an output (a program's; what an executor task prints), keeps the first and last
 * 32 KiB of each (a line says how much was dropped between), and the server records them in its
 * event log, so they can be read after the session closed too.
 */
import type { Api } from "./api.ts";
import type { Task } from "./task.ts";

/**
 * A task's output, of its latest attempt that printed anything.
 *
 * @example
 * ```ts
 * import { Client } from "@rain/client";
 * await using client = await Client.connect();
 * await using session = await client.newSession();
 * const task = session.execute(["sh", "-c", "echo out; echo err >&2"]);
 * await session.submit();
 * await task.wait();
 * const logs = await task.logs();
 * console.log(logs.stdout, logs.stderr); // "out\n" "err\n"
 * ```
 */
export interface TaskLogs {
  /** The task's standard output ("" when it printed nothing). */
  stdout: string;
  /** The task's standard error ("" when it printed nothing). */
  stderr: string;
  /** The attempt the output is of (null: no attempt printed anything). */
  attempt: number | null;
  /** The task's state in the event log: `waiting`, `running`, `finished` or `failed`. */
  state: string;
}

/** `GET /api/v1/sessions/<sid>/tasks/<id>/output`. */
export async function fetchTaskLogs(api: Api, session: number, task: number): Promise<TaskLogs> {
  const answer = await api.transport.call<Partial<TaskLogs>>(
    "GET",
    `/sessions/${session}/tasks/${task}/output`,
  );
  return {
    stdout: answer.stdout ?? "",
    stderr: answer.stderr ?? "",
    attempt: answer.attempt ?? null,
    state: answer.state ?? "finished",
  };
}

/**
 * Where `newSession({ echo })` prints: each line of a task's output, already prefixed by the task
 * (`(task 3/11 name) line`), and the stream it came from.
 *
 * @example
 * ```ts
 * import { Client, type EchoSink } from "@rain/client";
 * const lines: string[] = [];
 * const sink: EchoSink = (line, stream) => lines.push(`${stream}: ${line}`);
 * await using client = await Client.connect();
 * await using session = await client.newSession({ echo: sink });
 * ```
 */
export type EchoSink = (line: string, stream: "stdout" | "stderr") => void;

/** Milliseconds between two asks for new output while echoing. */
const ECHO_INTERVAL_MS = 500;

const consoleSink: EchoSink = (line, stream) =>
  stream === "stdout" ? console.log(line) : console.error(line);

/**
 * Prints each task's output as the server records it (`GET …/output?after=`), every
 * ECHO_INTERVAL_MS; `stop()` prints what is left (the session is closing).
 */
export class OutputEcho {
  readonly #api: Api;
  readonly #session: number;
  readonly #tasks: Map<number, Task>;
  readonly #sink: EchoSink;
  #after = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #polling: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(api: Api, session: number, tasks: Map<number, Task>, sink?: EchoSink) {
    this.#api = api;
    this.#session = session;
    this.#tasks = tasks;
    this.#sink = sink ?? consoleSink;
    this.#schedule();
  }

  #schedule(): void {
    if (this.#stopped) return;
    const timer = setTimeout(() => {
      this.#polling = this.#poll().catch(() => {}).then(() => this.#schedule());
    }, ECHO_INTERVAL_MS);
    // An echo never keeps the program alive by itself.
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  async #poll(): Promise<void> {
    for (;;) {
      const page = await this.#api.transport.call<{
        outputs: { task: number; stdout: string; stderr: string }[];
        next: number;
      }>("GET", `/sessions/${this.#session}/output?after=${this.#after}`);
      for (const o of page.outputs) {
        const name = this.#tasks.get(o.task)?.name;
        const label = `(task ${this.#session}/${o.task}${name ? ` ${name}` : ""})`;
        for (const [stream, text] of [["stdout", o.stdout], ["stderr", o.stderr]] as const) {
          if (!text) continue;
          const lines = (text.endsWith("\n") ? text.slice(0, -1) : text).split("\n");
          for (const line of lines) this.#sink(`${label} ${line}`, stream);
        }
      }
      if (page.outputs.length === 0 || page.next === this.#after) return;
      this.#after = page.next;
    }
  }

  /** Stops polling after printing what was recorded so far. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#polling;
    await this.#poll().catch(() => {});
  }
}

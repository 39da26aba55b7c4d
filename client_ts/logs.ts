/**
 * What a task printed (`task.logs()`): the governor captures a task's standard output and error
 * not mapped to an output (a program's; what an executor task prints), keeps the first and last
 * 32 KiB of each (a line says how much was dropped between), and the server records them in its
 * event log, so they can be read after the session closed too.
 */
import type { Api } from "./api.ts";

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

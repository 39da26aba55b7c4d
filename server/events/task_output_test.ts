import { deepStrictEqual as assertEquals, rejects } from "node:assert/strict";
import type { PendingEvent } from "./event.ts";
import { QueryError } from "./criteria.ts";
import { sessionOutputs, taskOutputView } from "./task_output.ts";
import { T, withLog } from "./test_events.ts";

const output = (time: number, task: number, attempt: number, stdout?: string): PendingEvent => ({
  type: "TaskOutput",
  time,
  session: 1,
  task,
  attempt,
  output: stdout === undefined ? { stderr: "warn\n" } : { stdout },
});

Deno.test("a task's output from the log, live and post-mortem alike", () =>
  withLog(async (q, push) => {
    const s = q.source;
    // Not pushed yet: a known task that printed nothing.
    assertEquals(await taskOutputView(s, 1, 12), {
      session: 1,
      task: 12,
      state: "finished",
      attempt: null,
      attempts: 0,
      stdout: "",
      stderr: "",
    });
    await push(output(T + 1100, 12, 1, "first try\n"));
    await push(output(T + 1101, 12, 2, "second try\n"));
    await push(output(T + 1102, 14, 1));
    assertEquals(await taskOutputView(s, 1, 12), {
      session: 1,
      task: 12,
      state: "finished",
      attempt: 2,
      attempts: 2,
      stdout: "second try\n",
      stderr: "",
    });
    assertEquals((await taskOutputView(s, 1, 14)).stderr, "warn\n");
    await rejects(
      () => taskOutputView(s, 1, 99),
      (e) => e instanceof QueryError && e.status === 404 && /task 1\/99 is not/.test(e.message),
    );
    await rejects(() => taskOutputView(s, 7, 12), (e) => e instanceof QueryError);
    // A session's rows, paged by cursor.
    const all = await sessionOutputs(s, 1, 0);
    assertEquals(all.outputs.map((o) => [o.task, o.attempt]), [[12, 1], [12, 2], [14, 1]]);
    const none = await sessionOutputs(s, 1, all.next);
    assertEquals(none, { outputs: [], next: all.next });
    assertEquals((await sessionOutputs(s, 2, 0)).outputs, []);
  }));

/**
 * An example executor written with executor/mod.ts. Register it in the governor's config:
 *
 * ```toml
 * [executors.example1]
 * command = "deno run -A /path/to/rain/executor/example.ts"
 * ```
 *
 * and call its tasks from Python as in docs/guide/executors-typescript.md:
 *
 * ```python
 * class Hello(Task):
 *     TASK_TYPE = "example1/hello"
 *
 *     def __init__(self, obj):
 *         super().__init__(inputs=(obj,), outputs=1)
 * ```
 *
 * Tasks:
 * - `hello`: one blob in, `Hello <input>!` out.
 * - `stats`: a JSON list of numbers in, `{"count", "sum", "mean"}` out (content type json); the
 *   count also goes to the task's `info.user`, a line to its debug text.
 * - `tee`: one blob in, two out: the input itself (no copy) and a copy written as a file.
 * - `fail`: fails with the text of its input.
 * - `shout`: prints its input on stdout and stderr (the task's output, `task.logs()`), no output.
 */
import { Executor, TaskError } from "./mod.ts";

new Executor()
  .task("hello", async (ctx) => {
    ctx.checkInputs(1);
    return `Hello ${await ctx.input(0).text()}!`;
  })
  .task("stats", async (ctx) => {
    ctx.checkInputs(1);
    const numbers = await ctx.input(0).json();
    if (!Array.isArray(numbers) || !numbers.every((n) => typeof n === "number")) {
      throw new TaskError("stats needs a JSON list of numbers");
    }
    const sum = numbers.reduce((a, b) => a + b, 0);
    ctx.userInfo.count = numbers.length;
    ctx.debug("summed", numbers.length, "numbers");
    return ctx.json({
      count: numbers.length,
      sum,
      mean: numbers.length ? sum / numbers.length : 0,
    });
  })
  .task("tee", async (ctx) => {
    ctx.checkInputs(1);
    await Deno.writeFile("copy", await ctx.input(0).bytes());
    return [ctx.passInput(0), ctx.stageFile("copy")];
  })
  .task("fail", async (ctx) => {
    throw new TaskError(await ctx.input(0).text());
  })
  .task("shout", async (ctx) => {
    const text = await ctx.input(0).text();
    console.log("said:", text);
    console.error("warned:", text);
  })
  // What the governor gave this run: its resources and attempt number (docs/resources.md).
  .task("given", (ctx) => ctx.json({ attempt: ctx.attempt, resources: ctx.resources }))
  .run();

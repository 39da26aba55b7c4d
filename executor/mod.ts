/**
 * Writing Rain executors in TypeScript (Deno).
 *
 * An executor is a program a governor starts to run tasks of the type `<executor>/<method>`.
 * Register it in the governor's TOML config and run tasks of it from any client:
 *
 * ```toml
 * [executors.example1]
 * command = "deno run -A /path/to/my_executor.ts"
 * ```
 *
 * ```ts
 * import { Executor } from "/path/to/rain/executor/mod.ts";
 *
 * new Executor()
 *   .task("hello", async (ctx) => {
 *     ctx.checkInputs(1);
 *     return `Hello ${await ctx.input(0).text()}!`;
 *   })
 *   .run();
 * ```
 *
 * A task function gets a `Context`: the task's spec and config, its inputs (`InputData`: bytes,
 * text, JSON, or a read-only path), `debug()` messages and `userInfo` (reported as the task's
 * `info.debug` / `info.user`), and ways to make outputs (`blob`, `json`, `stageFile`,
 * `stageDirectory`, `passInput`). It returns its outputs: one value for one output, an array
 * for several, nothing for none; a `Uint8Array` or `string` is a blob (a string has content
 * type `text` unless the output declares another). Throwing fails the task with the error's
 * message and stack.
 *
 * The wire protocol is in common/executor_protocol.ts and docs/executors.md.
 */
export { Context, InputData, Output, TaskError } from "./context.ts";
export type { OutputValue, TaskFunction, TaskResult } from "./context.ts";
export { Executor } from "./executor.ts";

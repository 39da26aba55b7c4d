/**
 * The built-in tasks (`buildin/<method>`), one function per method. Later task kinds
 * (`buildin/run`, executor-backed `<executor>/<method>`) register in the same way.
 */
import type { TaskFn } from "../task_context.ts";
import { concat } from "./concat.ts";
import { exportTask } from "./export.ts";
import { makeDirectory } from "./make_directory.ts";
import { open, openDir } from "./open.ts";
import { run } from "./run.ts";
import { sleep } from "./sleep.ts";
import { sliceDirectory } from "./slice_directory.ts";

export const BUILTINS: Map<string, TaskFn> = new Map<string, TaskFn>([
  ["concat", concat],
  ["sleep", sleep],
  ["open", open],
  ["open_dir", openDir],
  ["export", exportTask],
  ["make_directory", makeDirectory],
  ["slice_directory", sliceDirectory],
  ["run", run],
]);

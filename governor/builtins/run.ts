/**
 * `buildin/run` (Python `tasks.Execute` / `Program`): runs an external program in an empty working
 * directory of its own under the governor's temp directory.
 *
 * 1. The config is checked (`parseRunConfig`, the same check the server made at submit) and the
 *    inputs' content types against those the task declared for them.
 * 2. Inputs are placed (`run_inputs.ts`: hard links to the store, read-only; writable copies
 *    with `write`), one may be the standard input.
 * 3. The program runs (`run_program.ts`) with the governor's environment; abort kills it and
 *    everything it started.
 * 4. Outputs are moved into the store (`run_outputs.ts`; hard-linked when they lie in a
 *    read-only input directory), the standard output was streamed.
 * 5. The working directory is removed (or recycled when left empty: `work_dirs.ts`), whatever
 *    happened.
 */
import { parseRunConfig, STDIN_PATH, STDOUT_PATH } from "../../common/builtin_tasks.ts";
import { isContentSubtype } from "../../common/content_type.ts";
import { formatId } from "../../common/ids.ts";
import type { StoredObject } from "../object_store.ts";
import type { TaskContext } from "../task_context.ts";
import { inputAt } from "../task_args.ts";
import { placeInputs } from "./run_inputs.ts";
import { collectOutputs } from "./run_outputs.ts";
import { discard, runProgram } from "./run_program.ts";
import { allocationEnv } from "../../common/resources.ts";
import { acquireWorkDir, releaseWorkDir } from "./work_dirs.ts";

export async function run(ctx: TaskContext): Promise<StoredObject[]> {
  const { task, store, signal, inputs } = ctx;
  const config = parseRunConfig(
    ctx.config,
    task.inputs.map((i) => i.spec.data_type),
    task.outputs.map((o) => o.data_type),
  );
  const labels = task.inputs.map((i, k) => task.spec.inputs[k]?.label ?? i.spec.label);
  // parseRunConfig checked: one in_paths entry per input.
  config.in_paths.forEach((p, i) => {
    const input = inputAt(ctx, i);
    const actual = input.contentType ?? task.inputs[i]?.spec.content_type;
    if (p.content_type && actual && !isContentSubtype(actual, p.content_type)) {
      const name = labels[i] ? `'${labels[i]}'` : formatId(input.id);
      throw new Error(
        `input ${name} has content type '${actual}', but '${p.content_type}' is expected`,
      );
    }
  });
  const workDir = acquireWorkDir(store);
  try {
    const stdin = inputs.length
      ? await placeInputs(workDir, config.in_paths, inputs, labels)
      : undefined;
    signal.throwIfAborted();
    const { stdout } = await runProgram({
      args: config.args,
      cwd: workDir,
      store,
      signal,
      stdin,
      captureStdout: config.out_paths.includes(STDOUT_PATH),
      spawn: ctx.spawn,
      env: { ...allocationEnv(ctx.resources), RAIN_TASK_ATTEMPT: String(ctx.attempt ?? 1) },
      onPeakMemory: (bytes) => ctx.peakMemory = bytes,
      onOutput: (output) => ctx.output = output,
    });
    const readOnlyInputDirs = config.in_paths
      .filter((p, i) => !p.write && p.path !== STDIN_PATH && inputAt(ctx, i).dataType === "dir")
      .map((p) => p.path);
    try {
      return await collectOutputs(
        store,
        workDir,
        config.out_paths,
        task.outputs,
        stdout,
        readOnlyInputDirs,
      );
    } catch (e) {
      await discard(stdout);
      throw e;
    }
  } finally {
    const placed = new Set<string>();
    for (const { path } of config.in_paths) {
      if (path !== STDIN_PATH) placed.add(path.split("/", 1)[0]!); // split gives a first part
    }
    releaseWorkDir(store, workDir, [...placed]);
  }
}

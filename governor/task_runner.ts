/**
 * Runs one assigned task: reports `task_started`, obtains the inputs, calls the task function
 * (`buildin/<method>` from the built-in registry, `<executor>/<method>` from the executor
 * registry) and reports `task_finished` or `task_failed`. A failure never escapes: it becomes a
 * `task_failed` whose `info.error` names the task and what went wrong. A task aborted because
 * it was cancelled or its session was closed reports only what it printed (`task_output`); when
 * the governor stops, it reports nothing.
 *
 * The path of a trivial task (inputs held, task function synchronous) allocates no timers and
 * does at most one await.
 */
import type { TaskInfo } from "../common/attributes.ts";
import type { AssignedTask, TaskOutput, ToServer } from "../common/messages.ts";
import type { ResourceAllocation } from "../common/resources.ts";
import { formatId } from "../common/ids.ts";
import { BUILDIN } from "../common/builtin_tasks.ts";
import type { InputFetcher } from "./fetch_input.ts";
import { errorMessage } from "./fs_util.ts";
import { SessionClosedError, type StoredObject } from "./object_store.ts";
import type { ObjectStore } from "./object_store.ts";
import type { TaskContext, TaskFn } from "./task_context.ts";
import { TaskOutputFiles } from "./task_output.ts";

/** A task in the governor's queue. */
export interface QueuedTask {
  readonly session: number;
  readonly cpus: number;
  readonly task: AssignedTask;
  /** What the task is given (`task.resources`, or its cpus only). */
  readonly allocation?: ResourceAllocation;
}

export interface TaskRunnerOptions {
  store: ObjectStore;
  fetcher: InputFetcher;
  send: (message: ToServer) => void;
  governorId: () => string;
  /** `buildin/<method>` implementations. */
  builtins: Map<string, TaskFn>;
  /** `<executor>/<method>` implementations by executor name (none yet). */
  executors?: Map<string, TaskFn>;
  /** The governor is going down at once (SIGTERM): it reports nothing more of its tasks. */
  exiting?: () => boolean;
  /** Where tasks' output is kept (`<dir>/<session>/<task>.stdout|.stderr`); none: not kept. */
  outputDir?: string;
}

/** Signals that a governor's whole process group gets when it is stopped from outside. */
const GROUP_STOP_SIGNALS = new Set(["SIGTERM", "SIGINT", "SIGHUP"]);
/**
 * How long a task killed by such a signal (not sent by the governor) waits before its failure is
 * reported: the governor got the same signal, maybe handled a moment later, and a governor going
 * down reports nothing (the server re-runs its tasks elsewhere).
 */
export const GROUP_SIGNAL_GRACE_MS = 1000;

export class TaskRunner {
  #o: TaskRunnerOptions;
  #executors: Map<string, TaskFn>;
  #resolved = new Map<string, TaskFn>();
  #active = 0;
  #idleWaiters: (() => void)[] = [];
  /** Tasks' output files in the log directory (none: not kept). */
  readonly outputFiles: TaskOutputFiles | undefined;

  constructor(options: TaskRunnerOptions) {
    this.#o = options;
    this.#executors = options.executors ?? new Map();
    if (options.outputDir !== undefined) this.outputFiles = new TaskOutputFiles(options.outputDir);
  }

  /** The session was closed: its tasks' output files go once its aborted tasks are over. */
  closeSession(session: number): void {
    this.outputFiles?.closeSession(session);
  }

  /** Settles when every task started so far is over. */
  idle(): Promise<void> {
    if (this.#active === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** The task function for a task type, or throws a message for the task failure. */
  resolve(taskType: string): TaskFn {
    let fn = this.#resolved.get(taskType);
    if (fn === undefined) {
      fn = this.#lookup(taskType);
      this.#resolved.set(taskType, fn);
    }
    return fn;
  }

  #lookup(taskType: string): TaskFn {
    const slash = taskType.indexOf("/");
    const executor = slash < 0 ? taskType : taskType.slice(0, slash);
    const method = slash < 0 ? "" : taskType.slice(slash + 1);
    if (executor === BUILDIN) {
      const fn = this.#o.builtins.get(method);
      if (fn === undefined) throw new Error(`unknown built-in task type '${taskType}'`);
      return fn;
    }
    const fn = this.#executors.get(executor);
    if (fn === undefined) {
      throw new Error(
        `executor '${executor}' is not available on governor ${this.#o.governorId()}`,
      );
    }
    return fn;
  }

  /** Queue runner: never rejects. */
  run = (queued: QueuedTask, signal: AbortSignal, slots: number[] = []): Promise<void> => {
    this.#active++;
    this.outputFiles?.started(queued.task.spec.id[0]);
    return this.#run(queued.task, signal, queued.allocation ?? { cpus: queued.cpus }, slots);
  };

  #settled(session: number): void {
    this.outputFiles?.ended(session);
    if (--this.#active === 0 && this.#idleWaiters.length) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** `{output}` for the report when the task printed something (kept on disk too). */
  #output(ctx: TaskContext | undefined): { output?: TaskOutput } {
    const output = ctx?.output;
    if (output === undefined) return {};
    this.outputFiles?.save(ctx!.task.spec.id, output);
    return { output };
  }

  /**
   * A task stopped by the server (cancelled, session closed) is not reported, but what it printed
   * until then is: that is when it matters most. Nothing when the governor is going down.
   */
  #stopped(ctx: TaskContext | undefined): void {
    if (ctx?.output === undefined || this.#o.exiting?.()) return;
    const { output } = this.#output(ctx);
    this.#o.send({
      type: "task_output",
      task: ctx.task.spec.id,
      ...(ctx.attempt === undefined || ctx.attempt === 1 ? {} : { attempt: ctx.attempt }),
      output: output!,
    });
  }

  async #run(
    task: AssignedTask,
    signal: AbortSignal,
    resources: ResourceAllocation,
    slots: number[],
  ): Promise<void> {
    const { spec } = task;
    // A time limit aborts the attempt like a cancel, but the governor reports it as a failure.
    const limit = spec.policy?.time_limit;
    let timedOut = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const outer = signal;
    if (limit !== undefined) {
      const limiter = new AbortController();
      timer = setTimeout(() => {
        timedOut = true;
        limiter.abort(new Error(`time limit of ${limit} s exceeded`));
      }, limit * 1000);
      signal = AbortSignal.any([outer, limiter.signal]);
    }
    const t0 = performance.now();
    const startTime = new Date().toISOString();
    const { send } = this.#o;
    send({ type: "task_started", task: spec.id, start_time: startTime, slots });
    const info = (): TaskInfo => ({
      governor: this.#o.governorId(),
      start_time: startTime,
      duration: (performance.now() - t0) / 1000,
    });
    let ctx: TaskContext | undefined;
    try {
      const fn = this.resolve(spec.task_type);
      const inputs = new Array<StoredObject>(task.inputs.length);
      let waits: Promise<void>[] | undefined;
      for (const [i, input] of task.inputs.entries()) {
        const r = this.#o.fetcher.obtain(input);
        if (r instanceof Promise) (waits ??= []).push(r.then((o) => void (inputs[i] = o)));
        else inputs[i] = r;
      }
      if (waits !== undefined) await Promise.all(waits);
      if (outer.aborted) return;
      if (timedOut) throw signal.reason;
      ctx = {
        task,
        config: spec.config,
        inputs,
        store: this.#o.store,
        signal,
        governorId: this.#o.governorId(),
        resources,
        attempt: task.attempt ?? 1,
      };
      let outputs = fn(ctx);
      if (outputs instanceof Promise) outputs = await outputs;
      if (outer.aborted) return this.#stopped(ctx);
      if (timedOut) throw signal.reason;
      if (outputs.length !== spec.outputs.length) {
        throw new Error(`produced ${outputs.length} outputs, ${spec.outputs.length} expected`);
      }
      const reported = new Array(outputs.length);
      for (const [i, o] of outputs.entries()) {
        const declared = task.outputs[i]?.data_type;
        if (declared !== undefined && o.dataType !== declared) {
          throw new Error(
            `output ${formatId(o.id)} is a ${o.dataType}, but was declared a ${declared}`,
          );
        }
        const extra = ctx.outputInfos?.[i];
        const objectInfo = o.contentType === undefined ? {} : { content_type: o.contentType };
        reported[i] = {
          id: o.id,
          size: o.size,
          info: extra ? { ...objectInfo, ...extra } : objectInfo,
        };
      }
      const i = info();
      if (ctx.info !== undefined) Object.assign(i, ctx.info);
      if (ctx.peakMemory !== undefined) i.peak_memory = ctx.peakMemory;
      const output = this.#output(ctx);
      send({ type: "task_finished", task: spec.id, info: i, outputs: reported, ...output });
    } catch (e) {
      if (outer.aborted || e instanceof SessionClosedError) return this.#stopped(ctx);
      const killedBy = (e as { signal?: unknown } | undefined)?.signal;
      if (typeof killedBy === "string" && GROUP_STOP_SIGNALS.has(killedBy)) {
        await new Promise((resolve) => setTimeout(resolve, GROUP_SIGNAL_GRACE_MS));
        if (outer.aborted) return this.#stopped(ctx);
      }
      if (this.#o.exiting?.()) return;
      const i = info();
      if (ctx?.info !== undefined) Object.assign(i, ctx.info);
      if (ctx?.peakMemory !== undefined) i.peak_memory = ctx.peakMemory;
      // The server names the task and governor when it reports the failure; info.error is the
      // cause itself.
      i.error = errorMessage(e);
      if (timedOut) {
        i.error = `the task ran longer than its time limit of ${limit} s and was killed`;
        i.time_limit_exceeded = true;
      }
      const exitCode = (e as { exitCode?: unknown } | undefined)?.exitCode;
      if (typeof exitCode === "number") i.exit_code = exitCode;
      const types = (e as { exceptionTypes?: unknown } | undefined)?.exceptionTypes;
      if (Array.isArray(types)) i.exception_types = types.map(String);
      send({ type: "task_failed", task: spec.id, info: i, ...this.#output(ctx) });
    } finally {
      clearTimeout(timer);
      this.#settled(task.spec.id[0]);
    }
  }
}

/**
 * Executor-backed tasks (`<executor>/<method>`): one pool of executor processes per executor type.
 *
 * - Executors are started on demand and reused within one session (an executor serves one
 *   session only and is killed when it closes, with what its tasks started; issue 15): an idle
 *   one takes the next task of its type and session, so
 *   at most one per running task exists (the task queue never runs more cpus than the governor
 *   has). Each runs one task at a time.
 * - A task's call carries its spec, inputs and output specs (docs/executors.md): in-memory
 *   inputs inline, file and directory inputs as read-only paths, objects the executor kept
 *   (`keep`) as `cached`. Outputs come back inline, as files/directories staged in the
 *   executor's working directory (moved into the store), or as "same as input N".
 * - A task whose session is closed (its AbortSignal fires) kills its executor's process group.
 *   An executor that dies is forgotten; the next task of its type starts a new one.
 * - Executors empty their working directory at the start of each call (docs/executors.md); the
 *   governor creates it and removes it when the executor is gone.
 */
import { isAbsolute, join, normalize, relative } from "node:path";
import type { DataType, ObjectInfo } from "../../common/attributes.ts";
import {
  type Call,
  type CallFailed,
  type CallInput,
  type CallOutput,
  type CallResult,
} from "../../common/executor_protocol.ts";
import { isContentSubtype } from "../../common/content_type.ts";
import type { Id, SessionId } from "../../common/ids.ts";
import { formatId } from "../../common/ids.ts";
import { Logger } from "../../common/log.ts";
import { settlesWithin } from "../../common/timeout.ts";
import { errorMessage, readOnlyMode, removeTree } from "../fs_util.ts";
import { MEMORY_LIMIT, type StoredObject } from "../object_store.ts";
import type { TaskContext, TaskFn } from "../task_context.ts";
import { outputAt } from "../task_args.ts";
import type { ExecutorConfig } from "./config.ts";
import { executorBaseEnv, ExecutorProcess } from "./executor_process.ts";
import { forkable, ForkServer } from "./fork_server.ts";
import { ExecutorHub } from "./hub.ts";
import { PeakMemorySampler } from "../peak_memory.ts";
import { taskOutput } from "../task_output.ts";
import { CallOutputFiles } from "./call_output.ts";

const log = new Logger("governor.executors");

export interface ExecutorsOptions {
  /** The governor's work directory: executors work in `<workDir>/executors/<id>/`. */
  workDir: string;
  /** Executor stdout/stderr files go to `<logDir>/executors/`. */
  logDir?: string;
  governorId: () => string;
}

/** Every executor type of a governor. */
export class Executors {
  /** Task functions by executor name, for the task runner. */
  readonly functions = new Map<string, TaskFn>();
  readonly pools = new Map<string, ExecutorPool>();
  #o: ExecutorsOptions;
  #hub: Promise<ExecutorHub> | undefined;
  #baseDir: string;
  #logDir: string | undefined;
  #counter = 0;
  #closed = false;
  /** Warm fork servers by executor type (fork_server.ts). */
  #forkServers = new Map<string, ForkServer>();

  constructor(options: ExecutorsOptions) {
    this.#o = options;
    this.#baseDir = join(options.workDir, "executors");
    this.#logDir = options.logDir === undefined ? undefined : join(options.logDir, "executors");
  }

  /** Registers the executor types (replacing earlier ones). */
  configure(configs: Map<string, ExecutorConfig>): void {
    this.functions.clear();
    this.pools.clear();
    for (const server of this.#forkServers.values()) void server.close();
    this.#forkServers.clear();
    for (const config of configs.values()) {
      const pool = new ExecutorPool(config, this);
      this.pools.set(config.name, pool);
      this.functions.set(config.name, pool.run);
    }
  }

  /**
   * Starts the fork servers now (the governor is up), so that even the first session's
   * executors are forked from a warm process.
   */
  warmUp(): void {
    for (const pool of this.pools.values()) this.#forkServer(pool.config);
  }

  /** The live fork server of a type (started if needed), or undefined if it cannot fork. */
  #forkServer(config: ExecutorConfig): ForkServer | undefined {
    if (this.#closed || !forkable(config)) return undefined;
    const running = this.#forkServers.get(config.name);
    if (running !== undefined && !running.dead) return running;
    try {
      const server = ForkServer.start(config, executorBaseEnv(config));
      this.#forkServers.set(config.name, server);
      return server;
    } catch (e) {
      log.debug(`no fork server for '${config.name}': ${errorMessage(e)}`);
      return undefined;
    }
  }

  /** Names of the executor types, for `register`. */
  get names(): string[] {
    return [...this.pools.keys()];
  }

  /** Starts a process of a type (the hub is opened on first use). */
  async spawn(config: ExecutorConfig, signal: AbortSignal): Promise<ExecutorProcess> {
    if (this.#closed) throw new Error("the governor is stopping");
    this.#hub ??= this.#openHub().catch((e) => {
      this.#hub = undefined; // try again with the next executor
      throw new Error(`cannot open the executor socket: ${errorMessage(e)}`);
    });
    const hub = await this.#hub;
    const id = `${config.name}-${++this.#counter}`;
    const options = {
      config,
      hub,
      id,
      workDir: join(this.#baseDir, id),
      logDir: this.#logDir,
      governorId: this.#o.governorId(),
      signal,
    };
    const forkServer = this.#forkServer(config);
    if (forkServer !== undefined) {
      try {
        return await ExecutorProcess.spawn({ ...options, forkServer });
      } catch (e) {
        // A server that died (or could not start) is replaced; the task starts a program.
        if (!forkServer.dead) throw e;
        log.warn(`fork server of '${config.name}' is gone: ${errorMessage(e)}`);
      }
    }
    return await ExecutorProcess.spawn(options);
  }

  async #openHub(): Promise<ExecutorHub> {
    // Leftovers of an earlier governor on this (locked) work dir go.
    await removeTree(this.#baseDir);
    await Deno.mkdir(this.#baseDir, { recursive: true });
    if (this.#logDir !== undefined) {
      await Deno.mkdir(this.#logDir, { recursive: true }).catch(() => this.#logDir = undefined);
    }
    return ExecutorHub.open(this.#baseDir);
  }

  /** A session ended: executors forget the objects they kept for it. */
  closeSession(session: SessionId): void {
    for (const pool of this.pools.values()) pool.closeSession(session);
  }

  /** Where the executors' directories are (`<workDir>/executors`). */
  get baseDir(): string {
    return this.#baseDir;
  }

  /** Kills every executor process group at once (the governor exits right after). */
  killAll(): void {
    this.#closed = true;
    for (const pool of this.pools.values()) pool.killAll();
    for (const server of this.#forkServers.values()) server.kill();
  }

  /** Kills every executor and removes their directories and the socket. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.pools.values()].map((p) => p.close()));
    await settlesWithin(Promise.all([...this.#forkServers.values()].map((s) => s.close())), 2000);
    (await this.#hub?.catch(() => undefined))?.close();
    await removeTree(this.#baseDir).catch((e) =>
      log.warn(`cannot remove ${this.#baseDir}: ${errorMessage(e)}`)
    );
  }
}

/** Executor processes of one type. */
export class ExecutorPool {
  readonly config: ExecutorConfig;
  #owner: Executors;
  #idle: ExecutorProcess[] = [];
  #all = new Set<ExecutorProcess>();
  /**
   * The one session each executor serves: what a task changes in its process (modules,
   * environment, rlimits) is never seen by another session's (or client's) tasks.
   */
  #sessionOf = new Map<ExecutorProcess, SessionId>();

  constructor(config: ExecutorConfig, owner: Executors) {
    this.config = config;
    this.#owner = owner;
  }

  /** Live executor processes (idle and busy). */
  get processes(): ExecutorProcess[] {
    return [...this.#all];
  }

  get idleCount(): number {
    return this.#idle.length;
  }

  /** The task function of this executor type. */
  run = async (ctx: TaskContext): Promise<StoredObject[]> => {
    const taskType = ctx.task.spec.task_type;
    const method = taskType.slice(taskType.indexOf("/") + 1);
    const session = ctx.task.spec.id[0];
    let proc = this.#takeIdle(session);
    if (proc === undefined) {
      // Room for the new one: an idle executor of another session goes (bounded as before).
      const other = this.#idle.find((p) => this.#sessionOf.get(p) !== session);
      other?.kill();
      proc = await this.#owner.spawn(this.config, ctx.signal);
      this.#all.add(proc);
      this.#sessionOf.set(proc, session);
      const p = proc;
      p.onDeath = () => {
        this.#all.delete(p);
        this.#sessionOf.delete(p);
        const i = this.#idle.indexOf(p);
        if (i >= 0) this.#idle.splice(i, 1);
      };
    }
    let reusable = false;
    try {
      const parts: Uint8Array[] = [];
      const call: Call = {
        type: "call",
        method,
        spec: ctx.task.spec,
        inputs: callInputs(ctx, proc, parts),
        outputs: ctx.task.outputs,
        resources: ctx.resources,
        ...(ctx.attempt === undefined || ctx.attempt === 1 ? {} : { attempt: ctx.attempt }),
        output: proc.outputFiles,
      };
      // Peak memory of the executor (and its children) during the call.
      const sampler = new PeakMemorySampler(proc.pid);
      const printed = new CallOutputFiles(proc.outputFiles);
      const { message, parts: answerParts } = await proc.call(call, parts, ctx.signal)
        .finally(async () => {
          const peak = await sampler.stop();
          if (peak !== undefined) ctx.peakMemory = peak;
          printed.stop();
          const files = proc.outputFiles;
          const stdout = printed.stdout.text();
          const stderr = printed.stderr.text();
          ctx.output = taskOutput(stdout, stderr);
          // What was read is emptied now (synchronously: before the next call), so that no later
          // task is ever shown it. Executors append (they may keep the files open).
          if (stdout !== "") truncateQuietly(files.stdout);
          if (stderr !== "") truncateQuietly(files.stderr);
          proc.outputRead();
        });
      reusable = true;
      remember(ctx, proc, message);
      if (message.info !== undefined) ctx.info = cleanTaskInfo(message.info);
      if (message.type === "failed") {
        throw Object.assign(
          new Error(typeof message.error === "string" && message.error ? message.error : "failed"),
          // Read by the task runner for `info.exception_types` (`policy.retry_on`).
          Array.isArray(message.exception_types) ? { exceptionTypes: message.exception_types } : {},
        );
      }
      return await storeOutputs(ctx, proc, message, answerParts);
    } finally {
      // The executor empties its working directory when the next call arrives (the staged
      // outputs of this one have been moved out by then).
      if (!proc.dead) {
        if (reusable) this.#idle.push(proc);
        else proc.kill();
      }
    }
  };

  /** The most recently idle live executor of `session` (dead ones are dropped). */
  #takeIdle(session: SessionId): ExecutorProcess | undefined {
    this.#idle = this.#idle.filter((p) => !p.dead);
    for (let i = this.#idle.length - 1; i >= 0; i--) {
      const proc = this.#idle[i]!;
      if (this.#sessionOf.get(proc) === session) {
        this.#idle.splice(i, 1);
        return proc;
      }
    }
    return undefined;
  }

  closeSession(session: SessionId): void {
    for (const proc of [...this.#all]) {
      // Its executors go with it, and with them every process its tasks started.
      if (this.#sessionOf.get(proc) === session) proc.kill();
      else proc.dropSession(session);
    }
  }

  killAll(): void {
    for (const proc of [...this.#all]) proc.kill();
    this.#idle = [];
  }

  async close(): Promise<void> {
    const all = [...this.#all];
    for (const proc of all) proc.kill();
    this.#idle = [];
    await settlesWithin(Promise.all(all.map((p) => p.exited)), 2000);
  }
}

function callInputs(ctx: TaskContext, proc: ExecutorProcess, parts: Uint8Array[]): CallInput[] {
  const session = ctx.task.spec.id[0];
  const cached = proc.cached.get(session);
  const out = new Array<CallInput>(ctx.inputs.length);
  for (const [i, stored] of ctx.inputs.entries()) {
    const assigned = ctx.task.inputs[i]!; // ctx.inputs holds one stored object per task input
    const input: CallInput = { spec: assigned.spec, size: stored.size };
    let info = assigned.info;
    const contentType = stored.contentType;
    if (contentType !== undefined && contentType !== assigned.spec.content_type && !info) {
      info = { content_type: contentType };
    }
    if (info !== undefined) input.info = info;
    if (cached?.has(stored.id[1])) {
      input.cached = true;
    } else if (stored.data !== undefined) {
      input.part = parts.length;
      parts.push(stored.data);
    } else {
      input.path = stored.path;
    }
    out[i] = input;
  }
  return out;
}

/** Records the inputs the executor keeps from now on. */
function remember(ctx: TaskContext, proc: ExecutorProcess, answer: CallResult | CallFailed) {
  const keep = answer.keep;
  if (!Array.isArray(keep) || keep.length === 0) return;
  const session = ctx.task.spec.id[0];
  let set = proc.cached.get(session);
  if (set === undefined) proc.cached.set(session, set = new Set());
  for (const i of keep) {
    const input = ctx.inputs[i];
    if (input !== undefined) set.add(input.id[1]);
  }
}

function cleanTaskInfo(info: unknown): TaskContext["info"] {
  const out: TaskContext["info"] = {};
  if (typeof info !== "object" || info === null) return out;
  const { debug, user } = info as Record<string, unknown>;
  if (typeof debug === "string" && debug) out.debug = debug;
  if (isRecord(user) && Object.keys(user).length) out.user = user as ObjectInfo["user"];
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Stores the outputs of a `result` answer; throws a message for the task if it is wrong. */
async function storeOutputs(
  ctx: TaskContext,
  proc: ExecutorProcess,
  answer: CallResult,
  parts: Uint8Array[],
): Promise<StoredObject[]> {
  const specs = ctx.task.outputs;
  const outputs = Array.isArray(answer.outputs) ? answer.outputs : [];
  if (outputs.length !== specs.length) {
    throw new Error(`the executor returned ${outputs.length} outputs, ${specs.length} expected`);
  }
  const results = new Array<StoredObject | Promise<StoredObject>>(outputs.length);
  let infos: TaskContext["outputInfos"];
  let async = false;
  for (let i = 0; i < outputs.length; i++) {
    const o: CallOutput = outputs[i] ?? {};
    const spec = specs[i]!; // as many as outputs: checked above
    const id = outputAt(ctx, i);
    const what = `output ${i} (${formatId(id)}${spec.label ? ` '${spec.label}'` : ""})`;
    const contentType = o.content_type === undefined || o.content_type === null
      ? undefined
      : String(o.content_type);
    if (contentType !== undefined && !isContentSubtype(contentType, spec.content_type)) {
      throw new Error(
        `${what} has content type '${contentType}', but '${spec.content_type}' was declared`,
      );
    }
    if (o.info !== undefined) {
      const info = cleanTaskInfo(o.info);
      if (info && (info.debug || info.user)) (infos ??= [])[i] = info;
    }
    if (o.part !== undefined && o.part !== null) {
      const data = parts[o.part];
      if (data === undefined) throw new Error(`${what}: no binary part ${o.part}`);
      if (spec.data_type !== "blob") throw new Error(`${what}: a directory cannot be bytes`);
      // A copy: the part is a view into the whole answer frame.
      if (data.length <= MEMORY_LIMIT) {
        results[i] = ctx.store.putMemory(id, data.slice(), contentType);
      } else {
        results[i] = ctx.store.putBlob(id, data, contentType);
        async = true;
      }
    } else if (typeof o.path === "string") {
      results[i] = adoptStaged(ctx, proc, o.path, spec.data_type, id, what, contentType);
      async = true;
    } else if (o.input !== undefined && o.input !== null) {
      const src = ctx.inputs[o.input];
      if (src === undefined) throw new Error(`${what}: there is no input ${o.input}`);
      if (src.dataType !== spec.data_type) {
        throw new Error(
          `${what} is a ${spec.data_type}, but input ${o.input} is a ${src.dataType}`,
        );
      }
      const ct = contentType ?? src.contentType ?? ctx.task.inputs[o.input]?.spec.content_type;
      if (ct !== undefined && !isContentSubtype(ct, spec.content_type)) {
        throw new Error(
          `${what} has content type '${ct}' (of input ${o.input}), ` +
            `but '${spec.content_type}' was declared`,
        );
      }
      results[i] = ctx.store.clone(src, id, ct);
      async = true;
    } else {
      throw new Error(`${what}: the executor gave no data (part, path or input)`);
    }
  }
  if (infos !== undefined) ctx.outputInfos = infos;
  return async ? await Promise.all(results) : results as StoredObject[];
}

async function adoptStaged(
  ctx: TaskContext,
  proc: ExecutorProcess,
  path: string,
  declared: DataType,
  id: Id,
  what: string,
  contentType: string | undefined,
): Promise<StoredObject> {
  const full = normalize(isAbsolute(path) ? path : join(proc.workDir, path));
  const rel = relative(proc.workDir, full);
  if (rel === "" || rel.startsWith("..") || isAbsolute(rel)) {
    throw new Error(`${what}: staged path '${path}' is not inside the task's working directory`);
  }
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(full);
  } catch {
    throw new Error(`${what}: staged path '${path}' does not exist`);
  }
  const type: DataType | undefined = info.isFile ? "blob" : info.isDirectory ? "dir" : undefined;
  if (type === undefined) {
    throw new Error(`${what}: staged path '${path}' is neither a file nor a directory`);
  }
  if (type !== declared) {
    throw new Error(`${what} is a ${declared}, but staged path '${path}' is a ${type}`);
  }
  if (type === "blob") {
    await Deno.chmod(full, readOnlyMode(info.mode));
    return await ctx.store.adopt(id, "blob", full, info.size, contentType);
  }
  await makeTreeReadOnly(full);
  return await ctx.store.adopt(id, "dir", full, undefined, contentType);
}

/** Files read-only (keeping executable bits), directories below `root` 0555. */
async function makeTreeReadOnly(root: string): Promise<void> {
  for await (const entry of Deno.readDir(root)) {
    const p = join(root, entry.name);
    if (entry.isDirectory) {
      await makeTreeReadOnly(p);
      await Deno.chmod(p, 0o555);
    } else if (entry.isFile) {
      await Deno.chmod(p, readOnlyMode((await Deno.lstat(p)).mode));
    }
  }
}

function truncateQuietly(path: string): void {
  try {
    Deno.truncateSync(path, 0);
  } catch {
    // gone already
  }
}

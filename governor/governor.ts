/**
 * One governor: its object store, data listener, link to the server, task queue and runner,
 * and the handling of every server message (docs/protocol.md "Governor ⇄ server").
 *
 * Life cycle: `start()` locks and prepares the work directory, listens for data, connects,
 * registers and writes the ready file; `finished` settles when the governor has stopped —
 * resolved after a `shutdown` message or `stop()`, rejected when the link to the server was
 * lost. Stopping aborts all tasks, closes everything and removes the governor's data from the
 * work directory. `killChildren()` is for a governor about to exit at once (SIGTERM, as in Rain
 * 0.4): its programs and executors die, its work directory stays as it is.
 *
 * The work directory is locked (an exclusive `flock` of `governor.pid`, held as long as the
 * process lives, whatever way it ends): a second governor on it is refused; the next one to get
 * the lock removes what an earlier governor left there.
 */
import { listenerCounts } from "../common/conn_guard.ts";
import { parse as parseToml } from "smol-toml";
import { join } from "node:path";
import { hostname } from "node:os";
import type {
  DataTransfer,
  ReattachReport,
  RegisteredMessage,
  TaskFailedMessage,
  TaskFinishedMessage,
  ToGovernor,
  ToServer,
} from "../common/messages.ts";
import type { AssignedTask } from "../common/messages.ts";
import { formatId, type Id } from "../common/ids.ts";
import { Logger } from "../common/log.ts";
import { PROTOCOL_VERSION } from "../common/version.ts";
import { settlesWithin } from "../common/timeout.ts";
import { BUILTINS } from "./builtins/mod.ts";
import { authHeaders } from "../common/secret.ts";
import { GovernorPermissions } from "./permissions.ts";
import { executorConfigs } from "./executors/config.ts";
import { Executors } from "./executors/pool.ts";
import { type DataServer, interfaceTowards, startDataServer } from "./data_server.ts";
import { InputFetcher } from "./fetch_input.ts";
import { errorMessage, removeTree } from "./fs_util.ts";
import { DEFAULT_MONITORING_INTERVAL, Monitor } from "./monitoring.ts";
import { ObjectStore } from "./object_store.ts";
import { OrphanReaper } from "./orphan_reaper.ts";
import { reclaimDeadWorkDirs } from "./reclaim.ts";
import { killMatching, TAG_PREFIX } from "./tagged_processes.ts";
import type { GovernorOptions } from "./options.ts";
import { type ConnectToServer, type ServerConnection, webSocketConnector } from "./server_link.ts";
import { TaskQueue } from "./task_queue.ts";
import type { GovernorResources } from "../common/resources.ts";
import { resolveResources, settingsFromConfig } from "./resources.ts";
import { type QueuedTask, TaskRunner } from "./task_runner.ts";
import { count } from "../common/plural.ts";

const log = new Logger("governor");

/** Seconds a governor that lost the server tries to reach it again before exiting (default). */
export const DEFAULT_RECONNECT_TIMEOUT = 60;
/** Pause between two attempts to reach the server again. */
const RECONNECT_PAUSE_MS = 250;
/** How long stopping waits for tasks and the data listener to wind down. */
const STOP_GRACE_MS = 2000;
/** Finished transfers are reported in one message this long after the first of a batch. */
const TRANSFER_REPORT_MS = 250;
/** How long `killChildren` may scan for tagged processes (the orphan reaper finishes the job). */
const KILL_CHILDREN_MS = 1000;
/** How long a governor waits for its work dir's lock before it says another governor has it. */
const LOCK_WAIT_MS = 2000;

export class Governor {
  readonly options: GovernorOptions;
  governorId = "";
  store: ObjectStore;
  queue: TaskQueue<QueuedTask>;
  fetcher: InputFetcher;
  runner: TaskRunner;
  /** Executor types and their processes (`<executor>/<method>` tasks). */
  executors: Executors;
  link: ServerConnection | undefined;
  dataServer: DataServer | undefined;
  /** Limits of Load/LoadDir/Store/Execute (`[permissions]`, `--allow-*`), enforced by Deno. */
  readonly permissions: GovernorPermissions;
  /** What this governor offers (cpus, memory, gpus, custom); resolved by `start()`. */
  resources: GovernorResources;
  /** Settles when the governor has stopped (rejects if the server link was lost). */
  readonly finished: Promise<void>;
  #resolveFinished!: () => void;
  #rejectFinished!: (e: Error) => void;
  #registered!: (message: RegisteredMessage) => void;
  #heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  #stopping: Promise<void> | undefined;
  /** `killChildren()` was called: the governor exits at once and reports nothing more. */
  #exiting = false;
  #lockFile: string;
  /** The open, locked `governor.pid` (the lock lasts as long as the file is open). */
  #lock: Deno.FsFile | undefined;
  /** Kills this governor's programs if it dies without stopping them. */
  #reaper: OrphanReaper | undefined;
  #transfers: DataTransfer[] = [];
  #transferTimer: ReturnType<typeof setTimeout> | undefined;
  #monitorTimer: ReturnType<typeof setTimeout> | undefined;
  #connect: ConnectToServer;
  /**
   * Results sent and not yet journaled by the server (`results_journaled`), each with its
   * number on the current link: reported again when registering after the link dropped.
   */
  #unacked: { message: TaskFinishedMessage | TaskFailedMessage; index: number }[] = [];
  #linkResults = 0;

  /** `connect` opens the link to the server (default: its WebSocket at the options' address). */
  constructor(options: GovernorOptions, connect?: ConnectToServer) {
    this.options = options;
    this.resources = { cpus: options.cpus };
    this.#connect = connect ??
      webSocketConnector(options.serverHost, options.serverPort, authHeaders(options.secret));
    this.permissions = new GovernorPermissions(options);
    this.finished = new Promise((resolve, reject) => {
      this.#resolveFinished = resolve;
      this.#rejectFinished = reject;
    });
    this.finished.catch(() => {}); // the caller may only look at it later
    this.#lockFile = join(options.workDir, "governor.pid");
    this.store = new ObjectStore({
      workDir: options.workDir,
      deleteListTimeout: options.deleteListTimeout,
      onRemoved: (objects) => this.link?.send({ type: "objects_removed", objects }),
    });
    this.fetcher = new InputFetcher(
      this.store,
      options.serverHost,
      options.serverPort,
      (t) => this.#transferDone(t),
    );
    this.fetcher.headers = authHeaders(options.secret);
    this.executors = new Executors({
      workDir: options.workDir,
      logDir: options.logDir,
      governorId: () => this.governorId,
    });
    this.executors.configure(executorConfigs());
    this.runner = new TaskRunner({
      store: this.store,
      fetcher: this.fetcher,
      send: (m) => this.#send(m),
      exiting: () => this.#exiting,
      governorId: () => this.governorId,
      builtins: this.permissions.wrap(BUILTINS),
      executors: this.executors.functions,
      outputDir: join(options.logDir, "tasks"),
    });
    this.queue = new TaskQueue<QueuedTask>(options.cpus, this.runner.run);
  }

  /** Starts and registers; rejects with a one-line error if that is impossible. */
  async start(): Promise<void> {
    const o = this.options;
    if (!(Number.isInteger(o.cpus) && o.cpus >= 1)) {
      throw new Error(`cpus must be a positive integer, got ${o.cpus}`);
    }
    let configResources = {};
    if (o.configFile !== undefined) {
      const config = await readConfig(o.configFile);
      this.executors.configure(executorConfigs(config, o.configFile));
      configResources = settingsFromConfig(config.resources, o.configFile);
    }
    this.resources = await resolveResources(o.cpus, o.resources ?? {}, configResources);
    await Deno.mkdir(o.logDir, { recursive: true });
    await Deno.mkdir(o.workDir, { recursive: true });
    await this.#lockWorkDir();
    this.#reaper = OrphanReaper.start();
    this.executors.warmUp();
    // Not awaited: a large leftover must not delay the start.
    void reclaimDeadWorkDirs(o.workDir);
    try {
      await this.permissions.start();
      await this.store.init();
      this.dataServer = await startDataServer(this.store, {
        // No interface given: the one this governor reaches its server by (issue 15: a server
        // on loopback leaves nothing on other interfaces).
        hostname: o.listenHost === ""
          ? await interfaceTowards(o.serverHost, o.serverPort)
          : o.listenHost,
        port: o.listenPort,
        secret: o.secret,
      });
      const outcome = await this.#register(undefined);
      log.info(`registered as ${outcome} with ${count(o.cpus, "cpu")}, work dir ${o.workDir}`);
      if (o.readyFile !== undefined) await writeReadyFile(o.readyFile);
      this.#startMonitoring();
    } catch (e) {
      await this.#shutdown();
      throw e;
    }
    this.#watchLink(this.link!);
  }

  /**
   * Connects and registers (`resume`: the id this governor had, to be resumed by the server if
   * it has not declared it lost yet). Resolves with the id; rejects if the server refuses.
   */
  async #register(resume: string | undefined): Promise<string> {
    const o = this.options;
    const registered = new Promise<RegisteredMessage>((resolve) => this.#registered = resolve);
    const link = await this.#connect((m) => this.#handle(m));
    this.link = link;
    const report = resume === undefined ? undefined : this.#reattachReport();
    link.send({
      type: "register",
      protocol_version: PROTOCOL_VERSION,
      listen_port: this.dataServer!.port,
      listen_host: this.dataServer!.hostname,
      cpus: o.cpus,
      resources: this.resources,
      hostname: hostname(),
      pid: Deno.pid,
      executors: this.executors.names,
      packed_assignments: true, // ServerLink unpacks them
      ...(resume === undefined ? {} : { resume }),
      ...(report === undefined ? {} : { report }),
    });
    const outcome = await Promise.race([registered, link.closed]);
    if (!("type" in outcome)) {
      throw new Error(`server at ${link.url} did not register the governor: ${outcome.reason}`);
    }
    this.governorId = outcome.governor_id;
    this.#startHeartbeat(outcome.heartbeat_interval);
    if (resume !== undefined && !outcome.resumed && !outcome.reattached) {
      // The server declared this governor lost: it reassigns what ran here. Stored objects
      // stay (the server no longer counts on them; a later task may still find them here).
      this.queue.abortAll("the server reassigned this governor's tasks");
      this.fetcher.abortAll();
    }
    return outcome.governor_id;
  }

  /** Sends to the server; results are kept until the server says they are journaled. */
  #send(message: ToServer): void {
    if (message.type === "task_finished" || message.type === "task_failed") {
      this.#unacked.push({ message, index: this.#linkResults++ });
    }
    this.link?.send(message);
  }

  /**
   * What this governor has, for the server it registers with again: its tasks, the results not
   * journaled yet (numbered anew on the new link) and its objects (not those being deleted).
   */
  #reattachReport(): ReattachReport {
    this.#unacked.forEach((entry, i) => entry.index = i);
    this.#linkResults = this.#unacked.length;
    const deleting = new Set(this.store.deleteListIds().map((id) => `${id[0]}/${id[1]}`));
    const objects: ReattachReport["objects"] = [];
    for (const obj of this.store.objects()) {
      if (deleting.has(`${obj.id[0]}/${obj.id[1]}`)) continue;
      objects.push({
        id: obj.id,
        size: obj.size,
        ...(obj.contentType === undefined ? {} : { content_type: obj.contentType }),
      });
    }
    return {
      tasks: [
        ...this.queue.runningItems().map((q) => ({ id: q.task.spec.id, running: true })),
        ...this.queue.queuedItems().map((q) => ({ id: q.task.spec.id, running: false })),
      ],
      results: this.#unacked.map((entry) => entry.message),
      objects,
    };
  }

  /** When the link drops (not by us), reconnect: resumed, or registered as a new governor. */
  #watchLink(link: ServerConnection): void {
    link.closed.then(async (c) => {
      if (c.byUs || this.#stopping !== undefined) return;
      log.warn(`lost the server: ${c.reason}; reconnecting`);
      clearInterval(this.#heartbeatTimer);
      const previous = this.governorId;
      const seconds = this.options.reconnectTimeout ?? DEFAULT_RECONNECT_TIMEOUT;
      const giveUp = performance.now() + seconds * 1000;
      let error = "";
      while (this.#stopping === undefined && performance.now() < giveUp) {
        try {
          const id = await this.#register(previous);
          log.info(`registered again as ${id}${id === previous ? "" : ` (was ${previous})`}`);
          if (this.#stopping !== undefined) return;
          this.#watchLink(this.link!);
          return;
        } catch (e) {
          error = errorMessage(e);
          await new Promise((resolve) => setTimeout(resolve, RECONNECT_PAUSE_MS));
        }
      }
      if (this.#stopping !== undefined) return;
      log.error(`lost the server: ${c.reason}; ${error}`);
      this.#stop(new Error(`lost connection to the server: ${c.reason}`));
    });
  }

  #startHeartbeat(seconds: number | undefined): void {
    clearInterval(this.#heartbeatTimer);
    if (seconds === undefined || !(seconds > 0)) return;
    this.#heartbeatTimer = setInterval(
      () => this.link?.send({ type: "heartbeat" }),
      seconds * 1000,
    );
  }

  /** Stops the governor (idempotent); `finished` resolves when done. */
  stop(): Promise<void> {
    return this.#stop(undefined);
  }

  #stop(error: Error | undefined): Promise<void> {
    if (this.#stopping === undefined) {
      this.#stopping = this.#shutdown().then(
        () => error ? this.#rejectFinished(error) : this.#resolveFinished(),
        (e) => this.#rejectFinished(e instanceof Error ? e : new Error(String(e))),
      );
    }
    return this.#stopping;
  }

  async #shutdown(): Promise<void> {
    clearInterval(this.#heartbeatTimer);
    clearTimeout(this.#monitorTimer);
    clearInterval(this.#monitorTimer);
    this.#reportTransfers();
    this.queue.abortAll();
    this.fetcher.abortAll();
    this.link?.close();
    await settlesWithin(this.runner.idle(), STOP_GRACE_MS);
    await this.#reaper?.stop();
    await this.executors.close();
    this.permissions.close();
    if (this.dataServer) await settlesWithin(this.dataServer.close(), STOP_GRACE_MS);
    await this.store.close().catch((e) => log.warn(`cleaning the work dir: ${errorMessage(e)}`));
    if (this.#lock !== undefined) {
      // Removed while still locked: a governor starting now creates a new lock file.
      await Deno.remove(this.#lockFile).catch(() => {});
      this.#lock.close();
      this.#lock = undefined;
    }
    await Deno.remove(this.options.workDir).catch(() => {}); // only if empty
  }

  /**
   * Kills the governor's executors (their process groups) and programs (tagged processes) for
   * a governor about to exit without stopping: nothing else is touched, the work directory is
   * left as it is. What a scan misses, the orphan reaper kills when the governor is gone.
   */
  async killChildren(): Promise<void> {
    this.#exiting = true; // the tasks killed now are not failures: they are lost with it
    this.executors.killAll();
    await settlesWithin(killMatching((tag) => tag.startsWith(TAG_PREFIX)), KILL_CHILDREN_MS);
  }

  // -------------------------------------------------------------------------------------------
  // Monitoring (docs/events.md): resource usage samples and data transfers, for the event log

  #startMonitoring(): void {
    const seconds = this.options.monitoringInterval ?? DEFAULT_MONITORING_INTERVAL;
    if (!(seconds > 0)) return;
    const monitor = new Monitor();
    const send = () => {
      const sample = monitor.sample();
      if (this.dataServer) sample.data_listener = listenerCounts(this.dataServer.stats);
      this.link?.send(sample);
    };
    // A first sample soon after registering, then one every interval.
    this.#monitorTimer = setTimeout(() => {
      send();
      this.#monitorTimer = setInterval(send, seconds * 1000);
    }, Math.min(seconds * 1000, 200));
  }

  #transferDone(transfer: DataTransfer): void {
    this.#transfers.push(transfer);
    if (this.#transferTimer === undefined) {
      this.#transferTimer = setTimeout(() => this.#reportTransfers(), TRANSFER_REPORT_MS);
    }
  }

  #reportTransfers(): void {
    clearTimeout(this.#transferTimer);
    this.#transferTimer = undefined;
    if (this.#transfers.length === 0) return;
    this.link?.send({ type: "data_transfers", transfers: this.#transfers });
    this.#transfers = [];
  }

  // -------------------------------------------------------------------------------------------
  // Server messages

  #handle(messages: ToGovernor[]): void {
    for (const m of messages) {
      try {
        switch (m.type) {
          case "registered":
            this.#registered(m);
            break;
          case "results_journaled":
            while (this.#unacked.length && this.#unacked[0]!.index < m.count) {
              this.#unacked.shift();
            }
            break;
          case "assign_tasks":
            for (const t of m.tasks) this.#assign(t);
            break;
          case "delete_objects":
            this.store.delete(m.objects);
            break;
          case "close_session":
            this.queue.closeSession(m.session);
            this.fetcher.closeSession(m.session);
            this.store.dropSession(m.session);
            this.executors.closeSession(m.session);
            this.runner.closeSession(m.session);
            break;
          case "cancel_tasks":
            this.#cancelTasks(m.tasks);
            break;
          case "fetch_objects":
            this.#fetchObjects(m.objects);
            break;
          case "peer_state":
            this.fetcher.peerState(m.governor, m.state);
            break;
          case "shutdown":
            log.info("shutdown requested by the server");
            this.stop();
            return;
          default:
            log.warn(`unknown message from the server: ${JSON.stringify(m).slice(0, 200)}`);
        }
      } catch (e) {
        log.error(`handling '${m?.type}' failed: ${errorMessage(e)}`);
      }
    }
  }

  /** The client cancelled them: running ones are killed, queued ones dropped; none reported. */
  #cancelTasks(ids: Id[]): void {
    const bySession = new Map<number, Set<number>>();
    for (const [session, id] of ids) {
      let set = bySession.get(session);
      if (!set) bySession.set(session, set = new Set());
      set.add(id);
    }
    for (const [session, set] of bySession) {
      this.queue.cancelWhere(session, (q) => set.has(q.task.spec.id[1]), "cancelled");
    }
  }

  /** Copies objects here (a drained governor's sole copies) and says which were stored. */
  async #fetchObjects(objects: AssignedTask["inputs"]): Promise<void> {
    const results = await Promise.allSettled(objects.map((o) => this.fetcher.obtain(o)));
    this.link?.send({
      type: "objects_fetched",
      objects: objects.filter((_, i) => results[i]?.status === "fulfilled").map((o) => o.spec.id),
      failed: objects.filter((_, i) => results[i]?.status === "rejected").map((o) => o.spec.id),
    });
  }

  #assign(task: AssignedTask): void {
    const spec = task.spec;
    const session = spec.id[0];
    if (this.store.isSessionClosed(session)) return;
    for (const input of task.inputs) this.store.revive(input.spec.id);
    const cpus = spec.resources?.cpus ?? 1;
    if (!(Number.isInteger(cpus) && cpus >= 1 && cpus <= this.options.cpus)) {
      const error = `task ${formatId(spec.id)} (${spec.task_type}) needs ${count(cpus, "cpu")}, ` +
        `governor ${this.governorId} has ${this.options.cpus}`;
      this.link?.send({
        type: "task_failed",
        task: spec.id,
        info: { error, governor: this.governorId },
      });
      return;
    }
    this.queue.push({ session, cpus, task, allocation: task.resources ?? { cpus } });
  }

  // -------------------------------------------------------------------------------------------
  // Work directory

  /**
   * Locks the work directory (refused while another governor holds it), then removes what an
   * earlier governor left there (one killed by SIGTERM or SIGKILL leaves everything).
   */
  async #lockWorkDir(): Promise<void> {
    const file = await Deno.open(this.#lockFile, { read: true, write: true, create: true });
    let locked = false;
    try {
      // A sibling governor starting in the same parent dir takes the lock for a moment to see
      // whether this dir is a dead governor's (reclaim.ts): try again for a while.
      const deadline = Date.now() + LOCK_WAIT_MS;
      while (!(locked = await file.tryLock(true)) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      if (!locked) file.close();
    }
    if (!locked) {
      const pid = (await Deno.readTextFile(this.#lockFile).catch(() => "")).trim();
      throw new Error(
        `work dir ${this.options.workDir} is in use by another governor` +
          (/^\d+$/.test(pid) ? ` (pid ${pid})` : ""),
      );
    }
    // The sibling's reclaim may have removed this dir meanwhile (it held a dead governor's pid):
    // start again in a new one.
    const current = await Deno.stat(this.#lockFile).catch(() => undefined);
    if (current?.ino !== (await file.stat()).ino) {
      file.close();
      await Deno.mkdir(this.options.workDir, { recursive: true });
      return this.#lockWorkDir();
    }
    this.#lock = file;
    await Promise.all(
      [this.store.dataDir, this.store.tmpDir, this.executors.baseDir].map((p) => removeTree(p)),
    );
    await file.truncate(0);
    await file.write(new TextEncoder().encode(`${Deno.pid}\n`));
  }
}

async function readConfig(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new Error(`cannot read config file '${path}': ${errorMessage(e)}`);
  }
  try {
    return parseToml(text);
  } catch (e) {
    throw new Error(`config file '${path}' is not valid TOML: ${errorMessage(e)}`);
  }
}

/** Writes `ready` atomically (temp file + rename): a watcher never sees it half-written. */
async function writeReadyFile(path: string): Promise<void> {
  // `-`: on stdout (a governor started over ssh tells `rain start` so).
  if (path === "-") return void await Deno.stdout.write(new TextEncoder().encode("ready\n"));
  const tmp = `${path}.tmp-${Deno.pid}`;
  await Deno.writeTextFile(tmp, "ready\n");
  await Deno.rename(tmp, path);
}

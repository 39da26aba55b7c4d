/**
 * Governor connections: one WebSocket each, binary frames holding msgpack arrays of messages.
 *
 * Two halves, so that neither the reactor nor the link needs the other to exist first:
 * `GovernorLinks` (governor_links.ts) is the reactor's `GovernorComm` (messages queued and sent as
 * one frame per governor per turn); `GovernorListener` accepts connections, checks every message
 * and hands it to a `GovernorHandler` (the reactor).
 */
import { Decoder } from "@msgpack/msgpack";
import type { GovernorId, Id } from "../common/ids.ts";
import { isId } from "../common/ids.ts";
import type {
  DataTransfersMessage,
  MonitoringMessage,
  ReattachReport,
  RegisterMessage,
  TaskFailedMessage,
  TaskFinishedMessage,
  TaskOutputMessage,
  TaskStartedMessage,
  ToServer,
} from "../common/messages.ts";
import type { DirectConn, DirectRequest } from "../common/conn_guard.ts";
import {
  acceptDirectWebSocket,
  isWebSocketUpgrade,
  type ServerSocket,
} from "../common/direct_websocket.ts";
import { GOVERNOR_WS_PATH } from "../common/messages.ts";
import { PROTOCOL_VERSION } from "../common/version.ts";
import { checkGovernorResources, type GovernorResources } from "../common/resources.ts";
import { Logger } from "../common/log.ts";
import type { GovernorState } from "./state.ts";
import type { GovernorLinks } from "./governor_links.ts";

const log = new Logger("server");
/** One for every frame: `decode()` makes a new one per call (see governor_links.ts). */
const decoder = new Decoder();

/** What governors tell the server, checked; `Reactor` implements it. */
export interface GovernorHandler {
  addGovernor(
    id: GovernorId,
    cpus: number,
    executors: string[],
    resources?: GovernorResources,
  ): GovernorState;
  /** `orderly`: the governor stopped on purpose (no task's crash counter grows). */
  removeGovernor(governor: GovernorState, reason: string, orderly?: boolean): void;
  /** Its heartbeat is overdue (no new work for it) or it was heard again. */
  setStalled(governor: GovernorState, stalled: boolean): void;
  objectsFetched(governor: GovernorState, fetched: Id[], failed: Id[]): void;
  taskStarted(governor: GovernorState, message: TaskStartedMessage): void;
  taskFinished(governor: GovernorState, message: TaskFinishedMessage): void;
  taskFailed(governor: GovernorState, message: TaskFailedMessage): void;
  /** What a task the governor stopped (cancelled, session closed) printed. */
  taskOutput(governor: GovernorState, message: TaskOutputMessage): void;
  objectsRemoved(governor: GovernorState, ids: Id[]): void;
  /** A governor registered (again) with what it still has, if it said. */
  reattach?(governor: GovernorState, report: ReattachReport | undefined): void;
  monitoring(governor: GovernorState, message: MonitoringMessage): void;
  dataTransfers(governor: GovernorState, message: DataTransfersMessage): void;
}

/**
 * Largest frame taken from a governor on a direct link (a reattach report of a governor holding a
 * million objects stays well below).
 */
const MAX_FRAME_BYTES = 256 * 1024 * 1024;

/** Default `--heartbeat-timeout`, seconds. */
export const DEFAULT_HEARTBEAT_TIMEOUT = 10;
/** Heartbeats per timeout: a governor is stalled from the first one missed. */
const HEARTBEATS_PER_TIMEOUT = 4;

interface Connection {
  socket: ServerSocket;
  /** Results (task_finished / task_failed) received on it, and how many were acknowledged. */
  results: number;
  acknowledged: number;
  /** Declares the governor lost and closes its socket. */
  drop(reason: string): void;
}

/**
 * Accepts governor connections and hands their checked messages to the handler. A governor is
 * lost when its connection closes or when nothing came from it for the heartbeat timeout; it is
 * stalled (no new work) from the first heartbeat missed.
 */
export class GovernorListener {
  readonly heartbeatTimeoutMs: number;
  readonly #connections = new Map<GovernorState, Connection>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #lastCheck = 0;
  /** The server is stopping: governors that leave now leave in order. */
  #stopping = false;

  constructor(
    readonly links: GovernorLinks,
    readonly handler: GovernorHandler,
    options: { heartbeatTimeout?: number } = {},
  ) {
    this.heartbeatTimeoutMs = (options.heartbeatTimeout ?? DEFAULT_HEARTBEAT_TIMEOUT) * 1000;
  }

  get heartbeatIntervalMs(): number {
    return this.heartbeatTimeoutMs / HEARTBEATS_PER_TIMEOUT;
  }

  /** Stops watching heartbeats (the server stops): governors leaving now leave in order. */
  close(): void {
    this.#stopping = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #watch(): void {
    if (this.#timer !== undefined) return;
    this.#lastCheck = performance.now();
    const period = Math.max(20, Math.min(this.heartbeatIntervalMs / 2, 500));
    this.#timer = setInterval(() => this.#check(period), period);
  }

  #check(period: number): void {
    const now = performance.now();
    const late = now - this.#lastCheck - period;
    this.#lastCheck = now;
    if (late > this.heartbeatIntervalMs) {
      // The server itself was busy (a huge submit): frames may wait unread; blame no governor.
      for (const governor of this.#connections.keys()) governor.lastHeard = now;
      return;
    }
    const stallAfter = this.heartbeatIntervalMs * 1.5;
    for (const [governor, connection] of [...this.#connections]) {
      const silent = now - governor.lastHeard;
      if (silent > this.heartbeatTimeoutMs) {
        connection.drop(`no heartbeat for ${(silent / 1000).toFixed(1)} s`);
      } else if (silent > stallAfter && !governor.stalled) {
        this.handler.setStalled(governor, true);
      }
    }
  }

  /**
   * Answers the WebSocket upgrade of a governor connecting from `peerIp`, relayed by the guard
   * (when `acceptDirect` declined it).
   */
  accept(request: Request, peerIp: string): Response {
    // No WebSocket idle timeout: heartbeats tell a lost governor (the timeout's pong timer fires
    // late, and closes every link, after a long turn such as a 1M-task submit).
    const { socket, response } = Deno.upgradeWebSocket(request, { idleTimeout: 0 });
    socket.binaryType = "arraybuffer";
    this.#serve(socket, peerIp);
    return response;
  }

  /**
   * The guard's `direct` hook for governor links: the upgrade of a governor that sent the secret
   * in its header (`allowed`) is served on the accepted connection itself, not through the relay.
   * Resolves (true) when the link is closed; false: not a governor upgrade, or not allowed.
   */
  acceptDirect(request: DirectRequest, conn: DirectConn, allowed: boolean): Promise<boolean> {
    if (!allowed || !isWebSocketUpgrade(request)) return Promise.resolve(false);
    if (new URL(request.target, "http://x").pathname !== GOVERNOR_WS_PATH) {
      return Promise.resolve(false);
    }
    const peerIp = conn.remoteAddr.hostname;
    return acceptDirectWebSocket(
      request,
      conn,
      { maxPayload: MAX_FRAME_BYTES },
      (socket) => this.#serve(socket, peerIp),
    ).then(() => true);
  }

  #serve(socket: ServerSocket, peerIp: string): void {
    let governor: GovernorState | undefined;

    const drop = (reason: string, orderly = false) => {
      if (governor && this.#connections.get(governor)?.socket === socket) {
        this.#connections.delete(governor);
        this.links.delete(governor.id);
        this.handler.removeGovernor(governor, reason, orderly);
      }
      governor = undefined;
    };
    const connection: Connection = {
      socket,
      results: 0,
      acknowledged: 0,
      drop: (reason) => {
        drop(reason);
        try {
          socket.close(1001, reason.slice(0, 120));
        } catch { /* already closing */ }
      },
    };

    socket.onmessage = (event) => {
      try {
        if (!(event.data instanceof ArrayBuffer)) throw new Error("expected a binary frame");
        const messages = decoder.decode(new Uint8Array(event.data));
        if (!Array.isArray(messages)) throw new Error("a frame must hold an array of messages");
        if (governor) {
          governor.lastHeard = performance.now();
          if (governor.stalled) this.handler.setStalled(governor, false);
        }
        for (const message of messages as ToServer[]) {
          if (!governor) {
            governor = this.#register(connection, message, peerIp);
            continue;
          }
          if (message?.type === "task_finished" || message?.type === "task_failed") {
            connection.results++;
          }
          this.#dispatch(governor, message);
        }
      } catch (e) {
        log.error(`governor link from ${peerIp}: ${(e as Error).message}; closing it`);
        try {
          socket.close(1008, String((e as Error).message).slice(0, 120));
        } catch { /* already closing */ }
        drop(`protocol error: ${(e as Error).message}`);
      }
    };
    // Code 1000: the governor closed it on purpose (it is stopping), which costs no crash.
    socket.onclose = (event) =>
      this.#stopping ? drop("the server stopped", true) : drop(
        event.code === 1000 ? "the governor stopped" : "connection closed",
        event.code === 1000,
      );
    socket.onerror = () =>
      this.#stopping ? drop("the server stopped", true) : drop("connection error");
  }

  #register(connection: Connection, message: ToServer, peerIp: string): GovernorState {
    const socket = connection.socket;
    if (message?.type !== "register") {
      throw new Error(`first message must be 'register', got '${message?.type}'`);
    }
    const m = message as RegisterMessage;
    if (m.protocol_version !== PROTOCOL_VERSION) {
      throw new Error(
        `governor speaks protocol ${m.protocol_version}, this server ${PROTOCOL_VERSION}`,
      );
    }
    if (!Number.isSafeInteger(m.cpus) || m.cpus < 1) throw new Error("register: bad cpus");
    if (!Number.isSafeInteger(m.listen_port) || m.listen_port < 1 || m.listen_port > 65535) {
      throw new Error("register: bad listen_port");
    }
    const unspecified = !m.listen_host || m.listen_host === "0.0.0.0" || m.listen_host === "::";
    const host = unspecified ? peerIp : m.listen_host;
    const id = host.includes(":") ? `[${host}]:${m.listen_port}` : `${host}:${m.listen_port}`;
    const heartbeat_interval = this.heartbeatIntervalMs / 1000;
    const known = [...this.#connections.entries()].find(([g]) => g.id === id);
    if (known && m.resume === id) {
      // Its link dropped and the server had not noticed yet: same governor, new socket.
      const [governor, old] = known;
      this.#connections.set(governor, connection);
      try {
        old.socket.close(1001, "replaced by a new connection");
      } catch { /* already closing */ }
      this.links.add(id, socket, m.packed_assignments === true);
      governor.lastHeard = performance.now();
      if (governor.stalled) this.handler.setStalled(governor, false);
      this.links.send(id, {
        type: "registered",
        governor_id: id,
        heartbeat_interval,
        resumed: true,
        ...(m.report === undefined ? {} : { reattached: true }),
      });
      this.links.flush();
      log.info(`governor ${id} reconnected`);
      this.#reattach(connection, governor, m);
      return governor;
    }
    if (this.links.has(id)) throw new Error(`governor ${id} is already registered`);
    const executors = Array.isArray(m.executors)
      ? m.executors.filter((e) => typeof e === "string")
      : [];
    this.links.add(id, socket, m.packed_assignments === true);
    const resources = m.resources === undefined ? undefined : checkGovernorResources(m.resources);
    const governor = this.handler.addGovernor(id, m.cpus, executors, resources);
    this.#connections.set(governor, connection);
    this.#watch();
    this.links.send(id, {
      type: "registered",
      governor_id: id,
      heartbeat_interval,
      ...(m.report === undefined ? {} : { reattached: true }),
    });
    this.links.flush();
    this.#reattach(connection, governor, m);
    return governor;
  }

  /** What a registering governor still has goes to the reactor; its results count as received. */
  #reattach(connection: Connection, governor: GovernorState, m: RegisterMessage): void {
    const report = m.report === undefined ? undefined : checkReport(m.report);
    connection.results = report?.results.length ?? 0;
    this.handler.reattach?.(governor, report);
  }

  /**
   * Every result received so far is in the journal (journal.ts calls this after each write):
   * governors may forget them (`results_journaled`).
   */
  acknowledgeResults(): void {
    let sent = false;
    for (const [governor, connection] of this.#connections) {
      if (connection.results === connection.acknowledged) continue;
      connection.acknowledged = connection.results;
      this.links.send(governor.id, { type: "results_journaled", count: connection.results });
      sent = true;
    }
    if (sent) this.links.flush();
  }

  #dispatch(governor: GovernorState, message: ToServer): void {
    const r = this.handler;
    switch (message?.type) {
      case "task_started":
        if (!isId(message.task)) throw new Error("task_started: bad task id");
        if (message.slots !== undefined && !isSlotList(message.slots, governor.cpus)) {
          throw new Error("task_started: bad cpu slots");
        }
        return r.taskStarted(governor, message);
      case "task_finished":
        if (!isId(message.task) || !Array.isArray(message.outputs)) {
          throw new Error("task_finished: bad message");
        }
        message.info ??= {};
        checkOutput(message);
        return r.taskFinished(governor, message);
      case "task_failed":
        if (!isId(message.task)) throw new Error("task_failed: bad task id");
        message.info ??= { error: "unknown error" };
        checkOutput(message);
        return r.taskFailed(governor, message);
      case "task_output":
        if (!isId(message.task)) throw new Error("task_output: bad task id");
        checkOutput(message);
        if (message.output === undefined) return;
        if (!Number.isInteger(message.attempt) || message.attempt! < 1) delete message.attempt;
        return r.taskOutput(governor, message);
      case "objects_removed":
        if (!Array.isArray(message.objects)) throw new Error("objects_removed: bad message");
        return r.objectsRemoved(governor, message.objects.filter(isId));
      case "monitoring":
        if (!Array.isArray(message.cpu_usage) || typeof message.mem_usage !== "number") {
          throw new Error("monitoring: bad message");
        }
        message.net_stat ??= {};
        return r.monitoring(governor, message);
      case "heartbeat":
        return; // its frame was noted (lastHeard)
      case "objects_fetched":
        if (!Array.isArray(message.objects) || !Array.isArray(message.failed)) {
          throw new Error("objects_fetched: bad message");
        }
        return r.objectsFetched(
          governor,
          message.objects.filter(isId),
          message.failed.filter(isId),
        );
      case "data_transfers":
        if (!Array.isArray(message.transfers)) throw new Error("data_transfers: bad message");
        message.transfers = message.transfers.filter((t) =>
          isId(t?.object) && typeof t.from === "string" && typeof t.bytes === "number" &&
          typeof t.duration === "number"
        );
        return r.dataTransfers(governor, message);
      default:
        throw new Error(`unknown message type '${(message as { type?: string })?.type}'`);
    }
  }
}

/** Cpu slots of a governor with `cpus` cpus: distinct integers in 0..cpus-1. */
function isSlotList(slots: unknown, cpus: number): slots is number[] {
  return Array.isArray(slots) && slots.length <= cpus &&
    slots.every((s, i) => Number.isInteger(s) && s >= 0 && s < cpus && slots.indexOf(s) === i);
}

/** A task's printed output is two optional strings, or it is dropped. */
function checkOutput(message: { output?: unknown }): void {
  const o = message.output;
  if (o === undefined) return;
  const ok = typeof o === "object" && o !== null &&
    ["stdout", "stderr"].every((k) => {
      const v = (o as Record<string, unknown>)[k];
      return v === undefined || typeof v === "string";
    });
  if (!ok) delete message.output;
}

/** A reattach report with malformed entries left out. */
function checkReport(report: unknown): ReattachReport {
  const r = (typeof report === "object" && report !== null ? report : {}) as Record<
    string,
    unknown
  >;
  const list = (v: unknown): unknown[] => Array.isArray(v) ? v : [];
  const record = (v: unknown) =>
    (typeof v === "object" && v !== null ? v : {}) as Record<
      string,
      unknown
    >;
  return {
    tasks: list(r.tasks).map(record).filter((t) => isId(t.id)).map((t) => ({
      id: t.id as Id,
      running: t.running === true,
    })),
    results: list(r.results).map(record).filter((m) =>
      isId(m.task) &&
      ((m.type === "task_finished" && Array.isArray(m.outputs)) || m.type === "task_failed")
    ).map((m) => {
      m.info ??= m.type === "task_failed" ? { error: "unknown error" } : {};
      return m as unknown as ReattachReport["results"][number];
    }),
    objects: list(r.objects).map(record).filter((o) => isId(o.id) && typeof o.size === "number")
      .map((o) => ({
        id: o.id as Id,
        size: o.size as number,
        ...(typeof o.content_type === "string" ? { content_type: o.content_type } : {}),
      })),
  };
}

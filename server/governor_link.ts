/**
 * Governor connections: one WebSocket each, binary frames holding msgpack arrays of messages.
 *
 * Two halves, so that neither the reactor nor the link needs the other to exist first:
 * `GovernorLinks` is the reactor's `GovernorComm` (messages queued and sent as one frame per
 * governor per turn); `GovernorListener` accepts connections, checks every message and hands it
 * to a `GovernorHandler` (the reactor).
 */
import { decode, encode } from "@msgpack/msgpack";
import type { GovernorId, Id } from "../common/ids.ts";
import { isId } from "../common/ids.ts";
import type {
  DataTransfersMessage,
  MonitoringMessage,
  RegisterMessage,
  TaskFailedMessage,
  TaskFinishedMessage,
  TaskStartedMessage,
  ToGovernor,
  ToServer,
} from "../common/messages.ts";
import { PROTOCOL_VERSION } from "../common/version.ts";
import { Logger } from "../common/log.ts";
import type { GovernorComm } from "./reactor/core.ts";
import type { GovernorState } from "./state.ts";

const log = new Logger("server");

/** What governors tell the server, checked; `Reactor` implements it. */
export interface GovernorHandler {
  addGovernor(id: GovernorId, cpus: number, executors: string[]): GovernorState;
  removeGovernor(governor: GovernorState, reason: string): void;
  taskStarted(governor: GovernorState, message: TaskStartedMessage): void;
  taskFinished(governor: GovernorState, message: TaskFinishedMessage): void;
  taskFailed(governor: GovernorState, message: TaskFailedMessage): void;
  objectsRemoved(governor: GovernorState, ids: Id[]): void;
  monitoring(governor: GovernorState, message: MonitoringMessage): void;
  dataTransfers(governor: GovernorState, message: DataTransfersMessage): void;
}

interface Link {
  socket: WebSocket;
  queue: ToGovernor[];
}

/** The open governor sockets, and the reactor's way to send to them. */
export class GovernorLinks implements GovernorComm {
  readonly #links = new Map<GovernorId, Link>();

  send(governor: GovernorId, message: ToGovernor): void {
    this.#links.get(governor)?.queue.push(message);
  }

  flush(): void {
    for (const link of this.#links.values()) {
      if (link.queue.length === 0) continue;
      const frame = encode(link.queue, { ignoreUndefined: true });
      link.queue = [];
      if (link.socket.readyState === WebSocket.OPEN) link.socket.send(frame);
    }
  }

  get count(): number {
    return this.#links.size;
  }

  has(governor: GovernorId): boolean {
    return this.#links.has(governor);
  }

  add(governor: GovernorId, socket: WebSocket): void {
    this.#links.set(governor, { socket, queue: [] });
  }

  delete(governor: GovernorId): void {
    this.#links.delete(governor);
  }

  /** Tells every governor to exit and sends it now. */
  shutdownAll(): void {
    for (const id of this.#links.keys()) this.send(id, { type: "shutdown" });
    this.flush();
  }
}

/** Accepts governor connections and hands their checked messages to the handler. */
export class GovernorListener {
  constructor(readonly links: GovernorLinks, readonly handler: GovernorHandler) {}

  /** Answers the WebSocket upgrade of a governor connecting from `peerIp`. */
  accept(request: Request, peerIp: string): Response {
    const { socket, response } = Deno.upgradeWebSocket(request);
    socket.binaryType = "arraybuffer";
    let governor: GovernorState | undefined;

    const drop = (reason: string) => {
      if (governor) {
        this.links.delete(governor.id);
        this.handler.removeGovernor(governor, reason);
        governor = undefined;
      }
    };

    socket.onmessage = (event) => {
      try {
        if (!(event.data instanceof ArrayBuffer)) throw new Error("expected a binary frame");
        const messages = decode(new Uint8Array(event.data));
        if (!Array.isArray(messages)) throw new Error("a frame must hold an array of messages");
        for (const message of messages as ToServer[]) {
          if (!governor) {
            governor = this.#register(socket, message, peerIp);
            continue;
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
    socket.onclose = () => drop("connection closed");
    socket.onerror = () => drop("connection error");
    return response;
  }

  #register(socket: WebSocket, message: ToServer, peerIp: string): GovernorState {
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
    if (this.links.has(id)) throw new Error(`governor ${id} is already registered`);
    const executors = Array.isArray(m.executors)
      ? m.executors.filter((e) => typeof e === "string")
      : [];
    this.links.add(id, socket);
    const governor = this.handler.addGovernor(id, m.cpus, executors);
    this.links.send(id, { type: "registered", governor_id: id });
    this.links.flush();
    return governor;
  }

  #dispatch(governor: GovernorState, message: ToServer): void {
    const r = this.handler;
    switch (message?.type) {
      case "task_started":
        if (!isId(message.task)) throw new Error("task_started: bad task id");
        return r.taskStarted(governor, message);
      case "task_finished":
        if (!isId(message.task) || !Array.isArray(message.outputs)) {
          throw new Error("task_finished: bad message");
        }
        message.info ??= {};
        return r.taskFinished(governor, message);
      case "task_failed":
        if (!isId(message.task)) throw new Error("task_failed: bad task id");
        message.info ??= { error: "unknown error" };
        return r.taskFailed(governor, message);
      case "objects_removed":
        if (!Array.isArray(message.objects)) throw new Error("objects_removed: bad message");
        return r.objectsRemoved(governor, message.objects.filter(isId));
      case "monitoring":
        if (!Array.isArray(message.cpu_usage) || typeof message.mem_usage !== "number") {
          throw new Error("monitoring: bad message");
        }
        message.net_stat ??= {};
        return r.monitoring(governor, message);
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

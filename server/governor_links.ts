/**
 * The sending half of the governor links: the reactor's `GovernorComm`. Messages are queued and
 * sent as one frame per governor per turn; `assign_tasks` goes packed to governors that read it
 * (common/packed_tasks.ts). governor_link.ts accepts the connections and adds them here.
 */
import { Encoder } from "@msgpack/msgpack";
import type { GovernorId } from "../common/ids.ts";
import type { ToGovernor, ToGovernorWire } from "../common/messages.ts";
import { packTasks } from "../common/packed_tasks.ts";
import type { ServerSocket } from "../common/direct_websocket.ts";
import type { GovernorComm } from "./reactor/core.ts";

/**
 * One for every frame: `encode()` makes a new one per call, whose buffer then grows again for
 * every large frame.
 */
const encoder = new Encoder({ ignoreUndefined: true });

interface Link {
  socket: ServerSocket;
  queue: ToGovernor[];
  /** The governor said it reads `assign_packed` (`register.packed_assignments`). */
  packed: boolean;
}

/** The open governor sockets, and the reactor's way to send to them. */
export class GovernorLinks implements GovernorComm {
  readonly #links = new Map<GovernorId, Link>();
  /** Links with queued messages: a flush visits these, not every governor. */
  readonly #pending = new Set<Link>();

  send(governor: GovernorId, message: ToGovernor): void {
    const link = this.#links.get(governor);
    if (!link) return;
    link.queue.push(message);
    this.#pending.add(link);
  }

  flush(): void {
    for (const link of this.#pending) {
      const frame = encoder.encode(link.packed ? packAssignments(link.queue) : link.queue);
      link.queue = [];
      if (link.socket.readyState === WebSocket.OPEN) link.socket.send(frame);
    }
    this.#pending.clear();
  }

  get count(): number {
    return this.#links.size;
  }

  has(governor: GovernorId): boolean {
    return this.#links.has(governor);
  }

  add(governor: GovernorId, socket: ServerSocket, packed = false): void {
    this.#links.set(governor, { socket, queue: [], packed });
  }

  delete(governor: GovernorId): void {
    const link = this.#links.get(governor);
    if (link) this.#pending.delete(link);
    this.#links.delete(governor);
  }

  /** Tells every governor to exit and sends it now. */
  shutdownAll(): void {
    for (const id of this.#links.keys()) this.send(id, { type: "shutdown" });
    this.flush();
  }
}

/** A frame's messages with each `assign_tasks` packed (common/packed_tasks.ts). */
function packAssignments(messages: ToGovernor[]): ToGovernorWire[] {
  const wire: ToGovernorWire[] = [];
  for (const message of messages) {
    if (message.type !== "assign_tasks") {
      wire.push(message);
      continue;
    }
    const { packed, unpacked } = packTasks(message.tasks);
    if (packed.values.length > 0) wire.push(packed);
    if (unpacked.length > 0) wire.push({ type: "assign_tasks", tasks: unpacked });
  }
  return wire;
}

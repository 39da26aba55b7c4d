/**
 * The governor's WebSocket to the server (`GOVERNOR_WS_PATH`). Every frame is a msgpack array
 * of messages. Outgoing messages are queued and sent as one frame per event-loop turn: the
 * flush is scheduled with `setImmediate` when the first message is queued, so it runs after the
 * current frame's handling *and* every promise continuation it triggered (a `queueMicrotask`
 * flush would fire in the middle of those chains and split a burst into many frames).
 */
import { Decoder, Encoder } from "@msgpack/msgpack";
import { setImmediate } from "node:timers";
// Deno's built-in WebSocket client leaves Nagle's algorithm on and writes a frame's header and
// payload separately: every frame above ~1 KB then waits ~40 ms for a delayed ACK. The `ws`
// client sets TCP_NODELAY (bench: 30 KB frames 44 ms -> 0.15 ms per round trip).
// @deno-types="@types/ws"
import WebSocket from "ws";
import type { ToGovernor, ToGovernorWire, ToServer } from "../common/messages.ts";
import { GOVERNOR_WS_PATH } from "../common/messages.ts";
import { unpackTasks } from "../common/packed_tasks.ts";
import { hostPort } from "./fetch_input.ts";
import { Logger } from "../common/log.ts";

const log = new Logger("governor.link");

/** A frame's messages with each `assign_packed` unpacked into `assign_tasks`. */
export function unpackAssignments(wire: ToGovernorWire[]): ToGovernor[] {
  const messages: ToGovernor[] = [];
  for (const message of wire) {
    if (message?.type === "assign_packed") {
      messages.push({ type: "assign_tasks", tasks: unpackTasks(message) });
    } else messages.push(message);
  }
  return messages;
}

/** A batch this long is sent at once rather than at the end of the turn (bounds frame size). */
export const MAX_BATCH = 8192;

export interface LinkClosed {
  /** True when `close()` was called on this side. */
  byUs: boolean;
  reason: string;
}

/**
 * What the governor needs of its link to the server: the seam between the governor's message
 * handling and the socket (tests drive a `Governor` with `RecordingLink` from `test_util.ts`).
 */
export interface ServerConnection {
  /** Where the link goes (named in errors). */
  readonly url: string;
  /** Resolves once when the link is closed (by either side or by a failure). */
  readonly closed: Promise<LinkClosed>;
  /** Queues a message for the server. */
  send(message: ToServer): void;
  /** Sends what is queued and closes the link. */
  close(): void;
}

/** Opens a link whose incoming batches go to `onMessages`; rejects with a one-line error. */
export type ConnectToServer = (
  onMessages: (messages: ToGovernor[]) => void,
) => Promise<ServerConnection>;

/** Connects to the server's WebSocket at `host:port` (the governor's real link). */
export function webSocketConnector(
  host: string,
  port: number,
  headers: Record<string, string>,
): ConnectToServer {
  return (onMessages) => ServerLink.connect(host, port, onMessages, undefined, headers);
}

export class ServerLink implements ServerConnection {
  readonly url: string;
  /** Resolves once when the link is closed (by either side or by a failure). */
  readonly closed: Promise<LinkClosed>;
  /** Frames sent so far (for tests and statistics). */
  framesSent = 0;
  messagesSent = 0;
  #ws: WebSocket;
  #queue: ToServer[] = [];
  #flushScheduled = false;
  #encoder = new Encoder({ ignoreUndefined: true });
  #decoder = new Decoder();
  #closedByUs = false;
  #isClosed = false;

  private constructor(url: string, ws: WebSocket, onMessages: (m: ToGovernor[]) => void) {
    this.url = url;
    this.#ws = ws;
    this.closed = new Promise((resolve) => {
      ws.onclose = (ev) => {
        this.#isClosed = true;
        resolve({
          byUs: this.#closedByUs,
          reason: this.#closedByUs
            ? "closed by the governor"
            : `connection to the server closed (code ${ev.code}${
              ev.reason ? `: ${ev.reason}` : ""
            })`,
        });
      };
    });
    ws.onerror = () => {}; // always followed by close
    ws.onmessage = (ev) => {
      if (!(ev.data instanceof ArrayBuffer)) return; // binary frames only
      let messages: ToGovernor[];
      try {
        const decoded = this.#decoder.decode(new Uint8Array(ev.data));
        messages = unpackAssignments(
          (Array.isArray(decoded) ? decoded : [decoded]) as ToGovernorWire[],
        );
      } catch (e) {
        log.error(`undecodable frame from the server: ${(e as Error).message}`);
        return;
      }
      onMessages(messages);
    };
  }

  /**
   * Opens the link; rejects with a one-line error if the server cannot be reached within
   * `timeoutMs`.
   */
  static connect(
    host: string,
    port: number,
    onMessages: (messages: ToGovernor[]) => void,
    timeoutMs = 10_000,
    headers: Record<string, string> = {},
  ): Promise<ServerLink> {
    const url = `ws://${hostPort(host, port)}${GOVERNOR_WS_PATH}`;
    return new Promise((resolve, reject) => {
      let ws: WebSocket;
      try {
        ws = new WebSocket(url, { headers });
      } catch (e) {
        reject(new Error(`cannot connect to the server at ${url}: ${(e as Error).message}`));
        return;
      }
      ws.binaryType = "arraybuffer";
      let detail = "";
      const timer = setTimeout(() => {
        detail = `no answer within ${timeoutMs / 1000} s`;
        ws.close();
      }, timeoutMs);
      ws.onerror = (ev) => {
        const message = ev.message;
        if (message && !detail) detail = message;
        if (/\b401\b/.test(message ?? "")) {
          detail = "the server refused the governor: " +
            (headers.authorization ? "wrong cluster secret" : "it requires the cluster secret") +
            " (give it with --secret-file or RAIN_SECRET; see docs/security.md)";
        }
      };
      ws.onclose = () => {
        clearTimeout(timer);
        reject(
          new Error(`cannot connect to the server at ${url}: ${detail || "connection refused"}`),
        );
      };
      ws.onopen = () => {
        clearTimeout(timer);
        resolve(new ServerLink(url, ws, onMessages));
      };
    });
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  /** Queues a message; all messages queued in one turn go out as one frame. */
  send(message: ToServer): void {
    if (this.#queue.push(message) >= MAX_BATCH) {
      this.#flush();
    } else if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(this.#flushTurn);
    }
  }

  #flush = (): void => {
    const batch = this.#queue;
    if (batch.length === 0) return;
    this.#queue = [];
    if (this.#ws.readyState !== WebSocket.OPEN) return;
    this.#ws.send(this.#encoder.encode(batch));
    this.framesSent++;
    this.messagesSent += batch.length;
  };

  #flushTurn = (): void => {
    this.#flushScheduled = false;
    this.#flush();
  };

  /** Sends what is queued and closes the link. */
  close(): void {
    if (this.#isClosed || this.#closedByUs) return;
    this.#flush();
    this.#closedByUs = true;
    this.#ws.close(1000, "governor exits");
  }
}

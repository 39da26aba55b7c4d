/**
 * The server's client API, one method per endpoint (docs/protocol.md). Internal to the client.
 *
 * @module
 */
import { OBJECT_CONTENT_TYPE } from "./framing.ts";
import type { Lifeline } from "./lifeline.ts";
import type { Transport } from "./transport.ts";
import type { ServerInfoResponse, SessionId, UpdateResponse, WaitResponse } from "./types.ts";

/** Seconds a wait request blocks on the server before it answers `{"done": false}`. */
const WAIT_POLL_SECONDS = 20;
/** Constants up to this many bytes in total are sent as one array; above, streamed. */
const INLINE_BODY_BYTES = 1 << 20;

/** `"compact"` (MessagePack columns, the default) or `"json"` (docs/protocol.md). */
export type SubmitEncoding = "compact" | "json";

/** Data of one constant: bytes, or a local file of a known size (streamed at submit). */
export type ConstantData = Uint8Array | { path: string; size: number };

/** Calls of one client. */
export class Api {
  readonly transport: Transport;
  readonly lifeline: Lifeline;
  /** How submits are encoded (`ClientOptions.submitEncoding`). */
  readonly submitEncoding: SubmitEncoding;

  constructor(transport: Transport, lifeline: Lifeline, submitEncoding: SubmitEncoding) {
    this.transport = transport;
    this.lifeline = lifeline;
    this.submitEncoding = submitEncoding;
  }

  get clientId(): number {
    return this.lifeline.hello.client_id;
  }

  async newSession(spec: Record<string, unknown>): Promise<SessionId> {
    const answer = await this.transport.call<{ session_id: SessionId }>(
      "POST",
      "/sessions",
      {
        client_id: this.clientId,
        spec,
      },
    );
    return answer.session_id;
  }

  async closeSession(sid: SessionId): Promise<void> {
    // Not retried: a client closing while its server is gone does not wait for it.
    await this.transport.call("POST", `/sessions/${sid}/close`, undefined, false);
  }

  /**
   * Sends a submit: `head` (the framed JSON header, or a compact body's frames) of `contentType`,
   * then the constants' data.
   */
  async submit(
    sid: SessionId,
    { contentType, head }: { contentType: string; head: Uint8Array<ArrayBuffer> },
    constants: ConstantData[],
  ): Promise<void> {
    let inlineBytes = 0;
    let streamed = false;
    for (const data of constants) {
      if (data instanceof Uint8Array) inlineBytes += data.length;
      else streamed = true;
    }
    let inline: Uint8Array<ArrayBuffer> | undefined;
    if (!streamed && inlineBytes <= INLINE_BODY_BYTES) {
      const all = new Uint8Array(head.length + inlineBytes);
      all.set(head);
      let offset = head.length;
      for (const data of constants as Uint8Array[]) {
        all.set(data, offset);
        offset += data.length;
      }
      inline = all;
    }
    // Sent again (the same bytes: the server recognises a submit it applied already) while
    // the server cannot be reached; a streamed body is made anew for each attempt.
    await this.transport.retrying(async () => {
      const response = await this.transport.requestOnce(
        "POST",
        `/sessions/${sid}/submit`,
        {
          body: inline ?? submitStream(head, constants),
          headers: { "content-type": contentType },
        },
      );
      await response.body?.cancel();
    });
  }

  /** Blocks until done (asking again after each poll); the finished ids. */
  async wait(
    sid: SessionId,
    tasks: number[],
    objects: number[],
    mode: "all" | "some",
  ): Promise<WaitResponse> {
    const request = { tasks, objects, mode, timeout: WAIT_POLL_SECONDS };
    for (;;) {
      const answer = await this.transport.call<WaitResponse>(
        "POST",
        `/sessions/${sid}/wait`,
        request,
      );
      if (answer.done) return answer;
    }
  }

  async waitAll(sid: SessionId): Promise<void> {
    for (;;) {
      const answer = await this.transport.call<{ done: boolean }>(
        "POST",
        `/sessions/${sid}/wait_all`,
        { timeout: WAIT_POLL_SECONDS },
      );
      if (answer.done) return;
    }
  }

  update(
    sid: SessionId,
    tasks: number[],
    objects: number[],
  ): Promise<UpdateResponse> {
    return this.transport.call("POST", `/sessions/${sid}/update`, {
      tasks,
      objects,
    });
  }

  /** Stops the tasks and their dependents; the ids stopped. */
  async cancel(sid: SessionId, tasks: number[]): Promise<number[]> {
    const answer = await this.transport.call<{ tasks: number[] }>(
      "POST",
      `/sessions/${sid}/cancel`,
      { tasks },
    );
    return answer.tasks;
  }

  /** The failed tasks of a "continue" session, `{id, error}`. */
  async failedTasks(sid: SessionId): Promise<{ id: number; error: string }[]> {
    const answer = await this.transport.call<{ tasks: { id: number; error: string }[] }>(
      "GET",
      `/sessions/${sid}/failed_tasks`,
    );
    return answer.tasks;
  }

  /** Runs the failed tasks of a "continue" session and their dependents again; their ids. */
  async rerunFailed(sid: SessionId): Promise<number[]> {
    const answer = await this.transport.call<{ tasks: number[] }>(
      "POST",
      `/sessions/${sid}/rerun_failed`,
    );
    return answer.tasks;
  }

  async unkeep(sid: SessionId, objects: number[]): Promise<void> {
    await this.transport.call("POST", `/sessions/${sid}/unkeep`, { objects });
  }

  /** The response of a fetch, body unread (framed header, then the data). */
  fetch(sid: SessionId, id: number): Promise<Response> {
    return this.transport.requestOnce(
      "GET",
      `/sessions/${sid}/objects/${id}/data`,
      { headers: { accept: OBJECT_CONTENT_TYPE }, freshConnection: true },
    );
  }

  serverInfo(): Promise<ServerInfoResponse> {
    return this.transport.call("GET", "/server_info");
  }

  async close(): Promise<void> {
    this.transport.close();
    await this.lifeline.close();
  }
}

/** A submit body streamed: the header, then each constant (files read as they are sent). */
function submitStream(
  head: Uint8Array,
  constants: ConstantData[],
): ReadableStream<Uint8Array<ArrayBuffer>> {
  const parts = constants[Symbol.iterator]();
  let file: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let fileLeft = 0;
  let fileName = "";
  let pending: Uint8Array[] = [head];
  let pendingSize = head.length;
  return new ReadableStream<Uint8Array<ArrayBuffer>>({
    async pull(controller) {
      for (;;) {
        if (file) {
          const { value, done } = await file.read();
          if (done || value === undefined) {
            file = undefined;
            if (fileLeft !== 0) {
              throw new Error(
                `file '${fileName}' changed size while it was being sent`,
              );
            }
            continue;
          }
          fileLeft -= value.length;
          if (fileLeft < 0) {
            throw new Error(`file '${fileName}' grew while it was being sent`);
          }
          controller.enqueue(value as Uint8Array<ArrayBuffer>);
          return;
        }
        const next = parts.next();
        if (next.done) {
          if (pendingSize) controller.enqueue(joinParts(pending, pendingSize));
          pending = [];
          pendingSize = 0;
          controller.close();
          return;
        }
        const data = next.value;
        if (data instanceof Uint8Array) {
          pending.push(data);
          pendingSize += data.length;
          if (pendingSize >= INLINE_BODY_BYTES) {
            controller.enqueue(joinParts(pending, pendingSize));
            pending = [];
            pendingSize = 0;
            return;
          }
          continue;
        }
        if (pendingSize) {
          controller.enqueue(joinParts(pending, pendingSize));
          pending = [];
          pendingSize = 0;
        }
        fileName = data.path;
        fileLeft = data.size;
        file = (await Deno.open(data.path)).readable.getReader();
        if (controller.desiredSize !== null && controller.desiredSize <= 0) {
          return;
        }
      }
    },
    async cancel(reason) {
      await file?.cancel(reason);
    },
  }, { highWaterMark: 1 });
}

function joinParts(parts: Uint8Array[], size: number): Uint8Array<ArrayBuffer> {
  const only = parts.length === 1 ? parts[0] : undefined;
  if (only?.buffer instanceof ArrayBuffer) {
    return only as Uint8Array<ArrayBuffer>;
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

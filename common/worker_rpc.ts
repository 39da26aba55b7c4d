/**
 * Typed request/reply over a Worker: requests `{id, op, arg}`, replies `{id, ok: true, result}` or
 * `{id, ok: false, error}`. Used by the event log's writer (server/events/log.ts) and the
 * governor's sandbox (governor/sandbox.ts).
 *
 * Workers are started from source text through a blob URL (`startWorker`): the same code then
 * works from source, bundled (dist/rain.js) and compiled, with no module file to locate.
 */

/** `op` → its argument and result. */
export type RpcProtocol = Record<string, { arg: unknown; result: unknown }>;

/** What a failed request carries back (an Error's name and message, plus extras). */
export interface RpcError {
  name: string;
  message: string;
  [extra: string]: unknown;
}

export type RpcReply =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: RpcError };

export interface RpcRequest {
  id: number;
  op: string;
  arg: unknown;
}

/** Starts a module worker whose code is `source` (a blob URL; revoked once started). */
export function startWorker(source: string, options: WorkerOptions = {}): Worker {
  const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
  try {
    return new Worker(url, { ...options, type: "module" });
  } finally {
    URL.revokeObjectURL(url);
  }
}

export interface WorkerRpcOptions {
  /** Turns a failed request's error into the Error its caller sees (default: name + message). */
  error?: (e: RpcError) => Error;
  /** Messages from the worker that are not replies (e.g. progress or exit reports). */
  other?: (message: unknown) => void;
  /** Called once when the worker dies (an uncaught error); pending calls are rejected. */
  died?: (message: string) => void;
  /** The message pending and later calls fail with when the worker died (default: its error). */
  failure?: (message: string) => string;
}

/** The caller's side. */
export class WorkerRpc<P extends RpcProtocol> {
  readonly #worker: Worker;
  readonly #options: WorkerRpcOptions;
  readonly #calls = new Map<number, { resolve(r: unknown): void; reject(e: Error): void }>();
  #next = 1;
  #closed: Error | undefined;

  constructor(worker: Worker, options: WorkerRpcOptions = {}) {
    this.#worker = worker;
    this.#options = options;
    worker.onmessage = (e: MessageEvent) => this.#reply(e.data);
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault(); // a worker's failure must not take the process down
      const message = e.message ?? "the worker failed";
      this.#close(new Error(options.failure?.(message) ?? message));
      options.died?.(message);
    };
  }

  /** Whether the worker was terminated or died. */
  get closed(): boolean {
    return this.#closed !== undefined;
  }

  /** The id the next `call` takes (for replies the worker sends later under that id). */
  get nextId(): number {
    return this.#next;
  }

  /** Sends `op(arg)`; resolves with the worker's result, in the order the worker answers. */
  call<K extends keyof P & string>(
    op: K,
    arg: P[K]["arg"],
    transfer: Transferable[] = [],
  ): Promise<P[K]["result"]> {
    if (this.#closed) return Promise.reject(this.#closed);
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#calls.set(id, { resolve: resolve as (r: unknown) => void, reject });
      this.#worker.postMessage({ id, op, arg } satisfies RpcRequest, transfer);
    });
  }

  /** Sends a raw message (no reply expected), e.g. a one-way notice of the worker's protocol. */
  post(message: unknown, transfer: Transferable[] = []): void {
    if (!this.#closed) this.#worker.postMessage(message, transfer);
  }

  /** Stops the worker; pending calls fail with `reason`. */
  terminate(reason = "the worker was stopped"): void {
    if (this.#closed) return;
    this.#close(new Error(reason));
    this.#worker.terminate();
  }

  #close(error: Error): void {
    this.#closed ??= error;
    for (const call of this.#calls.values()) call.reject(error);
    this.#calls.clear();
  }

  #reply(m: unknown): void {
    if (!isReply(m)) return this.#options.other?.(m);
    const call = this.#calls.get(m.id);
    if (!call) return;
    this.#calls.delete(m.id);
    if (m.ok) call.resolve(m.result);
    else call.reject(this.#options.error?.(m.error) ?? rpcError(m.error));
  }
}

function isReply(m: unknown): m is RpcReply {
  return typeof m === "object" && m !== null && "id" in m && "ok" in m;
}

function rpcError(e: RpcError): Error {
  const error = new Error(e.message);
  error.name = e.name;
  return error;
}

export type RpcHandlers<P extends RpcProtocol> = {
  [K in keyof P]: (arg: P[K]["arg"]) => P[K]["result"] | Transferring<P[K]["result"]>;
};

/**
 * The worker's side: answers every request with its handler, strictly in arrival order
 * (handlers are synchronous). A handler that throws answers `{ok: false, error}`.
 */
export function serveRpc<P extends RpcProtocol>(handlers: RpcHandlers<P>): void {
  const scope = self as unknown as {
    onmessage: ((e: MessageEvent<RpcRequest>) => void) | null;
    postMessage(message: RpcReply, transfer?: Transferable[]): void;
  };
  scope.onmessage = (e) => {
    const { id, op, arg } = e.data;
    try {
      const handler = (handlers as Record<string, ((arg: unknown) => unknown) | undefined>)[op];
      if (handler === undefined) throw new Error(`unknown operation '${op}'`);
      const answer = handler(arg);
      if (answer instanceof Transferring) {
        scope.postMessage({ id, ok: true, result: answer.result }, answer.transfer);
      } else {
        scope.postMessage({ id, ok: true, result: answer });
      }
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      scope.postMessage({ id, ok: false, error: { name: error.name, message: error.message } });
    }
  };
}

/** A handler's result sent with transferred buffers (`return new Transferring(result, [buf])`). */
export class Transferring<T> {
  constructor(readonly result: T, readonly transfer: Transferable[]) {}
}

/**
 * The executor protocol: how a governor talks to the executor processes it starts (Python
 * `python3 -m rain.executor`, executors written with `executor/mod.ts`, or any other program).
 * docs/executors.md explains it for people writing a new executor library; this file is the
 * authoritative shape of every message and of the framing.
 *
 * Transport: a Unix stream socket. The governor listens on it and starts each executor with
 * `RAIN_EXECUTOR_SOCKET` (its path) and `RAIN_EXECUTOR_ID` in the environment; the executor
 * connects and sends `register`. Then, one at a time, the governor sends `call` and the executor
 * answers `result` or `failed`. The governor may also send `drop_session` at any time (the
 * executor handles it when it next reads). The executor exits when the socket is closed.
 *
 * Framing, both directions (all integers unsigned 32-bit big-endian):
 *
 * ```
 *   N  (4 bytes)  length of everything after this field
 *   H  (4 bytes)  length of the JSON header
 *   header        H bytes of UTF-8 JSON: one message (an object with "type")
 *   parts         N - 4 - H bytes: the binary parts of the message, back to back
 * ```
 *
 * A message with binary data lists the byte lengths of its parts in `parts` (in order; their sum
 * is N - 4 - H) and refers to part k as `part: k`. Data is never base64-encoded.
 */
import type { ObjectInfo, ObjectSpec, TaskSpec, UserAttributes } from "./attributes.ts";
import type { Id, SessionId } from "./ids.ts";
import type { ResourceAllocation } from "./resources.ts";

export const EXECUTOR_PROTOCOL_VERSION = 1;

/** Environment variables every executor is started with. */
export const EXECUTOR_ENV = {
  /** Path of the governor's Unix socket to connect to. */
  socket: "RAIN_EXECUTOR_SOCKET",
  /** Opaque token the executor sends back in `register.executor_id`. */
  id: "RAIN_EXECUTOR_ID",
  /** Executor type (the `<executor>` of task types, e.g. `py`). */
  type: "RAIN_EXECUTOR_TYPE",
  /** The executor's working directory (also its cwd when started): empty at every call. */
  workDir: "RAIN_EXECUTOR_WORK_DIR",
  /** Id (`ip:port`) of the governor, for task info. */
  governor: "RAIN_GOVERNOR_ID",
} as const;

/** Largest frame accepted (N), in bytes. */
export const MAX_FRAME_BYTES = 0xffff_ffff;

// ---------------------------------------------------------------------------------------------
// Executor → governor

/** First message on the connection. */
export interface ExecutorRegister {
  type: "register";
  protocol_version: number;
  /** `RAIN_EXECUTOR_ID` as received. */
  executor_id: string;
  /** Informational: `RAIN_EXECUTOR_TYPE`, the process id, the library name and version. */
  executor_type?: string;
  pid?: number;
  library?: string;
}

/** Task info an executor may set: appended `debug` text and `user` attributes. */
export interface ExecutorTaskInfo {
  debug?: string;
  user?: UserAttributes;
}

/** One output of a finished call, in `call.outputs` order: exactly one of `part|path|input`. */
export interface CallOutput {
  /** The bytes of a blob are binary part k of the frame. */
  part?: number;
  /**
   * A file (blob) or directory staged inside the executor's working directory (absolute, or
   * relative to it). The governor moves it into its storage: the executor must not touch it
   * afterwards.
   */
  path?: string;
  /** Same data as input N of the call (no copy is made). */
  input?: number;
  /** Content type of the data; must be a sub-type of the output's declared content type. */
  content_type?: string;
  /** Object info attributes: `user`, `debug`. */
  info?: { user?: UserAttributes; debug?: string };
}

export interface CallResult {
  type: "result";
  /** `call.spec.id`. */
  task: Id;
  outputs: CallOutput[];
  info?: ExecutorTaskInfo;
  /**
   * Indexes of inputs of this call the executor keeps (e.g. an unpickled function) until
   * `drop_session`: later calls of the same session send those objects as `cached: true`.
   */
  keep?: number[];
  /** Byte lengths of the binary parts. */
  parts?: number[];
}

export interface CallFailed {
  type: "failed";
  task: Id;
  /** What went wrong (e.g. a Python traceback); becomes `info.error` of the task. */
  error: string;
  /**
   * Class names of the exception raised, most specific first (e.g. the Python MRO); matched by
   * `policy.retry_on`.
   */
  exception_types?: string[];
  info?: ExecutorTaskInfo;
  keep?: number[];
}

export type FromExecutor = ExecutorRegister | CallResult | CallFailed;

// ---------------------------------------------------------------------------------------------
// Governor → executor

/** One input of a call: exactly one of `part`, `path`, `cached`. */
export interface CallInput {
  spec: ObjectSpec;
  /** Run-time object info known to the governor (`content_type` set by its producer, `user`). */
  info?: ObjectInfo;
  /** Bytes (for a directory: approximate). */
  size: number;
  /** Blob bytes are binary part k. */
  part?: number;
  /** A read-only file (blob) or directory (dir) in the governor's storage. Never modify it. */
  path?: string;
  /** The executor kept this object (`keep`) in an earlier call of this session. */
  cached?: true;
}

export interface Call {
  type: "call";
  /** The `<method>` of the task type `<executor>/<method>` (may be empty, as in `py/`). */
  method: string;
  /** The task spec (id, task_type, config, inputs, outputs, resources, name, user). */
  spec: TaskSpec;
  /** One per `spec.inputs`, same order. */
  inputs: CallInput[];
  /** Specs of the outputs to produce, one per `spec.outputs`, same order. */
  outputs: ObjectSpec[];
  /**
   * What the task was given: `cpus`, and when it asked for them `memory`, `gpus` (device ids),
   * `gpu_share`, `gpu_kind`, `custom` (common/resources.ts). The executor should make the task
   * use only these (e.g. set `CUDA_VISIBLE_DEVICES` for the call).
   */
  resources?: ResourceAllocation;
  /**
   * The run of the task: 1 (absent) the first time, 2, 3… when it is retried (`policy`) or run
   * again after a lost governor. Executors give it to the task (`ctx.attempt`,
   * `RAIN_TASK_ATTEMPT`).
   */
  attempt?: number;
  /**
   * Files for what the task prints (issue 17): the executor points its standard output and error
   * there for the call (created if missing, written appending; fd 1 and 2 where it can, so that
   * what the task starts lands there too) and back afterwards. The governor reads them once the
   * call is answered (or the executor died) as the task's output, then empties them. The same two
   * paths every call of an executor. Absent: the executor's own files.
   */
  output?: { stdout: string; stderr: string };
  parts?: number[];
}

/** Forget every object kept for this session (it ended). No answer. */
export interface DropSession {
  type: "drop_session";
  session: SessionId;
}

export type ToExecutor = Call | DropSession;

// ---------------------------------------------------------------------------------------------
// Framing

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A frame: the JSON message plus its binary parts (set as `parts` lengths on encoding). */
export interface Frame<T> {
  message: T;
  parts: Uint8Array[];
}

/** Encodes one frame into a single buffer. `message.parts` is set from `parts`. */
export function encodeFrame(message: object, parts: Uint8Array[] = []): Uint8Array {
  let partBytes = 0;
  if (parts.length) {
    const lengths = parts.map((p) => p.length);
    for (const n of lengths) partBytes += n;
    (message as { parts?: number[] }).parts = lengths;
  }
  const header = encoder.encode(JSON.stringify(message));
  const total = 4 + header.length + partBytes;
  if (total > MAX_FRAME_BYTES) throw new Error(`frame of ${total} bytes is too large`);
  const out = new Uint8Array(4 + total);
  const view = new DataView(out.buffer);
  view.setUint32(0, total);
  view.setUint32(4, header.length);
  out.set(header, 8);
  let offset = 8 + header.length;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/**
 * Decodes the body of one frame (the N bytes after the length field). Parts are views into
 * `body`. Throws on malformed frames.
 */
export function decodeFrameBody<T>(body: Uint8Array): Frame<T> {
  if (body.length < 4) throw new Error("frame too short");
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const headerLength = view.getUint32(0);
  if (4 + headerLength > body.length) throw new Error("frame header exceeds the frame");
  const message = JSON.parse(decoder.decode(body.subarray(4, 4 + headerLength)));
  if (typeof message !== "object" || message === null || typeof message.type !== "string") {
    throw new Error("frame header is not a message object");
  }
  const parts: Uint8Array[] = [];
  let offset = 4 + headerLength;
  const lengths = message.parts;
  if (lengths !== undefined) {
    if (!Array.isArray(lengths)) throw new Error("'parts' must be a list of lengths");
    for (const n of lengths) {
      if (!Number.isInteger(n) || n < 0 || offset + n > body.length) {
        throw new Error("'parts' do not match the frame");
      }
      parts.push(body.subarray(offset, offset + n));
      offset += n;
    }
  }
  if (offset !== body.length) throw new Error("frame has bytes beyond its parts");
  return { message: message as T, parts };
}

/**
 * Splits a byte stream into frames. `push` bytes as they arrive, then take complete frame
 * bodies with `next()`. Bodies are copies (safe to keep).
 */
export class FrameSplitter {
  #buf = new Uint8Array(64 * 1024);
  #start = 0;
  #end = 0;

  /** Space to read into (grown as needed); call `commit(n)` after reading n bytes into it. */
  space(min = 16 * 1024): Uint8Array {
    if (this.#buf.length - this.#end < min) {
      const used = this.#end - this.#start;
      const need = used + min;
      if (need > this.#buf.length || this.#start === 0) {
        const grown = new Uint8Array(Math.max(need, this.#buf.length * 2));
        grown.set(this.#buf.subarray(this.#start, this.#end));
        this.#buf = grown;
      } else {
        this.#buf.copyWithin(0, this.#start, this.#end);
      }
      this.#start = 0;
      this.#end = used;
    }
    return this.#buf.subarray(this.#end);
  }

  commit(n: number): void {
    this.#end += n;
  }

  push(bytes: Uint8Array): void {
    this.space(bytes.length).set(bytes);
    this.commit(bytes.length);
  }

  /** Bytes buffered and not yet returned as frames. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /** The next complete frame body, or undefined. */
  next(): Uint8Array | undefined {
    const available = this.#end - this.#start;
    if (available < 4) return undefined;
    const b = this.#buf;
    const s = this.#start;
    // available >= 4: the four length bytes are in the buffer.
    const n = ((b[s]! << 24) | (b[s + 1]! << 16) | (b[s + 2]! << 8) | b[s + 3]!) >>> 0;
    if (available < 4 + n) {
      // Make room for the whole frame at once.
      if (this.#buf.length - this.#start < 4 + n) this.space(4 + n - available);
      return undefined;
    }
    const body = b.slice(s + 4, s + 4 + n);
    this.#start += 4 + n;
    if (this.#start === this.#end) {
      this.#start = this.#end = 0;
      // Do not hold on to the room a huge frame needed.
      if (this.#buf.length > 4 * 1024 * 1024) this.#buf = new Uint8Array(64 * 1024);
    }
    return body;
  }
}

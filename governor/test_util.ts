/** Helpers shared by the governor tests. */
import { join } from "node:path";
import type { AssignedTask, ToGovernor, ToServer } from "../common/messages.ts";
import type { ConnectToServer, LinkClosed, ServerConnection } from "./server_link.ts";
import type { DataType, JsonValue } from "../common/attributes.ts";
import type { Id } from "../common/ids.ts";
import { removeTree } from "./fs_util.ts";
import { ObjectStore, type StoredObject } from "./object_store.ts";
import type { TaskContext } from "./task_context.ts";

export const enc = new TextEncoder();
export const dec = new TextDecoder();

/** A temp dir removed (read-only parts included) by `using`. */
export async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "rain-gov-test-" });
  return { path, [Symbol.asyncDispose]: () => removeTree(path) };
}

/** A store in a fresh work dir; closing removes everything. */
export async function tempStore(
  deleteListTimeout = 0,
  onRemoved?: (ids: Id[]) => void,
): Promise<{ store: ObjectStore; workDir: string } & AsyncDisposable> {
  const workDir = await Deno.makeTempDir({ prefix: "rain-gov-store-" });
  const store = new ObjectStore({ workDir, deleteListTimeout, onRemoved });
  await store.init();
  return {
    store,
    workDir,
    [Symbol.asyncDispose]: async () => {
      await store.close();
      await removeTree(workDir);
    },
  };
}

/** Builds the test tree: files, an executable, an empty dir, a symlink and a >100-char name. */
export async function makeSampleTree(root: string): Promise<string> {
  const long = "n".repeat(60) + "/" + "m".repeat(70) + ".txt";
  await Deno.mkdir(join(root, "sub/empty"), { recursive: true });
  await Deno.mkdir(join(root, "n".repeat(60)), { recursive: true });
  await Deno.writeTextFile(join(root, "a.txt"), "alpha");
  await Deno.writeTextFile(join(root, "sub/b.txt"), "bravo!");
  await Deno.writeTextFile(join(root, long), "long name");
  await Deno.writeTextFile(join(root, "run.sh"), "#!/bin/sh\necho hi\n");
  await Deno.chmod(join(root, "run.sh"), 0o755);
  await Deno.writeFile(join(root, "zero.bin"), new Uint8Array(0));
  await Deno.symlink("sub/b.txt", join(root, "link"));
  return long;
}

/** Sum of the file sizes of `makeSampleTree`. */
export const SAMPLE_TREE_SIZE = 5 + 6 + 9 + 18;

/** A sorted description of a tree: `path kind detail` lines (file content, link target). */
export async function describeTree(root: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(join(root, prefix))) {
    const rel = prefix + e.name;
    const p = join(root, rel);
    if (e.isSymlink) out.push(`${rel} symlink ${await Deno.readLink(p)}`);
    else if (e.isDirectory) {
      out.push(`${rel}/ dir`);
      out.push(...await describeTree(root, rel + "/"));
    } else {
      const exec = ((await Deno.lstat(p)).mode ?? 0) & 0o100 ? " x" : "";
      out.push(`${rel} file ${dec.decode(await Deno.readFile(p))}${exec}`);
    }
  }
  return out.sort();
}

/** Modes (permission bits) of every file and dir below root. */
export async function treeModes(root: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const walk = async (dir: string, prefix: string) => {
    for await (const e of Deno.readDir(dir)) {
      const p = join(dir, e.name);
      if (e.isSymlink) continue;
      out.set(prefix + e.name, (await Deno.lstat(p)).mode! & 0o777);
      if (e.isDirectory) await walk(p, prefix + e.name + "/");
    }
  };
  await walk(root, "");
  return out;
}

export async function readAll(
  stream: ReadableStream<Uint8Array>,
): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

let nextId = 100;
/** A fresh object id in session 1. */
export function newId(session = 1): Id {
  return [session, nextId++];
}

/** An assigned task (as the server would send it) for the given stored inputs. */
export function makeTask(
  taskType: string,
  config: JsonValue | undefined,
  inputs: StoredObject[],
  outputs: DataType[],
  session = 1,
): AssignedTask {
  const outIds = outputs.map(() => newId(session));
  return {
    spec: {
      id: newId(session),
      task_type: taskType,
      config,
      inputs: inputs.map((i) => ({ id: i.id })),
      outputs: outIds,
      resources: { cpus: 1 },
    },
    inputs: inputs.map((i) => ({
      spec: { id: i.id, data_type: i.dataType },
      size: i.size,
      source: { kind: "local" },
    })),
    outputs: outIds.map((id, k) => ({ id, data_type: outputs[k]! })),
  };
}

/** The context a task function gets, for direct calls in tests. */
export function makeContext(
  store: ObjectStore,
  task: AssignedTask,
  inputs: StoredObject[],
  signal: AbortSignal = new AbortController().signal,
): TaskContext {
  return {
    task,
    config: task.spec.config,
    inputs,
    store,
    signal,
    governorId: "test:1",
    resources: { cpus: 1 },
  };
}

/**
 * A server the governor reaches without a socket: every connection is a new `RecordingLink`.
 * `new Governor(options, server.connect)`; `refusing` makes connecting fail (the server is down).
 */
export class RecordingServer {
  readonly links: RecordingLink[] = [];
  refusing = false;
  #waiters: (() => void)[] = [];

  connect: ConnectToServer = (onMessages) => {
    if (this.refusing) return Promise.reject(new Error("cannot connect to recording://server"));
    const link = new RecordingLink();
    this.links.push(link);
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
    return link.connect(onMessages);
  };

  /** Connection `i` (0: the first), once the governor has made it. */
  async link(i: number): Promise<RecordingLink> {
    while (this.links.length <= i) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    return this.links[i]!;
  }
}

/**
 * The governor's link to the server, without a socket: records what the governor sends and
 * delivers server messages straight to its handler. `new Governor(options, link.connect)`.
 */
export class RecordingLink implements ServerConnection {
  readonly url = "recording://server";
  readonly sent: ToServer[] = [];
  readonly closed: Promise<LinkClosed>;
  #handler: ((messages: ToGovernor[]) => void) | undefined;
  #resolveClosed!: (c: LinkClosed) => void;
  #isClosed = false;
  #waiters: (() => void)[] = [];

  constructor() {
    this.closed = new Promise((resolve) => this.#resolveClosed = resolve);
  }

  /** The `ConnectToServer` handing this link to the governor. */
  connect: ConnectToServer = (onMessages) => {
    // A link is used once: a governor connecting again gets a new one (RecordingServer).
    if (this.#isClosed) return Promise.reject(new Error(`cannot connect to ${this.url}`));
    this.#handler = onMessages;
    return Promise.resolve(this);
  };

  get isClosed(): boolean {
    return this.#isClosed;
  }

  send(message: ToServer): void {
    if (this.#isClosed) return;
    this.sent.push(message);
    this.#wake();
  }

  close(): void {
    this.#end({ byUs: true, reason: "closed by the governor" });
  }

  /** The server side goes away. */
  lose(reason = "connection to the server closed"): void {
    this.#end({ byUs: false, reason });
  }

  /** Hands one batch of server messages to the governor. */
  deliver(...messages: ToGovernor[]): void {
    if (this.#handler === undefined) throw new Error("the governor has not connected yet");
    this.#handler(messages);
  }

  /** The first sent message matching `pred`, once it is sent. */
  async waitFor<T extends ToServer = ToServer>(
    pred: (m: ToServer) => m is T,
    what: string,
  ): Promise<T> {
    for (;;) {
      const found = this.sent.find(pred);
      if (found !== undefined) return found;
      if (this.#isClosed) throw new Error(`link closed while waiting for ${what}`);
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  #end(closed: LinkClosed): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#resolveClosed(closed);
    this.#wake();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}

/**
 * The governor's sandbox: a Deno Worker started with restricted permissions (the governor's
 * `[permissions]` / `--allow-*` lists plus its work dir) that does the part of `Load`, `LoadDir`,
 * `Store` and `Execute` that touches user paths or starts programs. Deno enforces the limits: an
 * operation outside them fails inside the worker with `NotCapable`, which becomes a
 * `PermissionViolation` naming the path or program. No path is compared by hand here.
 *
 * Symbolic links of a copied tree are created by the governor itself (Deno grants `symlink` only
 * without path restrictions), after Deno allowed the write of each link's path in the worker.
 *
 * User paths are resolved to their real path (symlinks followed) before the worker uses them, so
 * that Deno checks the file really read or written, not a link pointing elsewhere.
 *
 * The worker's code is the self-contained function `sandboxWorkerMain`, loaded from a blob URL
 * (common/worker_rpc.ts `startWorker`): that works the same from source, bundled and compiled (no
 * module file to locate). Requests and replies follow common/worker_rpc.ts.
 */
import { basename, dirname, join } from "node:path";
import { type RpcError, startWorker, WorkerRpc } from "../common/worker_rpc.ts";
import { makeDirsReadOnly, removeTree } from "./fs_util.ts";

/**
 * The real path of `path` (symlinks resolved), so that Deno checks what is really read or
 * written; for a path that does not exist yet, its real parent plus its name; else `path` as is
 * (then the worker reports what is wrong, without telling whether an outside path exists).
 */
async function canonical(path: string): Promise<string> {
  try {
    return await Deno.realPath(path);
  } catch {
    // does not exist (yet)
  }
  try {
    return join(await Deno.realPath(dirname(path)), basename(path));
  } catch {
    return path;
  }
}

/** Deno permissions of the worker (absent kinds: denied). */
export interface SandboxPermissions {
  read: string[] | true;
  write: string[] | true;
  run: string[] | true;
}

/** An operation refused by the governor's permissions. */
export class PermissionViolation extends Error {
  constructor(
    readonly kind: "read" | "write" | "run",
    readonly target: string,
    allowed: string,
  ) {
    super(
      `${kind === "run" ? `running '${target}'` : `${kind} access to '${target}'`} is not ` +
        `allowed by this governor's permissions (allowed: ${allowed})`,
    );
  }
}

/** A program started in the sandbox: the parts of `Deno.ChildProcess` a task uses. */
export interface SandboxChild {
  readonly pid: number;
  readonly stdin: WritableStream<Uint8Array>;
  readonly stdout: ReadableStream<Uint8Array>;
  readonly stderr: ReadableStream<Uint8Array>;
  readonly status: Promise<Deno.CommandStatus>;
  kill(signal?: Deno.Signal): void;
}

/** Starts programs: `Deno.Command(program, options).spawn()`, or the sandbox's equivalent. */
export type ProgramSpawner = (
  program: string,
  options: Deno.CommandOptions,
) => Promise<SandboxChild>;

interface WorkerError extends RpcError {
  denied?: { kind: "read" | "write" | "run"; target: string };
}

/** A request's argument and result (see `sandboxWorkerMain`'s `ops`). */
type Op<Arg, Result = Record<string, never>> = { arg: Arg; result: Result };
type SandboxProtocol = {
  loadFile: Op<
    { path: string; tmp: string; memoryLimit: number },
    { data?: ArrayBuffer; size: number }
  >;
  loadDir: Op<{ path: string; tmp: string }, { size: number; links: [string, string][] }>;
  storeBlob: Op<{ path: string; data: ArrayBuffer } | { path: string; src: string }>;
  storeDir: Op<{ src: string; path: string }, { links: [string, string][] }>;
  spawn: Op<
    { program: string; options: Record<string, unknown> },
    {
      pid: number;
      stdin?: WritableStream<Uint8Array>;
      stdout?: ReadableStream<Uint8Array>;
      stderr?: ReadableStream<Uint8Array>;
    }
  >;
};

/** A spawned program's exit, reported later under its spawn request's id. */
type ExitReport = { id: number; status: Deno.CommandStatus };

/** Result of `loadFile`: the bytes, or the size of the copy made at `tmp`. */
export type Loaded = { data: Uint8Array; size: number } | { data?: undefined; size: number };

export class Sandbox {
  #rpc: WorkerRpc<SandboxProtocol>;
  #statuses = new Map<number, (s: Deno.CommandStatus) => void>();
  #describe: (kind: "read" | "write" | "run") => string;
  #closed = false;

  /**
   * `describe(kind)` says what is allowed, for messages (e.g. "/data and the work dir").
   */
  constructor(
    permissions: SandboxPermissions,
    describe: (kind: "read" | "write" | "run") => string,
  ) {
    this.#describe = describe;
    const options = {
      name: "rain-sandbox",
      deno: {
        permissions: {
          read: permissions.read,
          write: permissions.write,
          run: permissions.run,
          net: false,
          env: false,
          sys: false,
          ffi: false,
          import: false,
        },
      },
    } as WorkerOptions;
    this.#rpc = new WorkerRpc(startWorker(`(${sandboxWorkerMain.toString()})();`, options), {
      error: (e) => this.#error(e),
      other: (m) => {
        const { id, status } = m as ExitReport;
        this.#statuses.get(id)?.(status);
        this.#statuses.delete(id);
      },
      failure: (message) => `the governor's sandbox worker failed: ${message}`,
    });
  }

  #error(e: WorkerError): Error {
    if (e.denied) {
      return new PermissionViolation(e.denied.kind, e.denied.target, this.#describe(e.denied.kind));
    }
    // Rebuild Deno's error class so that callers can tell e.g. NotFound apart.
    const ErrorClass = (Deno.errors as unknown as Record<string, ErrorConstructor>)[e.name];
    const error = ErrorClass ? new ErrorClass(e.message) : new Error(e.message);
    return error;
  }

  #call<K extends keyof SandboxProtocol>(
    op: K,
    arg: SandboxProtocol[K]["arg"],
    transfer: Transferable[] = [],
  ): Promise<SandboxProtocol[K]["result"]> {
    if (this.#closed) return Promise.reject(new Error("the governor is stopping"));
    return this.#rpc.call(op, arg, transfer);
  }

  /**
   * Reads the file at `path` (its real path): into memory when at most `memoryLimit` bytes, else
   * copied to `tmp` (made read-only).
   */
  async loadFile(path: string, tmp: string, memoryLimit: number): Promise<Loaded> {
    const r = await this.#call("loadFile", { path: await canonical(path), tmp, memoryLimit });
    if (r.data instanceof ArrayBuffer) return { data: new Uint8Array(r.data), size: r.size };
    return { size: r.size };
  }

  /** Copies the directory tree at `path` into `tmp` (files and directories read-only). */
  async loadDir(path: string, tmp: string): Promise<number> {
    const r = await this.#call("loadDir", { path: await canonical(path), tmp });
    try {
      // In the work dir: made here, where symlinks may be created.
      for (const [link, target] of r.links) await Deno.symlink(target, link);
      await makeDirsReadOnly(tmp);
    } catch (e) {
      await removeTree(tmp).catch(() => {});
      throw e;
    }
    return r.size;
  }

  /** Writes a blob (bytes, or the file `src`) to `path` like `cp` (see builtins/export.ts). */
  async storeBlob(to: string, blob: { data: Uint8Array } | { src: string }): Promise<void> {
    const path = await canonical(to);
    if ("data" in blob) {
      const copy = blob.data.slice();
      await this.#call("storeBlob", { path, data: copy.buffer }, [copy.buffer]);
    } else {
      await this.#call("storeBlob", { path, src: blob.src });
    }
  }

  /** Copies the directory `src` into `path` (created or merged, like `cp -rT`). */
  async storeDir(src: string, to: string): Promise<void> {
    const r = await this.#call("storeDir", { src, path: await canonical(to) });
    // Deno allowed writing each link's path (checked in the worker); links replace what is there.
    for (const [link, target] of r.links) {
      await Deno.remove(link).catch(() => {});
      await Deno.symlink(target, link);
    }
  }

  /** Starts a program from the sandbox: Deno checks it against the run permission. */
  spawn: ProgramSpawner = async (program, options) => {
    const id = this.#rpc.nextId; // the id #call below takes
    const status = new Promise<Deno.CommandStatus>((resolve) => this.#statuses.set(id, resolve));
    const o: Record<string, unknown> = {
      args: options.args?.map(String),
      cwd: options.cwd === undefined ? undefined : String(options.cwd),
      env: options.env,
      clearEnv: options.clearEnv,
      stdin: options.stdin ?? "inherit",
      stdout: options.stdout ?? "inherit",
      stderr: options.stderr ?? "inherit",
    };
    let r: SandboxProtocol["spawn"]["result"];
    try {
      r = await this.#call("spawn", { program: String(program), options: o });
    } catch (e) {
      this.#statuses.delete(id);
      throw e;
    }
    const pid = r.pid;
    const rpc = this.#rpc;
    const closed = () => this.#closed;
    const unavailable = (what: string) => {
      const fail = () => {
        throw new TypeError(`the program's ${what} is not piped`);
      };
      return { get: fail };
    };
    const child = {
      pid,
      status,
      kill(signal: Deno.Signal = "SIGTERM") {
        if (!closed()) rpc.post({ id: 0, op: "kill", arg: { pid, signal } });
      },
    } as Record<string, unknown>;
    for (const name of ["stdin", "stdout", "stderr"] as const) {
      if (r[name]) child[name] = r[name];
      else Object.defineProperty(child, name, unavailable(name));
    }
    return child as unknown as SandboxChild;
  };

  /** Stops the worker (the governor stops; its programs were killed already). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#rpc.terminate("the governor is stopping");
  }
}

/**
 * The worker. Self-contained (it is stringified): only Deno APIs and what is defined inside.
 * Every request `{id, op, ...}` is answered `{id, ok, result | error}`; a spawned program's exit
 * is reported `{id, status}` later.
 */
export function sandboxWorkerMain(): void {
  const scope = self as unknown as {
    onmessage: ((e: MessageEvent) => void) | null;
    postMessage(message: unknown, transfer?: Transferable[]): void;
  };
  const children = new Map<number, Deno.ChildProcess>();

  const join = (dir: string, name: string) => dir.endsWith("/") ? dir + name : `${dir}/${name}`;

  function readOnlyMode(mode: number | null) {
    return (mode ?? 0) & 0o111 ? 0o555 : 0o444;
  }
  function writableMode(mode: number | null) {
    return (mode ?? 0) & 0o111 ? 0o755 : 0o644;
  }

  async function copyFile(src: string, dst: string, writable: boolean): Promise<number> {
    if (writable) await Deno.remove(dst).catch(() => {});
    await Deno.copyFile(src, dst);
    // The source's mode and size: reading the destination may not be allowed (write-only).
    const info = await Deno.lstat(src);
    await Deno.chmod(dst, writable ? writableMode(info.mode) : readOnlyMode(info.mode));
    return info.size;
  }

  /**
   * Copies the tree `src` into `dst` (`writable`: may exist, merged; files get writable modes).
   * Symlinks are not made here — Deno allows `symlink` only with unrestricted permissions — but
   * listed in `links` as [path, target] for the governor to create; for a `writable` copy (a
   * user path) Deno is asked first whether the link's path may be written.
   */
  async function copyTree(
    src: string,
    dst: string,
    writable: boolean,
    links: [string, string][],
  ): Promise<number> {
    try {
      await Deno.mkdir(dst, { mode: 0o755 });
    } catch (e) {
      // Merging into an existing directory; if it is not one, writing into it fails.
      if (!(writable && e instanceof Deno.errors.AlreadyExists)) throw e;
    }
    let size = 0;
    for await (const entry of Deno.readDir(src)) {
      const s = join(src, entry.name);
      const d = join(dst, entry.name);
      if (entry.isSymlink) {
        if (writable) {
          const status = await Deno.permissions.query({ name: "write", path: d });
          if (status.state !== "granted") {
            throw new Deno.errors.NotCapable(`Requires write access to "${d}"`);
          }
        }
        links.push([d, await Deno.readLink(s)]);
      } else if (entry.isDirectory) {
        size += await copyTree(s, d, writable, links);
      } else if (entry.isFile) {
        size += await copyFile(s, d, writable);
      }
    }
    return size;
  }

  async function removeTree(path: string): Promise<void> {
    const chmodAll = async (p: string): Promise<void> => {
      await Deno.chmod(p, 0o755).catch(() => {});
      for await (const e of Deno.readDir(p)) if (e.isDirectory) await chmodAll(join(p, e.name));
    };
    try {
      await Deno.remove(path, { recursive: true });
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return;
      await chmodAll(path).catch(() => {});
      await Deno.remove(path, { recursive: true }).catch(() => {});
    }
  }

  type Msg = Record<string, unknown> & { id: number; op: string };
  type Result = { result: Record<string, unknown>; transfer?: Transferable[] };

  const ops: Record<string, (m: Msg) => Promise<Result>> = {
    async loadFile(m) {
      const path = m.path as string;
      const info = await Deno.stat(path);
      if (info.isDirectory) throw new Deno.errors.IsADirectory("is a directory");
      if (!info.isFile) throw new Error("not a regular file");
      if (info.size <= (m.memoryLimit as number)) {
        let data = await Deno.readFile(path);
        if (data.byteOffset !== 0 || data.byteLength !== data.buffer.byteLength) {
          data = data.slice();
        }
        const buffer = data.buffer as ArrayBuffer;
        return { result: { data: buffer, size: data.length }, transfer: [buffer] };
      }
      const tmp = m.tmp as string;
      try {
        await Deno.copyFile(path, tmp);
        await Deno.chmod(tmp, 0o444);
      } catch (e) {
        await removeTree(tmp);
        throw e;
      }
      return { result: { size: info.size } };
    },
    async loadDir(m) {
      const path = m.path as string;
      const info = await Deno.stat(path);
      if (!info.isDirectory) throw new Deno.errors.NotADirectory("not a directory");
      const tmp = m.tmp as string;
      try {
        const links: [string, string][] = [];
        const size = await copyTree(path, tmp, false, links);
        return { result: { size, links } };
      } catch (e) {
        await removeTree(tmp);
        throw e;
      }
    },
    async storeBlob(m) {
      // Only write access is needed here: a directory at the path fails the open (EISDIR).
      const path = m.path as string;
      if (m.data instanceof ArrayBuffer) {
        await Deno.writeFile(path, new Uint8Array(m.data));
      } else {
        const dst = await Deno.open(path, { write: true, create: true, truncate: true });
        let src: Deno.FsFile;
        try {
          src = await Deno.open(m.src as string);
        } catch (e) {
          dst.close();
          throw e;
        }
        await src.readable.pipeTo(dst.writable);
      }
      return { result: {} };
    },
    async storeDir(m) {
      const path = m.path as string;
      const links: [string, string][] = [];
      await copyTree(m.src as string, path, true, links);
      return { result: { links } };
    },
    // deno-lint-ignore require-await
    async spawn(m) {
      const o = m.options as Deno.CommandOptions;
      const child = new Deno.Command(m.program as string, o).spawn();
      children.set(child.pid, child);
      child.status.then((s) => {
        children.delete(child.pid);
        scope.postMessage({
          id: m.id,
          status: { success: s.success, code: s.code, signal: s.signal },
        });
      });
      const result: Record<string, unknown> = { pid: child.pid };
      const transfer: Transferable[] = [];
      if (o.stdin === "piped") transfer.push(result.stdin = child.stdin);
      if (o.stdout === "piped") transfer.push(result.stdout = child.stdout);
      if (o.stderr === "piped") transfer.push(result.stderr = child.stderr);
      return { result, transfer };
    },
  };

  scope.onmessage = async (e: MessageEvent) => {
    const { id, op, arg } = e.data as { id: number; op: string; arg: Record<string, unknown> };
    const m = { ...arg, id, op } as Msg;
    if (m.op === "kill") {
      try {
        children.get(m.pid as number)?.kill(m.signal as Deno.Signal);
      } catch {
        // already exited
      }
      return;
    }
    try {
      const op = ops[m.op];
      if (!op) throw new Error(`unknown sandbox operation '${m.op}'`);
      const { result, transfer } = await op(m);
      scope.postMessage({ id: m.id, ok: true, result }, transfer ?? []);
    } catch (err) {
      const error = err as Error;
      let denied: { kind: string; target: string } | undefined;
      if (error instanceof Deno.errors.NotCapable) {
        const d = /Requires (read|write|run) access to "((?:[^"\\]|\\.)*)"/.exec(error.message);
        if (d?.[1] && d[2] !== undefined) {
          denied = { kind: d[1], target: d[2].replace(/\\(.)/g, "$1") };
        }
      }
      scope.postMessage({
        id: m.id,
        ok: false,
        error: { name: error?.name ?? "Error", message: error?.message ?? String(err), denied },
      });
    }
  };
}

/**
 * The governor's data objects, keyed by id.
 *
 * - Blobs of at most `MEMORY_LIMIT` bytes live in memory (a `Uint8Array`, never copied: objects
 *   are immutable, so a clone shares the bytes).
 * - Larger blobs are read-only files (0444) at `<workDir>/data/<session>/<id>`; directory objects
 *   are real directories at the same place (files 0444/0555, directories 0555).
 * - Everything on disk is first written under `<workDir>/tmp/` and then renamed into place, so a
 *   half-written object is never visible; a clone of a file object is a hard link.
 * - Delayed deletion: `delete()` puts objects on a delete list; one timer (not one per object)
 *   removes them `deleteListTimeout` seconds later (0 = at once) and reports them, batched, via
 *   `onRemoved`. `revive()` takes an object off the list.
 * - `dropSession()` forgets all objects of a session at once and removes its directory in the
 *   background; later writes into a closed session are discarded.
 */
import type { DataType } from "../common/attributes.ts";
import type { Id, SessionId } from "../common/ids.ts";
import { formatId } from "../common/ids.ts";
import { join } from "node:path";
import {
  copyFile,
  copyTree,
  errorMessage,
  makeDirsReadOnly,
  removeTree,
  treeSize,
} from "./fs_util.ts";
import { extractTar, packDirectory } from "./tar.ts";
import { readBlobStream } from "./blob_stream.ts";
import { type ReadInto, writeBlobFile } from "./blob_file.ts";
import { DeleteList } from "./delete_list.ts";
import { Logger } from "../common/log.ts";

/** Blobs up to this many bytes are kept in memory; larger ones go to files. */
export const MEMORY_LIMIT = 256 * 1024;

const log = new Logger("governor.store");

export interface StoredObject {
  readonly id: Id;
  readonly dataType: DataType;
  /** Bytes of a blob; for a directory the sum of its file sizes. */
  readonly size: number;
  /** Content type set when the object was produced (info.content_type), if any. */
  readonly contentType?: string;
  /** A blob held in memory. */
  readonly data?: Uint8Array;
  /** A file blob or a directory on disk. */
  readonly path?: string;
}

/** Thrown when an object is written into a session that was closed meanwhile. */
export class SessionClosedError extends Error {
  constructor(session: SessionId) {
    super(`session ${session} was closed`);
    this.name = "SessionClosedError";
  }
}

export interface ObjectStoreOptions {
  workDir: string;
  /** Seconds between `delete()` and the real removal; 0 = at once. */
  deleteListTimeout: number;
  /** Objects really removed by the delete list (one call per batch). */
  onRemoved?: (ids: Id[]) => void;
}

export class ObjectStore {
  readonly dataDir: string;
  readonly tmpDir: string;
  #sessions = new Map<SessionId, Map<number, StoredObject>>();
  #closedSessions = new Set<SessionId>();
  #sessionDirs = new Set<SessionId>();
  #count = 0;
  #tmpCounter = 0;
  #onRemoved: (ids: Id[]) => void;
  #deleteList: DeleteList;
  /** Background file removals in flight. */
  #removals = new Set<Promise<void>>();

  constructor(options: ObjectStoreOptions) {
    this.dataDir = join(options.workDir, "data");
    this.tmpDir = join(options.workDir, "tmp");
    this.#deleteList = new DeleteList(
      Math.max(0, options.deleteListTimeout) * 1000,
      (due) => this.#removeDue(due),
    );
    this.#onRemoved = options.onRemoved ?? (() => {});
  }

  /** Creates the data and temp directories. */
  async init(): Promise<void> {
    await Deno.mkdir(this.dataDir, { recursive: true });
    await Deno.mkdir(this.tmpDir, { recursive: true });
  }

  /** Number of objects held (including those on the delete list). */
  get count(): number {
    return this.#count;
  }

  get(id: Id): StoredObject | undefined {
    return this.#sessions.get(id[0])?.get(id[1]);
  }

  has(id: Id): boolean {
    return this.get(id) !== undefined;
  }

  /** Every object held, for inspection. */
  *objects(): IterableIterator<StoredObject> {
    for (const m of this.#sessions.values()) yield* m.values();
  }

  /** Ids on the delete list, oldest first. */
  deleteListIds(): Id[] {
    return this.#deleteList.ids();
  }

  isSessionClosed(session: SessionId): boolean {
    return this.#closedSessions.has(session);
  }

  // -------------------------------------------------------------------------------------------
  // Writing

  /** A fresh path under the temp directory (on the same file system as the data). */
  tempPath(): string {
    return join(this.tmpDir, `t${++this.#tmpCounter}`);
  }

  #insert(obj: StoredObject): StoredObject {
    const session = obj.id[0];
    if (this.#closedSessions.has(session)) {
      if (obj.path) this.#removePath(obj.path);
      throw new SessionClosedError(session);
    }
    let m = this.#sessions.get(session);
    if (m === undefined) {
      m = new Map();
      this.#sessions.set(session, m);
    }
    const old = m.get(obj.id[1]);
    if (old !== undefined) {
      this.#deleteList.remove(old);
      if (old.path && old.path !== obj.path) this.#removePath(old.path);
    } else {
      this.#count++;
    }
    m.set(obj.id[1], obj);
    return obj;
  }

  /** Stores a blob whose bytes are in memory; above MEMORY_LIMIT it is written to a file. */
  putBlob(id: Id, data: Uint8Array, contentType?: string): Promise<StoredObject> {
    if (data.length <= MEMORY_LIMIT) {
      try {
        return Promise.resolve(this.putMemory(id, data, contentType));
      } catch (e) {
        return Promise.reject(e);
      }
    }
    return this.#putBlobFile(id, data, contentType);
  }

  /** Stores a blob in memory whatever its size (synchronous; the bytes are not copied). */
  putMemory(id: Id, data: Uint8Array, contentType?: string): StoredObject {
    return this.#insert({ id, dataType: "blob", size: data.length, contentType, data });
  }

  async #putBlobFile(id: Id, data: Uint8Array, contentType?: string): Promise<StoredObject> {
    const tmp = this.tempPath();
    try {
      await Deno.writeFile(tmp, data, { mode: 0o444, createNew: true });
    } catch (e) {
      await removeTree(tmp).catch(() => {});
      throw e;
    }
    return this.adopt(id, "blob", tmp, data.length, contentType);
  }

  /** Stores inline bytes: a blob, or a tar archive for a directory. */
  putBytes(
    id: Id,
    dataType: DataType,
    data: Uint8Array,
    contentType?: string,
  ): Promise<StoredObject> {
    if (dataType === "blob") return this.putBlob(id, data, contentType);
    return this.putStream(id, "dir", ReadableStream.from([data]), contentType, data.length);
  }

  /**
   * Stores an object from a stream: blob bytes (kept in memory while small, spilled to a file
   * once larger than MEMORY_LIMIT or when `sizeHint` says so) or a tar archive (directory).
   */
  async putStream(
    id: Id,
    dataType: DataType,
    stream: ReadableStream<Uint8Array>,
    contentType?: string,
    sizeHint?: number,
  ): Promise<StoredObject> {
    if (dataType === "dir") {
      const tmp = this.tempPath();
      let size: number;
      try {
        // An empty body is an empty directory (strict tar parsing would call it truncated).
        size = await extractTar(nonEmptyTar(stream), tmp);
        await makeDirsReadOnly(tmp);
      } catch (e) {
        await removeTree(tmp).catch(() => {});
        throw new Error(`bad directory archive for ${formatId(id)}: ${errorMessage(e)}`);
      }
      return this.adopt(id, "dir", tmp, size, contentType);
    }
    const blob = await readBlobStream(stream, MEMORY_LIMIT, () => this.tempPath(), sizeHint);
    if (blob.tmp === undefined) return this.putMemory(id, blob.data, contentType);
    return this.adopt(id, "blob", blob.tmp, blob.size, contentType);
  }

  /**
   * Stores a large blob of `length` bytes read straight from a socket (`writeBlobFile`): the
   * path of governor-to-governor transfers.
   */
  async putFromReader(
    id: Id,
    readInto: ReadInto,
    length: number,
    contentType?: string,
  ): Promise<StoredObject> {
    const tmp = this.tempPath();
    await writeBlobFile(readInto, length, tmp);
    return this.adopt(id, "blob", tmp, length, contentType);
  }

  /**
   * Moves a finished temp file or directory (from `tempPath()`) into place as object `id`.
   * A file must already be read-only; a directory must have read-only files and subdirectories
   * (`makeDirsReadOnly`): its top directory is made read-only here, after the rename.
   */
  async adopt(
    id: Id,
    dataType: DataType,
    tmp: string,
    size?: number,
    contentType?: string,
  ): Promise<StoredObject> {
    const session = id[0];
    if (this.#closedSessions.has(session)) {
      await removeTree(tmp).catch(() => {});
      throw new SessionClosedError(session);
    }
    if (size === undefined) {
      size = dataType === "dir" ? await treeSize(tmp) : (await Deno.lstat(tmp)).size;
    }
    const final = join(this.#sessionDir(session), String(id[1]));
    const old = this.get(id);
    if (old?.path === final) {
      // Replaced by a new version: move the old one out of the way first.
      const trash = this.tempPath();
      Deno.renameSync(final, trash);
      this.#removePath(trash);
    }
    try {
      Deno.renameSync(tmp, final);
      if (dataType === "dir") Deno.chmodSync(final, 0o555);
    } catch (e) {
      await removeTree(tmp).catch(() => {});
      if (this.#closedSessions.has(session)) throw new SessionClosedError(session);
      throw e;
    }
    return this.#insert({ id, dataType, size, contentType, path: final });
  }

  #sessionDir(session: SessionId): string {
    const dir = join(this.dataDir, String(session));
    if (!this.#sessionDirs.has(session)) {
      Deno.mkdirSync(dir, { recursive: true });
      this.#sessionDirs.add(session);
    }
    return dir;
  }

  /** Stores `src`'s data as object `id` with the given content type: shared bytes, hard links. */
  async clone(
    src: StoredObject,
    id: Id,
    contentType: string | undefined,
  ): Promise<StoredObject> {
    if (src.data !== undefined) return this.putMemory(id, src.data, contentType);
    const tmp = this.tempPath();
    try {
      if (src.dataType === "blob") {
        await copyFile(src.path!, tmp, "link");
      } else {
        await copyTree(src.path!, tmp, "link");
        await makeDirsReadOnly(tmp);
      }
    } catch (e) {
      await removeTree(tmp).catch(() => {});
      throw e;
    }
    return this.adopt(id, src.dataType, tmp, src.size, contentType);
  }

  // -------------------------------------------------------------------------------------------
  // Reading

  /** The bytes of a blob (read from its file if not in memory). */
  async readBytes(obj: StoredObject): Promise<Uint8Array> {
    if (obj.dataType !== "blob") throw new Error(`${formatId(obj.id)} is a directory, not a blob`);
    return obj.data ?? await Deno.readFile(obj.path!);
  }

  /** The data of an object as a stream: blob bytes, or a tar archive of a directory. */
  async openStream(obj: StoredObject): Promise<ReadableStream<Uint8Array>> {
    if (obj.data !== undefined) return ReadableStream.from([obj.data]);
    if (obj.dataType === "dir") return packDirectory(obj.path!);
    return (await Deno.open(obj.path!)).readable;
  }

  // -------------------------------------------------------------------------------------------
  // Deletion

  /**
   * Puts objects on the delete list. Objects not held are reported as removed at once (in the
   * same batch as objects removed immediately when the timeout is 0).
   */
  delete(ids: Id[]): void {
    const removedNow: Id[] = [];
    const deadline = performance.now() + this.#deleteList.timeoutMs;
    for (const id of ids) {
      const obj = this.get(id);
      if (obj === undefined) {
        if (!this.#closedSessions.has(id[0])) removedNow.push(id);
      } else if (this.#deleteList.timeoutMs === 0) {
        this.#remove(obj);
        removedNow.push(id);
      } else {
        this.#deleteList.add(obj, deadline);
      }
    }
    if (removedNow.length) this.#onRemoved(removedNow);
    this.#deleteList.arm();
  }

  /** Takes an object off the delete list; true if it was on it. */
  revive(id: Id): boolean {
    if (this.#deleteList.size === 0) return false;
    const obj = this.get(id);
    return obj !== undefined && this.#deleteList.remove(obj);
  }

  /** Removes the objects whose time on the delete list is up (unless replaced meanwhile). */
  #removeDue(due: StoredObject[]): void {
    const removed: Id[] = [];
    for (const obj of due) {
      if (this.get(obj.id) === obj) {
        this.#remove(obj);
        removed.push(obj.id);
      }
    }
    if (removed.length) this.#onRemoved(removed);
  }

  #remove(obj: StoredObject): void {
    const m = this.#sessions.get(obj.id[0]);
    if (m?.get(obj.id[1]) !== obj) return;
    m.delete(obj.id[1]);
    this.#count--;
    this.#deleteList.remove(obj);
    if (obj.path) this.#removePath(obj.path);
  }

  #removePath(path: string): void {
    const removal = removeTree(path)
      .catch((e) => log.warn(`cannot remove ${path}: ${errorMessage(e)}`))
      .finally(() => this.#removals.delete(removal));
    this.#removals.add(removal);
  }

  /** Settles when every background removal of files started so far has finished (for tests). */
  async removalsSettled(): Promise<void> {
    while (this.#removals.size) await Promise.all(this.#removals);
  }

  /** Forgets every object of a session now; its files are removed in the background. */
  dropSession(session: SessionId): void {
    this.#closedSessions.add(session);
    const m = this.#sessions.get(session);
    if (m !== undefined) {
      this.#count -= m.size;
      if (this.#deleteList.size) {
        for (const obj of m.values()) this.#deleteList.remove(obj);
      }
      this.#sessions.delete(session);
    }
    if (this.#sessionDirs.delete(session)) {
      const dir = join(this.dataDir, String(session));
      const trash = this.tempPath();
      try {
        Deno.renameSync(dir, trash);
        this.#removePath(trash);
      } catch (e) {
        log.warn(`cannot remove ${dir}: ${errorMessage(e)}`);
      }
    }
  }

  /** Stops the delete timer and removes all data and temp files. */
  async close(): Promise<void> {
    this.#deleteList.close();
    this.#sessions.clear();
    this.#count = 0;
    await removeTree(this.dataDir);
    await removeTree(this.tmpDir);
  }
}

/** Passes a tar stream through; an entirely empty stream becomes a valid empty archive. */
function nonEmptyTar(stream: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  let seen = false;
  return stream.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        if (chunk.length) seen = true;
        controller.enqueue(chunk);
      },
      flush(controller) {
        if (!seen) controller.enqueue(new Uint8Array(1024));
      },
    }),
  );
}

/**
 * Obtains the inputs of assigned tasks per their `ObjectSource` (docs/protocol.md, step 2):
 * `local` (already stored), `inline` (bytes in the message; a directory is a tar archive),
 * `governors` (HTTP GET from the first peer that answers) or `server` (large client constant on
 * the server's port). Data is streamed into the store: small blobs end in memory, large ones in
 * a file, directories are extracted. An object already held is used whatever the source says.
 * Concurrent requests for one object share one transfer.
 *
 * A peer can stall (SIGSTOP, a hung machine: it accepts connections and answers nothing) or be
 * lost; the server says so (`peerState`). Peers known stalled are tried last; a download from a
 * peer that stalls moves on to the next copy, if there is one; the downloads from a lost peer
 * fail (the server then runs the task again once the object is recomputed).
 */
import type { AssignedTask, DataTransfer, PeerState } from "../common/messages.ts";
import { API_PREFIX, OBJECT_DATA_PATH } from "../common/messages.ts";
import type { Id, SessionId } from "../common/ids.ts";
import { formatId, idKey } from "../common/ids.ts";
import { MEMORY_LIMIT, type ObjectStore, type StoredObject } from "./object_store.ts";
import { errorMessage } from "./fs_util.ts";
import { NotDirect, rawGet } from "./raw_get.ts";

export type AssignedInput = AssignedTask["inputs"][number];

/** `host:port` for a URL; IPv6 hosts are bracketed. */
export function hostPort(host: string, port: number): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** A governor id (`ip:port`) as a URL authority. */
function governorAuthority(governor: string): string {
  const i = governor.lastIndexOf(":");
  if (i < 0) return governor;
  return hostPort(governor.slice(0, i), Number(governor.slice(i + 1)));
}

export class InputFetcher {
  #store: ObjectStore;
  #serverAuthority: string;
  #pending = new Map<string, Promise<StoredObject>>();
  #aborts = new Map<SessionId, AbortController>();
  #onTransfer: ((transfer: DataTransfer) => void) | undefined;
  /** Sent with every download (the cluster secret). */
  headers: Record<string, string> = {};
  /** Peers whose heartbeat the server found overdue. */
  #stalled = new Set<string>();
  /** Downloads in flight from each peer; `last`: no other copy is left to try after it. */
  #fromPeer = new Map<string, Set<{ abort: AbortController; last: boolean }>>();

  /** `onTransfer` is told of every finished download (for the event log's timeline). */
  constructor(
    store: ObjectStore,
    serverHost: string,
    serverPort: number,
    onTransfer?: (transfer: DataTransfer) => void,
  ) {
    this.#store = store;
    this.#serverAuthority = hostPort(serverHost, serverPort);
    this.#onTransfer = onTransfer;
  }

  /** Number of transfers in flight. */
  get pending(): number {
    return this.#pending.size;
  }

  /**
   * The stored input; synchronous when already held (the common, cheap case), otherwise a
   * promise of the finished transfer.
   */
  obtain(input: AssignedInput): StoredObject | Promise<StoredObject> {
    const id = input.spec.id;
    const held = this.#store.get(id);
    if (held !== undefined) return held;
    const { source } = input;
    if (
      source.kind === "inline" && input.spec.data_type === "blob" &&
      source.data.length <= MEMORY_LIMIT
    ) {
      // Copied: the decoded bytes are a view into the whole received frame, which must not be
      // kept alive by one small object.
      return this.#store.putMemory(id, source.data.slice());
    }
    const key = idKey(id);
    const pending = this.#pending.get(key);
    if (pending !== undefined) return pending;
    const promise = this.#transfer(input).finally(() => this.#pending.delete(key));
    this.#pending.set(key, promise);
    return promise;
  }

  /** Aborts the transfers of a closed session. */
  closeSession(session: SessionId): void {
    const ac = this.#aborts.get(session);
    if (ac) {
      this.#aborts.delete(session);
      ac.abort(new Error(`session ${session} was closed`));
    }
  }

  /** The server says a peer stalled, was heard again or was lost. */
  peerState(peer: string, state: PeerState): void {
    if (state === "heard") {
      this.#stalled.delete(peer);
      return;
    }
    if (state === "lost") this.#stalled.delete(peer);
    else this.#stalled.add(peer);
    for (const download of this.#fromPeer.get(peer) ?? []) {
      if (state === "lost") download.abort.abort(new Error(`governor ${peer} was lost`));
      else if (!download.last) download.abort.abort(new Error(`governor ${peer} is stalled`));
    }
  }

  /** Aborts every transfer (the governor stops). */
  abortAll(): void {
    for (const session of [...this.#aborts.keys()]) this.closeSession(session);
  }

  #signal(session: SessionId): AbortSignal {
    let ac = this.#aborts.get(session);
    if (ac === undefined) {
      ac = new AbortController();
      this.#aborts.set(session, ac);
    }
    return ac.signal;
  }

  #transfer(input: AssignedInput): Promise<StoredObject> {
    const { spec, source, size } = input;
    const id = spec.id;
    switch (source.kind) {
      case "local":
        return Promise.reject(new Error(`input ${formatId(id)} is not stored on this governor`));
      case "inline":
        return this.#store.putBytes(id, spec.data_type, source.data);
      case "governors":
        return this.#fromGovernors(input, source.governors);
      case "server":
        return this.#download(
          id,
          spec.data_type,
          `http://${this.#serverAuthority}${API_PREFIX}/constants/${id[0]}/${id[1]}`,
          size,
          "server",
        ).catch((e) => {
          throw new Error(
            `cannot fetch input ${formatId(id)} from the server: ${errorMessage(e)}`,
          );
        });
      default:
        return Promise.reject(
          new Error(`input ${formatId(id)} has an unknown source ${JSON.stringify(source)}`),
        );
    }
  }

  async #fromGovernors(input: AssignedInput, governors: string[]): Promise<StoredObject> {
    const id = input.spec.id;
    const errors: string[] = [];
    const stalled = this.#stalled;
    const order = governors.some((g) => stalled.has(g))
      ? [...governors].sort((a, b) => Number(stalled.has(a)) - Number(stalled.has(b)))
      : governors;
    const path = `${OBJECT_DATA_PATH}/${id[0]}/${id[1]}`;
    for (const [i, governor] of order.entries()) {
      const url = `http://${governorAuthority(governor)}${path}`;
      const download = { abort: new AbortController(), last: i === order.length - 1 };
      let downloads = this.#fromPeer.get(governor);
      if (downloads === undefined) this.#fromPeer.set(governor, downloads = new Set());
      downloads.add(download);
      try {
        if (input.spec.data_type === "blob" && input.size > MEMORY_LIMIT) {
          // Large blobs: a plain GET read in large chunks (raw_get.ts); `fetch` for the rest.
          const raw = await this.#rawDownload(id, governor, path, download.abort.signal).catch(
            (e) => {
              if (e instanceof NotDirect) return undefined;
              throw e;
            },
          );
          if (raw !== undefined) return raw;
        }
        return await this.#download(
          id,
          input.spec.data_type,
          url,
          input.size,
          governor,
          download.abort.signal,
        );
      } catch (e) {
        if (this.#store.isSessionClosed(id[0])) throw e;
        errors.push(`${governor}: ${errorMessage(e)}`);
      } finally {
        downloads.delete(download);
        if (downloads.size === 0) this.#fromPeer.delete(governor);
      }
    }
    throw new Error(
      `cannot fetch input ${formatId(id)}: ${
        governors.length ? errors.join("; ") : "no governor holds it"
      }`,
    );
  }

  async #rawDownload(
    id: Id,
    governor: string,
    path: string,
    peer?: AbortSignal,
  ): Promise<StoredObject> {
    const t0 = performance.now();
    const startTime = new Date().toISOString();
    const i = governor.lastIndexOf(":");
    const session = this.#signal(id[0]);
    const res = await rawGet(
      governor.slice(0, i),
      Number(governor.slice(i + 1)),
      path,
      this.headers,
      peer === undefined ? session : AbortSignal.any([session, peer]),
    );
    const stored = await this.#store.putFromReader(id, res.readInto, res.length).finally(
      res.close,
    );
    this.#onTransfer?.({
      object: id,
      from: governor,
      bytes: stored.size,
      start_time: startTime,
      duration: (performance.now() - t0) / 1000,
    });
    return stored;
  }

  async #download(
    id: Id,
    dataType: "blob" | "dir",
    url: string,
    size: number,
    from: string,
    peer?: AbortSignal,
  ) {
    const t0 = performance.now();
    const startTime = new Date().toISOString();
    const session = this.#signal(id[0]);
    const signal = peer === undefined ? session : AbortSignal.any([session, peer]);
    const res = await fetch(url, { signal, headers: this.headers });
    if (!res.ok || res.body === null) {
      const text = await res.text().catch(() => "");
      throw new Error(`HTTP ${res.status} ${text.slice(0, 200)}`.trimEnd());
    }
    const length = Number(res.headers.get("content-length") ?? size);
    const stored = await this.#store.putStream(
      id,
      dataType,
      res.body,
      undefined,
      Number.isFinite(length) ? length : undefined,
    );
    this.#onTransfer?.({
      object: id,
      from,
      bytes: stored.size,
      start_time: startTime,
      duration: (performance.now() - t0) / 1000,
    });
    return stored;
  }
}

/**
 * Reading a kept object's bytes for a client: client data the server holds, or a stream from
 * a governor holding a copy, watched so that a lost or stalled holder never hangs the read
 * (issue 12). Used by the object-data route (client_api.ts) and its direct path
 * (direct_fetch.ts).
 */
import type { FetchHeader } from "../common/messages.ts";
import { OBJECT_DATA_PATH } from "../common/messages.ts";
import { ApiError } from "./errors.ts";
import { objectSpec } from "./state.ts";
import type { DataObject, GovernorState, Session } from "./state.ts";

/** The JSON header that precedes an object's bytes in a fetch answer (docs/protocol.md). */
export function fetchHeader(obj: DataObject): FetchHeader {
  return {
    id: obj.id,
    data_type: obj.dataType,
    content_type: obj.info.content_type ?? obj.contentType,
    size: obj.size,
    spec: objectSpec(obj),
    info: obj.info,
  };
}

/** Holders of `obj`, stalled ones last: one that answers now is better than one that may never. */
export function holdersOf(obj: DataObject): GovernorState[] {
  return [...obj.locations].sort((a, b) => Number(a.stalled) - Number(b.stalled));
}

/** Reads of a kept object tried before a fetch fails (its holders may die meanwhile). */
export const FETCH_ATTEMPTS = 5;
/** Pause before trying holders again when none answered and no loss was seen yet. */
export const FETCH_RETRY_MS = 200;

/** The object's bytes: client data held by the server, or streamed from a governor. */
export async function openObjectData(
  session: Session,
  obj: DataObject,
  headers?: Record<string, string>,
): Promise<ReadableStream<Uint8Array>> {
  const data = obj.constantData();
  if (data) return new Blob([data as BlobPart]).stream();
  if (obj.constantFile) return (await Deno.open(obj.constantFile)).readable;
  const errors: string[] = [];
  const holders = holdersOf(obj);
  for (const [i, governor] of holders.entries()) {
    const url = `http://${governor.id}${OBJECT_DATA_PATH}/${session.id}/${obj.id}`;
    const read = watchHolder(governor, i < holders.length - 1);
    try {
      const response = await fetch(url, { headers, signal: read.signal });
      read.answered();
      if (response.ok && response.body) return read.until(response.body);
      errors.push(`${governor.id}: HTTP ${response.status} ${await response.text()}`);
    } catch (e) {
      errors.push(`${governor.id}: ${(e as Error).message}`);
    }
    read.done();
  }
  throw new ApiError(
    "NotAvailable",
    `object ${session.id}/${obj.id} could not be read from any governor holding it` +
      (errors.length ? `: ${errors.join("; ")}` : " (none holds it)"),
  );
}

/**
 * A read from a governor that does not hang on it: aborted when the governor is lost (then the
 * object is recomputed, or read from another copy), and, while it has not answered, when it
 * stalls if another copy can be read (`moveOnWhenStalled`).
 */
export function watchHolder(governor: GovernorState, moveOnWhenStalled: boolean) {
  const ac = new AbortController();
  const onGone = () => ac.abort(governor.gone.signal.reason);
  const stall = governor.stall.signal; // replaced when heard again: this read watches this one
  const onStall = () => ac.abort(stall.reason);
  if (governor.gone.signal.aborted) onGone();
  else governor.gone.signal.addEventListener("abort", onGone, { once: true });
  if (moveOnWhenStalled) {
    if (stall.aborted) onStall();
    else stall.addEventListener("abort", onStall, { once: true });
  }
  const done = () => {
    governor.gone.signal.removeEventListener("abort", onGone);
    stall.removeEventListener("abort", onStall);
  };
  return {
    signal: ac.signal,
    /** The governor answered: only its loss stops the read now. */
    answered: () => stall.removeEventListener("abort", onStall),
    done,
    /** The body, watched until it is read to the end or cancelled. */
    until: (body: ReadableStream<Uint8Array>) =>
      body.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({ flush: done, cancel: done }),
      ),
  };
}

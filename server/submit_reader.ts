/**
 * Reads a submit body (see common/framing.ts) as a stream: the header, then each constant's data.
 * Small constants are kept in memory; large ones are spooled to files, so a submit of any size
 * is never buffered whole.
 */
import { join } from "node:path";
import { ExactReader } from "../common/framing.ts";
import type { SubmitHeader } from "../common/messages.ts";
import { ApiError } from "./errors.ts";
import type { ConstantData } from "./reactor.ts";
import type { Session } from "./state.ts";
import { type PlannedObject, planObjects, planTasks, type SubmitPlan } from "./submit.ts";

/** Constants larger than this go to a file instead of memory. */
export const SPOOL_THRESHOLD = 1024 * 1024;
const WRITE_CHUNK = 1024 * 1024;

export interface ReadSubmit {
  header: SubmitHeader;
  /** The header's JSON text as sent (UTF-8), for the event log. */
  headerBytes: Uint8Array;
  objects: PlannedObject[];
  constants: Map<number, ConstantData>;
}

export async function readSubmit(
  body: ReadableStream<Uint8Array> | null,
  session: Session,
  testMode: boolean,
  spoolDir: string,
): Promise<ReadSubmit> {
  if (!body) throw new ApiError("BadRequest", "submit has no body");
  const reader = new ExactReader(body);
  const constants = new Map<number, ConstantData>();
  try {
    let header: SubmitHeader;
    let headerBytes: Uint8Array;
    try {
      ({ header, bytes: headerBytes } = await reader.headerAndBytes<SubmitHeader>());
    } catch (e) {
      throw new ApiError("BadRequest", `submit header is not valid: ${(e as Error).message}`);
    }
    const objects = planObjects(session, header, testMode);
    for (const obj of objects) {
      if (obj.dataSize === undefined) continue;
      const what = `data of object ${session.id}/${obj.id} (${obj.dataSize} bytes)`;
      try {
        if (obj.dataSize <= SPOOL_THRESHOLD) {
          const data = (await reader.read(obj.dataSize)).slice();
          constants.set(obj.id, { data, size: obj.dataSize });
        } else {
          const file = join(spoolDir, `${session.id}-${obj.id}-${crypto.randomUUID()}`);
          constants.set(obj.id, { file, size: obj.dataSize });
          await spool(reader, file, obj.dataSize);
        }
      } catch (e) {
        throw new ApiError("BadRequest", `submit body ended before the ${what}: ${e}`);
      }
    }
    if (!await reader.atEnd()) {
      throw new ApiError("BadRequest", "submit body is longer than the data its header declares");
    }
    return { header, headerBytes, objects, constants };
  } catch (e) {
    await reader.cancel();
    await dropSpooled(constants);
    throw e;
  }
}

async function spool(reader: ExactReader, path: string, size: number): Promise<void> {
  const file = await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
  try {
    let left = size;
    while (left > 0) {
      const chunk = await reader.chunk(Math.min(left, WRITE_CHUNK));
      if (!chunk) throw new Error(`${left} bytes missing`);
      let written = 0;
      while (written < chunk.length) written += await file.write(chunk.subarray(written));
      left -= chunk.length;
    }
  } finally {
    file.close();
  }
}

export async function dropSpooled(constants: Map<number, ConstantData>): Promise<void> {
  for (const c of constants.values()) {
    if (c.file) await Deno.remove(c.file).catch(() => {});
  }
}

/**
 * A submit body decoded and checked against the session (nothing applied): the one decoder of
 * both a client's submit and a submit replayed from the journal (`contentType` as received).
 */
export async function readSubmitPlan(
  body: ReadableStream<Uint8Array> | null,
  _contentType: string | undefined,
  session: Session,
  testMode: boolean,
  spoolDir: string,
): Promise<{ plan: SubmitPlan; constants: Map<number, ConstantData> }> {
  const read = await readSubmit(body, session, testMode, spoolDir);
  try {
    const tasks = planTasks(session, read.header, read.objects);
    return {
      plan: { objects: read.objects, tasks, headerBytes: read.headerBytes },
      constants: read.constants,
    };
  } catch (e) {
    await dropSpooled(read.constants);
    throw e;
  }
}

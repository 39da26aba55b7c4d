/**
 * Reads a submit body as a stream: the header (the JSON of common/framing.ts, or the frames of a
 * compact body, server/submit_compact.ts, each decoded and checked as it arrives), then each
 * constant's data. Small constants are kept in memory; large ones are spooled to files, so a
 * submit of any size is never buffered whole.
 */
import { join } from "node:path";
import { ExactReader, SUBMIT_CONTENT_TYPE } from "../common/framing.ts";
import type { SubmitHeader } from "../common/messages.ts";
import { ApiError } from "./errors.ts";
import type { ConstantData } from "./reactor.ts";
import type { Session } from "./state.ts";
import {
  type PlannedObject,
  type PlannedTask,
  planObjects,
  planTasks,
  type SubmitPlan,
  TaskPlanner,
} from "./submit.ts";
import {
  COMPACT_SUBMIT_CONTENT_TYPE,
  decodeCompactFrame,
  MAX_FRAME_BYTES,
  planObjectFrame,
  planTaskFrame,
} from "./submit_compact.ts";

/** Constants larger than this go to a file instead of memory. */
export const SPOOL_THRESHOLD = 1024 * 1024;
const WRITE_CHUNK = 1024 * 1024;
/** Constants up to this size are read in blocks of about BLOCK_BYTES, each constant a view. */
const SMALL_CONSTANT = 4096;
const BLOCK_BYTES = 256 * 1024;

export interface ReadSubmit {
  /** The JSON header (JSON bodies; tasks are then planned by the caller: planTasks). */
  header?: SubmitHeader;
  /** The header's JSON text as sent (UTF-8), for the event log (JSON bodies only). */
  headerBytes?: Uint8Array;
  /** The tasks, checked while the frames were read (compact bodies only). */
  tasks?: PlannedTask[];
  objects: PlannedObject[];
  constants: Map<number, ConstantData>;
  /**
   * The body before the constants' data, exactly as received: `readSubmit` of these chunks
   * followed by the data, with the same content type, reads the same submit again.
   */
  received: { contentType: string; chunks: Uint8Array[] };
}

/** The media type of a Content-Type header: its parameters dropped, lower case. */
export function submitContentType(header: string | null | undefined): string {
  const type = (header ?? "").split(";")[0]!.trim().toLowerCase();
  return type === COMPACT_SUBMIT_CONTENT_TYPE ? type : SUBMIT_CONTENT_TYPE;
}

export async function readSubmit(
  body: ReadableStream<Uint8Array> | null,
  session: Session,
  testMode: boolean,
  spoolDir: string,
  contentType: string = SUBMIT_CONTENT_TYPE,
): Promise<ReadSubmit> {
  if (!body) throw new ApiError("BadRequest", "submit has no body");
  const reader = new ExactReader(body);
  const constants = new Map<number, ConstantData>();
  try {
    const read: Omit<ReadSubmit, "constants"> = submitContentType(contentType) ===
        COMPACT_SUBMIT_CONTENT_TYPE
      ? await readFrames(reader, session, testMode)
      : await readJsonHeader(reader, session, testMode);
    const objects = read.objects;
    for (let i = 0; i < objects.length; i++) {
      const obj = objects[i]!;
      if (obj.dataSize === undefined) continue;
      const what = `data of object ${session.id}/${obj.id} (${obj.dataSize} bytes)`;
      try {
        if (obj.dataSize <= SMALL_CONSTANT) {
          // A run of small constants is read as one block and shared by views of it: one
          // allocation instead of one per constant (graphs of many tiny constants).
          let end = i, total = 0;
          for (; end < objects.length && total < BLOCK_BYTES; end++) {
            const size = objects[end]!.dataSize;
            if (size === undefined) continue;
            if (size > SMALL_CONSTANT) break;
            total += size;
          }
          const block = (reader.readBuffered(total) ?? await reader.read(total)).slice();
          let at = 0;
          for (let k = i; k < end; k++) {
            const o = objects[k]!;
            if (o.dataSize === undefined) continue;
            constants.set(o.id, { data: block.subarray(at, at += o.dataSize), size: o.dataSize });
          }
          i = end - 1;
        } else if (obj.dataSize <= SPOOL_THRESHOLD) {
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
    return { ...read, constants };
  } catch (e) {
    await reader.cancel();
    await dropSpooled(constants);
    throw e;
  }
}

async function readJsonHeader(
  reader: ExactReader,
  session: Session,
  testMode: boolean,
): Promise<Omit<ReadSubmit, "constants">> {
  let header: SubmitHeader;
  let headerBytes: Uint8Array;
  try {
    ({ header, bytes: headerBytes } = await reader.headerAndBytes<SubmitHeader>());
  } catch (e) {
    throw new ApiError("BadRequest", `submit header is not valid: ${(e as Error).message}`);
  }
  const objects = planObjects(session, header, testMode);
  const prefix = new Uint8Array(4);
  new DataView(prefix.buffer).setUint32(0, headerBytes.length);
  const received = { contentType: SUBMIT_CONTENT_TYPE, chunks: [prefix, headerBytes] };
  return { header, headerBytes, objects, received };
}

/** The frames of a compact body, each decoded and checked before the next is read. */
async function readFrames(
  reader: ExactReader,
  session: Session,
  testMode: boolean,
): Promise<Omit<ReadSubmit, "constants">> {
  const chunks: Uint8Array[] = [];
  const objects: PlannedObject[] = [];
  const seen = new Set<number>();
  let planner: TaskPlanner | undefined;
  let taskCount = 0;
  for (let index = 0;; index++) {
    let bytes: Uint8Array;
    try {
      const prefix = await reader.read(4);
      chunks.push(prefix);
      const length = new DataView(prefix.buffer, prefix.byteOffset, 4).getUint32(0);
      if (length === 0) break;
      if (length > MAX_FRAME_BYTES) throw new Error(`${length} bytes is too large`);
      bytes = await reader.read(length);
      chunks.push(bytes);
    } catch (e) {
      throw new ApiError(
        "BadRequest",
        `compact submit frame ${index} is not valid: ${(e as Error).message}`,
      );
    }
    const frame = decodeCompactFrame(bytes, index);
    if (frame.kind === "objects") {
      if (planner) {
        throw new ApiError("BadRequest", `compact submit frame ${index}: objects after tasks`);
      }
      const planned = planObjectFrame(session, frame, testMode, seen, objects.length);
      for (const o of planned) objects.push(o);
    } else {
      planner ??= new TaskPlanner(session, objects);
      planTaskFrame(planner, frame, session.id, taskCount);
      taskCount += frame.count;
    }
  }
  const tasks = (planner ?? new TaskPlanner(session, objects)).finish();
  return {
    tasks,
    objects,
    received: { contentType: COMPACT_SUBMIT_CONTENT_TYPE, chunks },
  };
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
  contentType: string | undefined,
  session: Session,
  testMode: boolean,
  spoolDir: string,
): Promise<{ plan: SubmitPlan; constants: Map<number, ConstantData> }> {
  const read = await readSubmit(body, session, testMode, spoolDir, contentType);
  try {
    // Compact bodies are planned frame by frame while read; JSON ones here.
    const tasks = read.tasks ?? planTasks(session, read.header!, read.objects);
    return {
      plan: { objects: read.objects, tasks, headerBytes: read.headerBytes },
      constants: read.constants,
    };
  } catch (e) {
    await dropSpooled(read.constants);
    throw e;
  }
}

/**
 * What a submit sends: its tasks checked, the head of its body in the client's encoding
 * (docs/protocol.md) and the constants' data.
 *
 * @module
 */
import type { ConstantData, SubmitEncoding } from "./api.ts";
import { COMPACT_SUBMIT_CONTENT_TYPE, encodeCompactSubmit } from "./compact.ts";
import type { DataObject } from "./data.ts";
import { RainError } from "./errors.ts";
import { encodeHeader, SUBMIT_CONTENT_TYPE } from "./framing.ts";
import { objectState, taskState } from "./internal.ts";
import { jsonHeader } from "./submit_json.ts";
import type { Task } from "./task.ts";

/** Throws unless every input of `tasks` from an earlier submit is kept. */
export function checkInputsKept(tasks: Task[]): void {
  for (const task of tasks) {
    for (const obj of taskState(task).inputs) {
      if (obj.state !== undefined && !obj.isKept) {
        throw new RainError(
          `${task} uses ${obj} from an earlier submit that is not kept`,
        );
      }
    }
  }
}

/** The data of the constants among `objects`, in order. */
export function submitConstants(objects: DataObject[]): ConstantData[] {
  const constants: ConstantData[] = [];
  for (const obj of objects) {
    const data = objectState(obj).constant;
    if (data !== undefined) constants.push(data);
  }
  return constants;
}

/** The head of a submit body of `tasks` and `objects`, and its content type. */
export function submitHead(
  encoding: SubmitEncoding,
  tasks: Task[],
  objects: DataObject[],
): { contentType: string; head: Uint8Array<ArrayBuffer> } {
  return encoding === "json"
    ? { contentType: SUBMIT_CONTENT_TYPE, head: encodeHeader(jsonHeader(tasks, objects)) }
    : {
      contentType: COMPACT_SUBMIT_CONTENT_TYPE,
      head: encodeCompactSubmit(tasks.map(taskState), objects.map(objectState)),
    };
}

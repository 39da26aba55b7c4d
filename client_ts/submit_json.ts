/**
 * The JSON submit header (`submitEncoding: "json"`, docs/protocol.md): every task's and object's
 * spec, made for the occasion. Internal to the client.
 *
 * @module
 */
import type { DataObject } from "./data.ts";
import { constantSize } from "./compact.ts";
import { objectState } from "./internal.ts";
import type { Task } from "./task.ts";
import type { ObjectSpec, SubmitHeader, SubmittedObject, TaskSpec } from "./types.ts";

/** The JSON submit header of these tasks and objects (`submitEncoding: "json"`). */
export function jsonHeader(tasks: Task[], objects: DataObject[]): SubmitHeader {
  return {
    tasks: tasks.map((task) => taskJson(task.spec)),
    objects: objects.map((obj) => {
      const internal = objectState(obj);
      const entry: SubmittedObject = { spec: objectSpecJson(obj.spec) };
      if (internal.keep) entry.keep = true;
      if (internal.constant !== undefined) entry.data_size = constantSize(internal.constant);
      return entry;
    }),
  };
}

/** A task spec as the submit header lists it (empty values left out). */
function taskJson(spec: TaskSpec): TaskSpec {
  const out: TaskSpec = {
    id: spec.id,
    task_type: spec.task_type,
    inputs: spec.inputs,
    outputs: spec.outputs,
    resources: spec.resources,
  };
  if (spec.config !== undefined) out.config = spec.config;
  if (spec.name) out.name = spec.name;
  if (spec.user && Object.keys(spec.user).length) out.user = spec.user;
  if (spec.policy !== undefined) out.policy = spec.policy;
  return out;
}

/** An object spec as the submit header lists it (empty values left out). */
function objectSpecJson(spec: ObjectSpec): ObjectSpec {
  if (spec.user && Object.keys(spec.user).length === 0) {
    const { user: _, ...rest } = spec;
    return rest;
  }
  return spec;
}

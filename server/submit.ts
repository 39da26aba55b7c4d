/**
 * Validation of a submit. Everything is checked before anything is applied, so a rejected submit
 * leaves the session untouched. Each error names the offending id (`session/id`).
 */
import type { DataType, JsonValue, TaskPolicy, UserAttributes } from "../common/attributes.ts";
import { BUILDIN, checkBuiltinTask } from "../common/builtin_tasks.ts";
import type { SubmitHeader } from "../common/messages.ts";
import { ApiError } from "./errors.ts";
import { checkPolicy } from "./policy.ts";
import { checkRequest, needsMoreThanCpus, type ResourceRequest } from "../common/resources.ts";
import type { DataObject, Session } from "./state.ts";

/** A new object, checked. */
export interface PlannedObject {
  id: number;
  dataType: DataType;
  keep: boolean;
  label?: string;
  contentType?: string;
  user?: UserAttributes;
  /** Bytes uploaded with the submit (constants only). */
  dataSize?: number;
  testHint?: { governors: string[]; size: number };
}

/** A new task, checked; inputs and outputs are ids within the session. */
export interface PlannedTask {
  id: number;
  taskType: string;
  config?: JsonValue;
  inputs: number[];
  inputLabels?: (string | undefined)[];
  outputs: number[];
  cpus: number;
  /** Everything the task asks for, when it asks for more than cpus (common/resources.ts). */
  request?: ResourceRequest;
  name?: string;
  user?: UserAttributes;
  /** `spec.policy`, checked (server/policy.ts). */
  policy?: TaskPolicy;
}

export interface SubmitPlan {
  objects: PlannedObject[];
  tasks: PlannedTask[];
  /**
   * The submit header's JSON as the client sent it (UTF-8), if at hand: the event log turns it
   * into its `ClientSubmit` event off the server's thread.
   */
  headerBytes?: Uint8Array;
}

const TASK_TYPE = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.\-/]*$/;

function invalid(message: string): never {
  throw new ApiError("InvalidGraph", message);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function optionalString(v: unknown, what: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") invalid(`${what} must be a string`);
  return v;
}

function optionalUser(v: unknown, what: string): UserAttributes | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isRecord(v)) invalid(`${what}.user must be an object`);
  return Object.keys(v).length ? v as UserAttributes : undefined;
}

/**
 * Checks the shape of the header's objects only, so that the body's constant data can be read
 * (their sizes are needed before the rest is validated). Returns the planned objects.
 */
export function planObjects(session: Session, header: unknown, testMode: boolean): PlannedObject[] {
  if (!isRecord(header)) invalid("submit header must be a JSON object");
  const objects = header.objects ?? [];
  if (!Array.isArray(objects)) invalid("submit header 'objects' must be an array");
  return planObjectEntries(session, objects, testMode, new Set(), 0);
}

/**
 * `entries` (the header's `objects[offset..]`) checked; `seen` holds the ids of the submit's
 * objects so far (a submit may come in parts: server/submit_compact.ts).
 */
export function planObjectEntries(
  session: Session,
  entries: unknown[],
  testMode: boolean,
  seen: Set<number>,
  offset: number,
): PlannedObject[] {
  const sid = session.id;
  return entries.map((entry, at) => {
    const index = offset + at;
    if (!isRecord(entry) || !isRecord(entry.spec)) {
      invalid(`objects[${index}] must be {spec, keep?, data_size?}`);
    }
    const spec = entry.spec;
    const id = ownId(spec.id, sid, `objects[${index}].spec.id`);
    const name = `object ${sid}/${id}`;
    claimObjectId(session, seen, id);
    const dataType = spec.data_type ?? "blob";
    if (dataType !== "blob" && dataType !== "dir") {
      invalid(`${name}: data_type must be "blob" or "dir", got ${JSON.stringify(dataType)}`);
    }
    let dataSize: number | undefined;
    if (entry.data_size !== undefined && entry.data_size !== null) {
      if (!Number.isSafeInteger(entry.data_size) || (entry.data_size as number) < 0) {
        invalid(`${name}: data_size must be a non-negative integer`);
      }
      dataSize = entry.data_size as number;
    }
    const user = optionalUser(spec.user, name);
    const planned: PlannedObject = {
      id,
      dataType,
      keep: entry.keep === true,
      label: optionalString(spec.label, `${name} label`),
      contentType: optionalString(spec.content_type, `${name} content_type`),
      user,
      dataSize,
    };
    if (testMode && user && "_testing" in user) {
      const hint = user._testing;
      if (
        !isRecord(hint) || !Array.isArray(hint.governors) ||
        !hint.governors.every((g) => typeof g === "string") ||
        typeof hint.size !== "number"
      ) {
        invalid(`${name}: _testing must be {governors: [string], size: number}`);
      }
      planned.testHint = { governors: hint.governors as string[], size: hint.size as number };
    }
    return planned;
  });
}

/** Checks that object `id` is new in the session and in the submit (`seen`), and adds it. */
export function claimObjectId(session: Session, seen: Set<number>, id: number): void {
  const name = `object ${session.id}/${id}`;
  if (seen.has(id)) invalid(`${name} is listed twice in the submit`);
  seen.add(id);
  if (session.objects.has(id) || session.tasks.has(id)) {
    invalid(`${name} already exists in the session (ids must be unique)`);
  }
}

function ownId(value: unknown, sid: number, what: string): number {
  if (
    !Array.isArray(value) || value.length !== 2 || !Number.isSafeInteger(value[0]) ||
    !Number.isSafeInteger(value[1])
  ) {
    invalid(`${what} must be [session_id, id], got ${JSON.stringify(value)}`);
  }
  if (value[0] !== sid) {
    invalid(
      `${what} ${value[0]}/${value[1]} belongs to session ${value[0]}, not to session ${sid}`,
    );
  }
  return value[1];
}

/** Validates the tasks of a submit against the session and the planned objects. */
export function planTasks(
  session: Session,
  header: SubmitHeader,
  objects: PlannedObject[],
): PlannedTask[] {
  const rawTasks = (header as unknown as Record<string, unknown>).tasks ?? [];
  if (!Array.isArray(rawTasks)) invalid("submit header 'tasks' must be an array");
  const planner = new TaskPlanner(session, objects);
  planner.add(rawTasks);
  return planner.finish();
}

/**
 * The tasks of a submit checked as they come, in parts (`add`), against the session and all the
 * submit's objects; `finish` makes the checks that need every task (producers, cycles).
 */
export class TaskPlanner {
  readonly #session: Session;
  readonly #objects: PlannedObject[];
  readonly #newObjects = new Map<number, PlannedObject>();
  readonly #producerOf = new Map<number, number>();
  readonly #taskIds = new Set<number>();
  readonly #tasks: PlannedTask[] = [];

  constructor(session: Session, objects: PlannedObject[]) {
    this.#session = session;
    this.#objects = objects;
    for (const o of objects) this.#newObjects.set(o.id, o);
  }

  /** Checks the raw task specs `rawTasks` (the submit's `tasks[offset..]`). */
  add(rawTasks: unknown[], offset = 0): void {
    for (let i = 0; i < rawTasks.length; i++) {
      this.#tasks.push(this.#plan(rawTasks[i], offset + i));
    }
  }

  /**
   * A task without labels, config, name, user or policy, asking for one cpu (what the compact
   * decoder reads from columns alone): the same checks as `add`, none of the shape.
   */
  addSimple(id: number, taskType: string, inputs: number[], outputs: number[]): void {
    this.#claimTaskId(id);
    if (!this.#goodTypes.has(taskType)) {
      checkTaskType(`task ${this.#session.id}/${id}`, taskType);
      this.#goodTypes.add(taskType);
    }
    for (const output of outputs) this.#claimOutput(output, id);
    this.#tasks.push({
      id,
      policy: undefined,
      taskType,
      config: undefined,
      inputs,
      inputLabels: undefined,
      outputs,
      cpus: 1,
      request: undefined,
      name: undefined,
      user: undefined,
    });
  }

  readonly #goodTypes = new Set<string>();

  // Names of tasks in errors are made only for an error: a submit of 1M tasks would make 3M.
  #claimTaskId(id: number): void {
    const session = this.#session;
    if (this.#taskIds.has(id)) invalid(`task ${session.id}/${id} is listed twice in the submit`);
    this.#taskIds.add(id);
    if (session.tasks.has(id) || session.objects.has(id) || this.#newObjects.has(id)) {
      invalid(`task ${session.id}/${id} already exists in the session (ids must be unique)`);
    }
  }

  #claimOutput(outputId: number, taskId: number): void {
    const obj = this.#newObjects.get(outputId);
    const other = this.#producerOf.get(outputId);
    if (obj !== undefined && obj.dataSize === undefined && other === undefined) {
      this.#producerOf.set(outputId, taskId);
      return;
    }
    const session = this.#session;
    const sid = session.id;
    const name = `task ${sid}/${taskId}`;
    if (!obj) {
      if (session.objects.has(outputId)) {
        invalid(`${name}: output object ${sid}/${outputId} already has a producer`);
      }
      invalid(`${name}: output object ${sid}/${outputId} is not in the submit`);
    }
    if (obj.dataSize !== undefined) {
      invalid(`${name}: output object ${sid}/${outputId} is a constant with client data`);
    }
    invalid(
      `object ${sid}/${outputId} has two producers: tasks ${sid}/${other} and ${sid}/${taskId}`,
    );
  }

  #plan(spec: unknown, index: number): PlannedTask {
    const sid = this.#session.id;
    if (!isRecord(spec)) invalid(`tasks[${index}] must be a task spec object`);
    const id = ownId(spec.id, sid, `tasks[${index}].id`);
    const name = `task ${sid}/${id}`;
    this.#claimTaskId(id);
    checkTaskType(name, spec.task_type);
    const resources = spec.resources ?? {};
    if (!isRecord(resources)) invalid(`${name}: resources must be an object`);
    let request: ResourceRequest;
    try {
      request = checkRequest(resources);
    } catch (e) {
      invalid(`${name}: ${(e as Error).message}`);
    }
    const cpus = request.cpus;
    if (!Array.isArray(spec.inputs ?? [])) invalid(`${name}: inputs must be an array`);
    if (!Array.isArray(spec.outputs ?? [])) invalid(`${name}: outputs must be an array`);
    let labels: (string | undefined)[] | undefined;
    const inputs = ((spec.inputs ?? []) as unknown[]).map((input, i) => {
      if (!isRecord(input)) invalid(`${name}: inputs[${i}] must be {id, label?}`);
      const inputId = ownId(input.id, sid, `${name} inputs[${i}].id`);
      const label = optionalString(input.label, `${name} inputs[${i}].label`);
      if (label !== undefined) (labels ??= [])[i] = label;
      return inputId;
    });
    if (labels) labels.length = inputs.length;
    const outputs = ((spec.outputs ?? []) as unknown[]).map((output, i) => {
      const outputId = ownId(output, sid, `${name} outputs[${i}]`);
      this.#claimOutput(outputId, id);
      return outputId;
    });
    const user = optionalUser(spec.user, name);
    let policy: TaskPolicy | undefined;
    try {
      policy = checkPolicy(spec.policy);
    } catch (e) {
      invalid(`${name}: ${(e as Error).message}`);
    }
    return {
      id,
      policy,
      taskType: spec.task_type,
      config: spec.config === null ? undefined : spec.config as JsonValue | undefined,
      inputs,
      inputLabels: labels,
      outputs,
      cpus,
      request: needsMoreThanCpus(request) ? request : undefined,
      name: optionalString(spec.name, `${name} name`),
      user,
    };
  }

  /** The checks that need every task; answers the planned tasks. */
  finish(): PlannedTask[] {
    const session = this.#session;
    const sid = session.id;
    const objects = this.#objects;
    const newObjects = this.#newObjects;
    const producerOf = this.#producerOf;
    const tasks = this.#tasks;
    for (const o of objects) {
      if (o.dataSize === undefined && o.testHint === undefined && !producerOf.has(o.id)) {
        invalid(
          `object ${sid}/${o.id} has no producer: it is neither client data nor an output of a task`,
        );
      }
    }

    const dataTypeOf = (id: number): DataType =>
      newObjects.get(id)?.dataType ?? session.objects.get(id)!.dataType;
    const builtinMethods = new Map<string, string | undefined>();
    for (const task of tasks) {
      for (const inputId of task.inputs) {
        if (newObjects.has(inputId)) continue;
        const existing = session.objects.get(inputId);
        if (!existing) invalid(`task ${sid}/${task.id}: input object ${sid}/${inputId} is unknown`);
        checkReusable(existing, `task ${sid}/${task.id}`);
      }
      let method = builtinMethods.get(task.taskType);
      if (method === undefined && !builtinMethods.has(task.taskType)) {
        const [executor, name] = splitTaskType(task.taskType);
        builtinMethods.set(task.taskType, method = executor === BUILDIN ? name : undefined);
      }
      if (method !== undefined) {
        const error = checkBuiltinTask(
          method,
          task.config,
          task.inputs.map(dataTypeOf),
          task.outputs.map(dataTypeOf),
        );
        if (error) invalid(`task ${sid}/${task.id}: ${error}`);
      }
    }
    if (!inProducerOrder(tasks, producerOf)) checkAcyclic(sid, tasks, producerOf);
    return tasks;
  }
}

/**
 * An object from an earlier submit may be used again if it was kept and still exists, or if it is
 * a client constant (the server keeps those until the session closes, as Rain 0.4 did).
 */
function checkReusable(obj: DataObject, user: string): void {
  const name = `object ${obj.session.id}/${obj.id}`;
  if (obj.state === "removed") invalid(`${user}: input ${name} was already removed`);
  if (!obj.keep && !obj.isConstant) {
    invalid(`${user}: input ${name} is from an earlier submit and was not kept`);
  }
}

function checkTaskType(name: string, taskType: unknown): asserts taskType is string {
  if (typeof taskType !== "string" || !TASK_TYPE.test(taskType)) {
    invalid(`${name}: task_type must look like "executor/method", got ${JSON.stringify(taskType)}`);
  }
}

export function splitTaskType(taskType: string): [string, string] {
  const slash = taskType.indexOf("/");
  return [taskType.slice(0, slash), taskType.slice(slash + 1)];
}

/**
 * True when every task comes after the producers of its inputs, so there is no cycle: always the
 * case for the clients here (a task's inputs exist before it does), and one lookup per input.
 */
function inProducerOrder(tasks: PlannedTask[], producerOf: Map<number, number>): boolean {
  const seen = new Set<number>();
  for (const t of tasks) {
    for (const input of t.inputs) {
      const producer = producerOf.get(input);
      if (producer !== undefined && !seen.has(producer)) return false;
    }
    seen.add(t.id);
  }
  return true;
}

/** Kahn's algorithm over the new tasks (old objects cannot depend on new tasks). */
function checkAcyclic(sid: number, tasks: PlannedTask[], producerOf: Map<number, number>): void {
  const pending = new Map<number, number>();
  const dependents = new Map<number, number[]>();
  for (const t of tasks) {
    let count = 0;
    for (const input of t.inputs) {
      const producer = producerOf.get(input);
      if (producer === undefined) continue;
      count++;
      let list = dependents.get(producer);
      if (!list) dependents.set(producer, list = []);
      list.push(t.id);
    }
    pending.set(t.id, count);
  }
  const queue = tasks.filter((t) => pending.get(t.id) === 0).map((t) => t.id);
  let done = 0;
  while (queue.length) {
    const id = queue.pop()!;
    done++;
    for (const d of dependents.get(id) ?? []) {
      const left = pending.get(d)! - 1;
      pending.set(d, left);
      if (left === 0) queue.push(d);
    }
  }
  if (done < tasks.length) {
    const inCycle = tasks.find((t) => pending.get(t.id)! > 0)!;
    invalid(`task ${sid}/${inCycle.id} is in (or depends on) a dependency cycle`);
  }
}

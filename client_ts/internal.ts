/**
 * State of sessions, objects and tasks that the client keeps for itself, hidden (a weak map,
 * non-enumerable symbol properties) so that the public classes show only their public API.
 * Internal to the client.
 *
 * @module
 */
import type { Api, ConstantData } from "./api.ts";
import type { DataObject } from "./data.ts";
import { RainError } from "./errors.ts";
import type { Session } from "./session.ts";
import type { Task } from "./task.ts";
import type { DataType, Id, JsonValue, ObjectSpec, TaskPolicy, TaskSpec } from "./types.ts";

/** The first id of a session's shared task/object counter. */
export const FIRST_ID = 10;
/**
 * Tasks of a session that record where they were created unless `recordSites` is on: a stack
 * costs ~3 µs, more than all the rest of making a task, and a big graph is built in a loop.
 */
export const SITE_TASKS = 1000;

/** What a session keeps besides its public fields. */
export interface SessionState {
  /** Undefined for an offline session. */
  api: Api | undefined;
  nextId: number;
  active: boolean;
  unsubmittedTasks: Task[];
  unsubmittedObjects: DataObject[];
  /** Submitted tasks by id number: for waitAll and to explain failures. */
  submittedTasks: Map<number, Task>;
  /** Text of the TaskError once the session failed. */
  failure: string | undefined;
  /** How many more tasks record where they were created (Infinity with `recordSites`). */
  sitesLeft: number;
  /** Prints tasks' output as it comes (`newSession({ echo })`); stopped by `close()`. */
  echo?: { stop(): Promise<void> };
}

/**
 * What an object is and keeps besides its public fields: the columns of a compact submit
 * (compact.ts) are read from here, and its spec is made only when asked for.
 */
export interface ObjectState {
  /** The id number within the session. */
  n: number;
  label: string | undefined;
  dataType: DataType;
  contentType: string | undefined;
  keep: boolean;
  /** Data of a constant. */
  constant: ConstantData | undefined;
  /** The task whose output this is. */
  producer: Task | undefined;
  /** `[session id, n]`, made when asked for. */
  id: Id | undefined;
  /** The spec, made when asked for; from then on it is what is submitted. */
  spec: ObjectSpec | undefined;
}

/** What a task is and keeps besides its public fields (its spec is made when asked for). */
export interface TaskState {
  /** The id number within the session. */
  n: number;
  taskType: string;
  inputs: DataObject[];
  /** The inputs' labels, or undefined when none has one. */
  labels: (string | undefined)[] | undefined;
  outputs: DataObject[];
  resources: TaskSpec["resources"];
  config: JsonValue | undefined;
  name: string | undefined;
  policy: TaskPolicy | undefined;
  /**
   * Where in the user's code the task was created (a stack, formatted when needed); recorded for
   * the first `SITE_TASKS` tasks of a session, or every one with `recordSites`.
   */
  site: Error | undefined;
  id: Id | undefined;
  spec: TaskSpec | undefined;
}

const sessions = new WeakMap<Session, SessionState>();
// Objects and tasks keep their state in a private field (not in weak maps, nor symbol properties:
// a big graph has millions of them, and weak-map entries cost the garbage collector about half
// the time of building a graph). Their classes hand out the readers here.
let readObjectState: (obj: DataObject) => ObjectState;
let readTaskState: (task: Task) => TaskState;

export function registerSession(session: Session, state: SessionState): void {
  sessions.set(session, state);
}

export function sessionState(session: Session): SessionState {
  const state = sessions.get(session);
  if (!state) throw new TypeError(`${session} is not a session`);
  return state;
}

/** Called once by DataObject's class: how to read an object's state. */
export function setObjectStateReader(reader: (obj: DataObject) => ObjectState): void {
  readObjectState = reader;
}

export function objectState(obj: DataObject): ObjectState {
  return readObjectState(obj);
}

/** Called once by Task's class: how to read a task's state. */
export function setTaskStateReader(reader: (task: Task) => TaskState): void {
  readTaskState = reader;
}

export function taskState(task: Task): TaskState {
  return readTaskState(task);
}

/** Throws unless the session is open. */
export function checkOpen(session: Session): SessionState {
  const state = sessionState(session);
  if (!state.active) throw new RainError(`${session} is closed`);
  return state;
}

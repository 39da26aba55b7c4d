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
import type { Id } from "./types.ts";

/** The first id of a session's shared task/object counter. */
export const FIRST_ID = 10;

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
  /** Prints tasks' output as it comes (`newSession({ echo })`); stopped by `close()`. */
  echo?: { stop(): Promise<void> };
}

/** What an object keeps besides its public fields. */
export interface ObjectState {
  keep: boolean;
  /** Data of a constant. */
  constant: ConstantData | undefined;
  /** The task whose output this is. */
  producer: Task | undefined;
}

/** What a task keeps besides its public fields. */
export interface TaskState {
  /** Where in the user's code the task was created (a stack, formatted when needed). */
  site: Error;
}

const sessions = new WeakMap<Session, SessionState>();
// Objects and tasks keep their state under a module-private symbol, not in weak maps: a big graph
// has millions of them, and weak-map entries cost the garbage collector far more (about half
// the time of building a graph). Non-enumerable: printing shows only the public API.
const OBJECT_STATE = Symbol("rain object state");
const TASK_STATE = Symbol("rain task state");
type WithState<T> = { [OBJECT_STATE]?: ObjectState; [TASK_STATE]?: TaskState } & T;

export function registerSession(session: Session, state: SessionState): void {
  sessions.set(session, state);
}

export function sessionState(session: Session): SessionState {
  const state = sessions.get(session);
  if (!state) throw new TypeError(`${session} is not a session`);
  return state;
}

export function registerObject(obj: DataObject, state: ObjectState): void {
  Object.defineProperty(obj, OBJECT_STATE, { value: state });
}

export function objectState(obj: DataObject): ObjectState {
  return (obj as WithState<DataObject>)[OBJECT_STATE]!;
}

export function registerTask(task: Task, state: TaskState): void {
  Object.defineProperty(task, TASK_STATE, { value: state });
}

export function taskState(task: Task): TaskState {
  return (task as WithState<Task>)[TASK_STATE]!;
}

/** Throws unless the session is open. */
export function checkOpen(session: Session): SessionState {
  const state = sessionState(session);
  if (!state.active) throw new RainError(`${session} is closed`);
  return state;
}

/** A new id in the session. */
export function newId(session: Session): Id {
  const state = checkOpen(session);
  return [session.id, state.nextId++];
}

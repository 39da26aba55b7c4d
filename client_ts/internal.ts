/**
 * State of sessions, objects and tasks that the client keeps for itself: held in weak maps here
 * so that the public classes show only their public API. Internal to the client.
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
const objects = new WeakMap<DataObject, ObjectState>();
const tasks = new WeakMap<Task, TaskState>();

export function registerSession(session: Session, state: SessionState): void {
  sessions.set(session, state);
}

export function sessionState(session: Session): SessionState {
  const state = sessions.get(session);
  if (!state) throw new TypeError(`${session} is not a session`);
  return state;
}

export function registerObject(obj: DataObject, state: ObjectState): void {
  objects.set(obj, state);
}

export function objectState(obj: DataObject): ObjectState {
  return objects.get(obj)!;
}

export function registerTask(task: Task, state: TaskState): void {
  tasks.set(task, state);
}

export function taskState(task: Task): TaskState {
  return tasks.get(task)!;
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

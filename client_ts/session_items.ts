/**
 * The tasks and objects a session's requests name: their ids checked, and the server's answers
 * applied to them.
 *
 * @module
 */
import { DataObject } from "./data.ts";
import { RainError } from "./errors.ts";
import type { Session, SessionItem } from "./session.ts";
import { Task } from "./task.ts";
import type { UpdateResponse, WaitResponse } from "./types.ts";

/** Id numbers of `items`, checked: submitted, of `session`. */
export function splitItems(
  session: Session,
  items: Iterable<SessionItem>,
  action: string,
): [number[], number[]] {
  const tasks: number[] = [];
  const objects: number[] = [];
  for (const item of items) {
    let target: number[];
    if (item instanceof Task) target = tasks;
    else if (item instanceof DataObject) target = objects;
    else {throw new TypeError(
        `cannot ${action} ${item}: only tasks and data objects`,
      );}
    if (item.session !== session) {
      throw new RainError(`${item} belongs to another session than ${session}`);
    }
    if (item.state === undefined) {
      throw new RainError(`cannot ${action} ${item}: it was not submitted`);
    }
    target.push(item.id[1]);
  }
  return [tasks, objects];
}

/** The items a `some` wait found finished, now in state `finished`. */
export function markFinished(
  list: SessionItem[],
  answer: WaitResponse,
): { tasks: Task[]; objects: DataObject[] } {
  const doneTasks = new Set(answer.tasks);
  const doneObjects = new Set(answer.objects);
  const tasks: Task[] = [];
  const objects: DataObject[] = [];
  for (const item of list) {
    if (item instanceof Task && doneTasks.has(item.id[1])) {
      item.state = "finished";
      tasks.push(item);
    } else if (item instanceof DataObject && doneObjects.has(item.id[1])) {
      item.state = "finished";
      objects.push(item);
    }
  }
  return { tasks, objects };
}

/** Sets the state and info of each item the answer of `update` holds. */
export function applyUpdate(list: SessionItem[], answer: UpdateResponse): void {
  const tasks = new Map(answer.tasks.map((t) => [t.id, t]));
  const objects = new Map(answer.objects.map((o) => [o.id, o]));
  for (const item of list) {
    if (item instanceof Task) {
      const entry = tasks.get(item.id[1]);
      if (entry) {
        item.state = entry.state;
        item.info = entry.info ?? {};
      }
    } else {
      const entry = objects.get(item.id[1]);
      if (entry) {
        item.state = entry.state;
        item.info = entry.info ?? {};
      }
    }
  }
}

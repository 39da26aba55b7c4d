/**
 * The server's bookkeeping: clients, sessions, tasks, data objects and governors.
 *
 * Specs are not kept as parsed JSON: their fields live on the entities (a compact layout matters
 * at a million tasks) and are rebuilt on demand by `taskSpec()` / `objectSpec()`.
 *
 * The entities live in state_object.ts, state_task.ts and state_governor.ts; this module
 * re-exports them beside `Client` and `Session`.
 */
import type { ClientId, SessionId } from "../common/ids.ts";
import { IdMap } from "./id_map.ts";
import type { DataObject } from "./state_object.ts";
import type { Task } from "./state_task.ts";
export { EMPTY_INFO, NO_GOVERNORS, NO_TASKS } from "./state_empties.ts";
export {
  addConsumer,
  addLocation,
  DataObject,
  objectSpec,
  removeLocation,
  sizeInfo,
} from "./state_object.ts";
export { Task, taskSpec } from "./state_task.ts";
export { GovernorState } from "./state_governor.ts";

/** Someone blocked in `wait`/`wait_all`; resolved by the reactor. */
export interface Waiter {
  /** Items still unfinished (mode "all"), or 1 for mode "some". */
  remaining: number;
  settled: boolean;
  resolve(result: WaitOutcome): void;
}

/** `failed`: the session failed; `taskFailed`: items waited for failed, the session goes on. */
export type WaitOutcome =
  | { kind: "done" }
  | { kind: "failed"; error: string }
  | { kind: "taskFailed"; error: string }
  | { kind: "closed" };

export class Client {
  readonly sessions = new Set<Session>();
  constructor(readonly id: ClientId) {}
}

export class Session {
  /** Set when a task failed; every later request touching the session reports it. */
  error?: string;
  closed = false;
  /** `spec.wait_for_resources`: tasks no connected governor can run wait instead of failing. */
  waitForResources = false;
  readonly tasks = new IdMap<Task>();
  readonly objects = new IdMap<DataObject>();
  /** Submitted tasks not finished yet (for wait_all). */
  unfinishedTasks = 0;
  allWaiters: Waiter[] = [];
  /** Tasks and objects submitted so far, for progress reporting. */
  submittedTasks = 0;
  finishedTasks = 0;
  /** `"continue"`: a failed task fails only its dependents (docs/policies.md). */
  onFailure: "fail" | "continue" = "fail";
  /** `"continue"` sessions: tasks failed (their own failure or an input's), in order. */
  readonly failed = new Set<Task>();
  // Work done again so far, for `rain status`:
  /** Finished tasks run again because an output was lost with its governor. */
  reruns = 0;
  /** Failed attempts run again (`max_retries`). */
  retries = 0;
  /** Started attempts cut short by a lost governor or input. */
  lostAttempts = 0;

  constructor(
    readonly id: SessionId,
    readonly client: Client | undefined,
    readonly name: string,
  ) {}
}

/** Frozen empty values shared by the entities of state.ts. */
import type { ObjectInfo, TaskInfo } from "../common/attributes.ts";
import type { Task } from "./state_task.ts";
import type { GovernorState } from "./state_governor.ts";

/**
 * Shared, frozen empty values: most objects never get a second location or consumer, and infos
 * are replaced (never mutated) when set, so millions of entities share these instead of each
 * allocating its own.
 */
export const NO_GOVERNORS: readonly GovernorState[] = Object.freeze([]);
export const NO_TASKS: readonly Task[] = Object.freeze([]);
export const EMPTY_INFO: Readonly<ObjectInfo & TaskInfo> = Object.freeze({});

/** The server's view of one governor: `GovernorState`. */
import type { GovernorId } from "../common/ids.ts";
import type { MonitoringMessage } from "../common/messages.ts";
import { type GovernorResources, ResourcePool } from "../common/resources.ts";
import type { DataObject } from "./state_object.ts";
import type { Task } from "./state_task.ts";

export class GovernorState {
  /** Tasks assigned and not finished. */
  readonly tasks = new Set<Task>();
  #assignedCpus = 0;
  /** Told when `assignedCpus` changes (the scheduler keeps governors ordered by free cpus). */
  onFreeCpusChanged?: (governor: GovernorState) => void;
  /** Objects told to delete, until the governor reports them removed. */
  readonly toDelete = new Set<DataObject>();
  /** The latest resource usage sample the governor sent. */
  monitoring?: MonitoringMessage;
  /** `performance.now()` of the last frame from the governor (heartbeats, reports). */
  lastHeard = performance.now();
  /** A heartbeat is overdue: the scheduler gives it no new work until it is heard again. */
  stalled = false;
  /** `rain drain`: no new work; stopped once its tasks are done and its sole copies moved. */
  draining = false;
  /** Aborted when the governor is lost: reads of its data (client fetches) stop waiting. */
  readonly gone: AbortController = new AbortController();
  /** Aborted when it stalls (renewed when heard again): a read that has another copy moves on. */
  stall: AbortController = new AbortController();

  /** What the governor offers; `pool` is what of it is in use (written by the scheduler). */
  readonly resources: GovernorResources;
  readonly pool: ResourcePool;

  constructor(
    readonly id: GovernorId,
    readonly cpus: number,
    readonly executors: string[],
    resources?: GovernorResources,
  ) {
    this.resources = { ...resources, cpus };
    this.pool = new ResourcePool(this.resources);
  }

  /**
   * cpus of the tasks in `tasks` (may exceed `cpus`: queued on the governor). Written only by
   * the scheduler (see `Scheduler.schedule` and `taskReleased`).
   */
  get assignedCpus(): number {
    return this.#assignedCpus;
  }
  set assignedCpus(cpus: number) {
    this.#assignedCpus = cpus;
    this.onFreeCpusChanged?.(this);
  }

  get freeCpus(): number {
    return this.cpus - this.#assignedCpus;
  }
}

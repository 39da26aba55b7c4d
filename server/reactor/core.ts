/**
 * The reactor's core: the server's live state (clients, sessions, governors, id counters, the
 * turn) and the context every state change runs in. The state changes themselves are plain
 * functions over a `ReactorContext`, one file per concern:
 *
 * - `sessions.ts`  clients, sessions, submit, unkeep, close and fail
 * - `tasks.ts`     governor reports of task starts, finishes and failures
 * - `objects.ts`   objects no longer needed, their deletion on governors, where they are
 * - `governors.ts` governors joining and leaving, their monitoring and transfer reports
 * - `placement.ts` ready tasks to the scheduler, its assignments to governors (end of turn)
 * - `queries.ts`   wait, update, server_info (and waking waiters)
 */
import type { ClientId, GovernorId, SessionId } from "../../common/ids.ts";
import type { ToGovernor } from "../../common/messages.ts";
import type { EventSink } from "../events/event.ts";
import type { Scheduler } from "../scheduler.ts";
import type { Client, DataObject, GovernorState, Session } from "../state.ts";

/** Messages to governors; the implementation batches them until `flush()`. */
export interface GovernorComm {
  send(governor: GovernorId, message: ToGovernor): void;
  flush(): void;
}

/** What every state change runs over: the state and the reactor's only ways out. */
export interface ReactorContext {
  readonly core: Core;
  readonly comm: GovernorComm;
  readonly scheduler: Scheduler;
  /** The event log (docs/events.md); told of every state change. */
  readonly events: EventSink | undefined;
  /** Called with files of constants that are no longer needed (to delete them). */
  readonly dropFile: ((path: string) => void) | undefined;
  /** `placement.endTurn` over this context; queued by `touch()`. */
  endTurn(): void;
}

/** A governor that left: lost (`orderly` false) or stopped; `time` ms. */
export interface GoneGovernor {
  id: GovernorId;
  time: number;
  reason: string;
  orderly: boolean;
}

/** Governors that left, listed by `rain status`. */
export const GONE_KEPT = 20;

export class Core {
  readonly clients = new Map<ClientId, Client>();
  /** Open sessions (failed ones too, until closed). */
  readonly sessions = new Map<SessionId, Session>();
  readonly governors = new Map<GovernorId, GovernorState>();
  /** Ids from here on were numbered by this server (earlier ones by an earlier server). */
  readonly firstSessionId: SessionId;
  nextSessionId: SessionId;
  nextClientId: ClientId;
  /** An end of turn is queued (see `touch`). */
  turnQueued = false;
  /** `delete_objects` being collected this turn, per governor; sent at the end of the turn. */
  readonly deletes = new Map<GovernorState, DataObject[]>();
  /** The last governors that left (`rain status`), oldest first; at most `GONE_KEPT`. */
  readonly gone = new Map<GovernorId, GoneGovernor>();

  constructor(firstSessionId: SessionId = 1, firstClientId: ClientId = 1) {
    this.firstSessionId = firstSessionId;
    this.nextSessionId = firstSessionId;
    this.nextClientId = firstClientId;
  }

  /**
   * Whether the session was opened by this server and closed since. Session ids are numbered
   * in order, so every id of this server's range that is not open is closed: this needs no
   * record per closed session, however many a long-lived server sees.
   */
  isClosedSession(id: SessionId): boolean {
    return id >= this.firstSessionId && id < this.nextSessionId && !this.sessions.has(id);
  }
}

/** Marks the turn dirty: at its end (a microtask) tasks are placed and queued messages sent. */
export function touch(ctx: ReactorContext): void {
  if (ctx.core.turnQueued) return;
  ctx.core.turnQueued = true;
  queueMicrotask(() => ctx.endTurn());
}

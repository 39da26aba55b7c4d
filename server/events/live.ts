/**
 * The live server's event views: every event the reactor reports goes to the in-memory view
 * model (O(1) per event) and to the event log. Views are answered from the model, never by
 * reading SQLite on the server's thread; `POST /events` is answered by the log's writer thread.
 */
import { QueryError } from "./criteria.ts";
import type { EventCriteria } from "./criteria.ts";
import type { EventLogOptions } from "./log.ts";
import type { EventSink, PendingEvent } from "./event.ts";
import { DatabaseSync } from "node:sqlite";
import { EventLog } from "./log.ts";
import { loadLight } from "./replay.ts";
import type { SubmitPlan } from "../submit.ts";
import type { EventSource } from "./source.ts";
import { objectJson, taskJson } from "./submit_json.ts";
import { type MonitoringSample, SessionDetail, type SubmitSpecs, ViewModel } from "./view_model.ts";
import type { ViewModelOptions } from "./view_model.ts";
import { samplesWithin, type SessionView } from "./views.ts";

export class LiveEvents implements EventSink, EventSource {
  readonly model: ViewModel;
  readonly log: EventLog;

  constructor(log: EventLog, options: ViewModelOptions = {}) {
    this.log = log;
    this.model = new ViewModel(options);
  }

  /**
   * Opens `<logDir>/events.db` (log.ts) and reads the sessions and governors already in it (of
   * earlier servers; listed, their details are not kept in memory), once, at start.
   */
  static open(
    logDir: string,
    options: ViewModelOptions = {},
    logOptions: EventLogOptions = {},
  ): LiveEvents {
    // The sessions a retention pass drops leave the views too.
    const model: { of?: ViewModel } = {};
    const log = EventLog.open(logDir, {
      ...logOptions,
      onDropped: (sessions) => {
        for (const s of sessions) model.of?.forget(s);
      },
    });
    const live = new LiveEvents(log, options);
    model.of = live.model;
    const db = new DatabaseSync(live.log.path, { readOnly: true });
    try {
      loadLight(db, live.model);
    } finally {
      db.close();
    }
    return live;
  }

  push(event: PendingEvent): void {
    this.model.apply(
      event,
      event.type === "ClientSubmit" ? planSpecs(event.session, event.plan) : undefined,
    );
    this.log.push(event);
  }

  refresh(): Promise<void> {
    return Promise.resolve();
  }

  async sessionView(sid: number): Promise<SessionView> {
    const session = this.model.sessions.get(sid);
    if (!session) throw new QueryError(404, `session ${sid} is not in the event log`);
    const detail = await this.model.detailOf(session);
    if (session.detailDropped) {
      throw new QueryError(
        404,
        `the details of session ${sid} are no longer in the server's memory (newer sessions ` +
          `took their place); see them with rain dashboard --logdir`,
      );
    }
    return { session, detail: detail ?? EMPTY };
  }

  sync(): Promise<void> {
    return this.log.flush();
  }

  events(criteria: EventCriteria): Promise<string> {
    return this.log.query(criteria);
  }

  monitoring(governor?: string, from?: number, to?: number): Promise<Iterable<MonitoringSample>> {
    const all = [...this.model.monitoring.values()].flat().sort((a, b) => a.time - b.time);
    return Promise.resolve(samplesWithin(all, governor, from, to));
  }
}

/** The details of a session without submits. */
const EMPTY = new SessionDetail();

/** A submit's specs as the log stores them, rendered from its plan when asked. */
function planSpecs(session: number, plan: SubmitPlan): SubmitSpecs {
  return {
    task: (pos) => {
      const t = plan.tasks[pos];
      return t === undefined ? undefined : JSON.parse(taskJson(session, t));
    },
    object: (pos) => {
      const o = plan.objects[pos];
      return o === undefined ? undefined : JSON.parse(objectJson(session, o));
    },
  };
}

/**
 * The event views of an events.db read after the fact (`rain dashboard --logdir`, `rain report`):
 * the log is replayed into the same ViewModel the live server keeps (replay.ts) and answered by
 * the same view functions. Rows written since (a log still being written) are caught up at each
 * request.
 */
import { DatabaseSync } from "node:sqlite";
import type { MonitoringMessage } from "../../common/messages.ts";
import { type EventCriteria, QueryError } from "./criteria.ts";
import { loadLight, replayDetail } from "./replay.ts";
import type { EventSource } from "./source.ts";
import { eventsJson } from "./store.ts";
import { type MonitoringSample, type SessionDetail, ViewModel } from "./view_model.ts";
import type { SessionView } from "./views.ts";

export class PostMortemEvents implements EventSource {
  readonly model = new ViewModel();
  readonly #db: DatabaseSync;
  #lastId = 0;
  /** The last row applied to each session's details. */
  readonly #detailRows = new WeakMap<SessionDetail, number>();

  constructor(path: string) {
    this.#db = new DatabaseSync(path, { readOnly: true });
  }

  close(): void {
    try {
      this.#db.close();
    } catch { /* closed already */ }
  }

  /**
   * Catches up with rows written since; details already read are caught up too, so that the
   * session list counts their tasks as the summary does (a task run twice is one task).
   */
  refresh(): Promise<void> {
    const before = this.#lastId;
    this.#lastId = loadLight(this.#db, this.model, this.#lastId);
    if (this.#lastId !== before) {
      for (const session of this.model.sessions.values()) {
        if (session.detail) this.#catchUp(session.session, session.detail);
      }
    }
    return Promise.resolve();
  }

  #catchUp(sid: number, detail: SessionDetail): void {
    const { lastId } = replayDetail(this.#db, sid, detail, this.#detailRows.get(detail));
    this.#detailRows.set(detail, lastId);
  }

  async sessionView(sid: number): Promise<SessionView> {
    await this.refresh();
    const session = this.model.sessions.get(sid);
    if (!session) throw new QueryError(404, `session ${sid} is not in the event log`);
    if (session.detail) {
      this.#catchUp(sid, session.detail);
      return { session, detail: session.detail };
    }
    const { detail, lastId } = replayDetail(this.#db, sid);
    this.#detailRows.set(detail, lastId);
    this.model.restoreDetail(session, detail);
    return { session, detail };
  }

  events(criteria: EventCriteria): Promise<string> {
    return Promise.resolve(eventsJson(this.#db, criteria));
  }

  monitoring(governor?: string, from?: number, to?: number): Promise<MonitoringSample[]> {
    const where = ["event_type = 'Monitoring'"];
    const params: string[] = [];
    if (from !== undefined) {
      where.push("timestamp >= ?");
      params.push(new Date(from).toISOString());
    }
    if (to !== undefined) {
      where.push("timestamp <= ?");
      params.push(new Date(to).toISOString());
    }
    const samples: MonitoringSample[] = [];
    const rows = this.#db.prepare(
      `SELECT timestamp, event FROM events WHERE ${where.join(" AND ")} ORDER BY id`,
    );
    for (const row of rows.iterate(...params)) {
      const e = JSON.parse(String(row.event)) as MonitoringMessage & { governor: string };
      if (governor !== undefined && e.governor !== governor) continue;
      samples.push({ governor: e.governor, time: Date.parse(String(row.timestamp)), sample: e });
    }
    return Promise.resolve(samples);
  }
}

/**
 * Where the event routes (routes.ts) get their answers: the live server's in-memory model
 * (live.ts) or a replayed log (post_mortem.ts). Both answer through the functions of views.ts.
 */
import type { EventCriteria } from "./criteria.ts";
import type { MonitoringSample, ViewModel } from "./view_model.ts";
import type { SessionView } from "./views.ts";

export interface EventSource {
  readonly model: ViewModel;
  /** Brings the model up to date (post-mortem: rows written since; live: it is). */
  refresh(): Promise<void>;
  /** The session and its details; a QueryError 404 when they are not known. */
  sessionView(session: number): Promise<SessionView>;
  /** Makes every event pushed so far visible to `events` (live: written; post-mortem: none). */
  sync?(): Promise<void>;
  /** `POST /events`: the matching rows as JSON text. */
  events(criteria: EventCriteria): Promise<string>;
  /** Monitoring samples in log order, of `governor` (all when undefined), `from`..`to` ms. */
  monitoring(governor?: string, from?: number, to?: number): Promise<Iterable<MonitoringSample>>;
}

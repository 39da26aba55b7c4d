/**
 * A restarted server rebuilds its open sessions from the journal (server/journal/): clients,
 * sessions, every submit (its body decoded again by the client API's decoder), keep/unkeep,
 * cancels and each task's outcome, in the order they happened. Nothing is sent or logged while
 * replaying; the tasks made ready are held (reattach.ts) until the governors are back.
 */
import type { GovernorId, SessionId } from "../../common/ids.ts";
import { Logger } from "../../common/log.ts";
import type { JournalRecord } from "../journal/records.ts";
import { Client, type Session } from "../state.ts";
import { readSubmitPlan } from "../submit_reader.ts";
import type { ReactorContext } from "./core.ts";
import { cancelTasks, failTaskOnly, rerunFailed } from "./failures.ts";
import { releaseIfUnneeded } from "./objects.ts";
import { makeReady } from "./placement.ts";
import type { HoldingScheduler } from "./reattach.ts";
import { failSession, newSession, removeClient, submit, unkeep } from "./sessions.ts";

const log = new Logger("server");

/** The sessions a journal will restore (opened and not closed by their client). */
export function sessionsToRestore(records: JournalRecord[]): Set<SessionId> {
  const open = new Set<SessionId>();
  for (const r of records) {
    if (r.k === "session") open.add(r.id);
    else if (r.k === "closed" && r.reason === "ClientClose") open.delete(r.s);
  }
  return open;
}

export interface RestoreOptions {
  /** The body of a journaled submit. */
  readBody(name: string): Promise<ReadableStream<Uint8Array>>;
  /** A restored submit (its body stays while its session is open). */
  restoredSubmit(session: SessionId, body: string, digest: string): void;
  testMode: boolean;
  spoolDir: string;
}

export interface Restored {
  sessions: Session[];
  /** Clients whose sessions wait for them to connect again. */
  clients: Client[];
  /** Governors connected when the journal ended: the ones to wait for. */
  governors: Set<GovernorId>;
}

/** Replays the journal into the reactor (`ctx`: the reactor's state, with `holding`). */
export async function restore(
  reactor: ReactorContext,
  holding: HoldingScheduler,
  records: JournalRecord[],
  options: RestoreOptions,
): Promise<Restored> {
  const core = reactor.core;
  // Quiet: nothing replayed is logged again or journaled again.
  const ctx: ReactorContext = {
    core,
    comm: reactor.comm,
    scheduler: holding,
    events: undefined,
    dropFile: reactor.dropFile,
    endTurn: () => reactor.endTurn(),
  };
  const open = sessionsToRestore(records);
  const clients = new Set<Client>();
  const governors = new Set<GovernorId>();
  const sessionOf = (id: SessionId): Session | undefined =>
    open.has(id) ? core.sessions.get(id) : undefined;
  for (const r of records) {
    try {
      switch (r.k) {
        case "client": {
          if (core.clients.has(r.id)) break;
          const client = new Client(r.id);
          core.clients.set(r.id, client);
          clients.add(client);
          core.nextClientId = Math.max(core.nextClientId, r.id + 1);
          break;
        }
        case "client-": {
          const client = core.clients.get(r.id);
          if (client) removeClient(ctx, client);
          if (client) clients.delete(client);
          break;
        }
        case "gov":
          governors.add(r.id);
          break;
        case "gov-":
          governors.delete(r.id);
          break;
        case "session": {
          if (!open.has(r.id)) break;
          const client = r.client === null ? undefined : core.clients.get(r.client);
          const next = core.nextSessionId;
          core.nextSessionId = r.id;
          const name = typeof r.spec.name === "string" ? r.spec.name : "Unnamed Session";
          const session = newSession(ctx, client, name, r.spec);
          core.nextSessionId = Math.max(next, r.id + 1);
          holding.hold(session);
          break;
        }
        case "closed": {
          const session = sessionOf(r.s);
          if (session && r.reason === "Error") failSession(ctx, session, r.msg);
          break;
        }
        case "submit": {
          const session = sessionOf(r.s);
          if (!session || session.error !== undefined) break;
          const body = await options.readBody(r.body);
          const read = await readSubmitPlan(
            body,
            r.type,
            session,
            options.testMode,
            options.spoolDir,
          );
          submit(ctx, session, read.plan, read.constants);
          options.restoredSubmit(r.s, r.body, r.digest);
          break;
        }
        case "unkeep": {
          const session = sessionOf(r.s);
          if (session) unkeep(ctx, session, r.objects);
          break;
        }
        case "done": {
          const session = sessionOf(r.s);
          if (session && session.error === undefined) applyDone(ctx, session, r);
          break;
        }
        case "failed": {
          const session = sessionOf(r.s);
          const task = session?.tasks.get(r.t);
          if (!session || !task || task.finished || session.error !== undefined) break;
          // In a "fail" session the session's own failure record follows.
          if (session.onFailure === "continue") {
            failTaskOnly(ctx, task, r.info.error ?? "failed");
          }
          break;
        }
        case "cancel": {
          const session = sessionOf(r.s);
          if (session) cancelTasks(ctx, session, r.tasks);
          break;
        }
        case "rerun_failed": {
          const session = sessionOf(r.s);
          if (session) rerunFailed(ctx, session);
          break;
        }
      }
    } catch (e) {
      log.warn(`journal record ${r.k} not restored: ${(e as Error).message}`);
    }
  }
  const sessions = [...core.sessions.values()];
  if (sessions.length) {
    const tasks = sessions.reduce((n, s) => n + s.tasks.size, 0);
    const finished = sessions.reduce((n, s) => n + s.finishedTasks, 0);
    log.info(
      `restored ${sessions.length} session(s) from the journal: ${tasks} tasks, ${finished} ` +
        `finished; waiting for ${governors.size} governor(s) to reattach`,
    );
  }
  return { sessions, clients: [...clients].filter((c) => core.clients.has(c.id)), governors };
}

/** A journaled finish: the task's outputs exist (somewhere: the governors will say where). */
function applyDone(
  ctx: ReactorContext,
  session: Session,
  r: Extract<JournalRecord, { k: "done" }>,
): void {
  const task = session.tasks.get(r.t);
  if (!task || task.finished || r.out.length !== task.outputs.length) return;
  task.state = "finished";
  task.info = r.info;
  session.finishedTasks++;
  ctx.scheduler.taskFinished(task, r.info.duration ?? 0);
  r.out.forEach((reported, i) => {
    const obj = task.outputs[i]!;
    if (obj.state !== "unfinished") return;
    obj.state = "finished";
    obj.size = reported.size;
    obj.info = reported.info?.size === undefined
      ? { ...reported.info, size: reported.size }
      : reported.info;
    for (const consumer of obj.consumers) {
      if (consumer.state === "notAssigned" && --consumer.waitingInputs === 0) {
        makeReady(ctx, consumer);
      }
    }
    releaseIfUnneeded(ctx, obj);
  });
  for (const input of task.inputs) {
    input.pendingConsumers--;
    releaseIfUnneeded(ctx, input);
  }
  session.unfinishedTasks--;
}

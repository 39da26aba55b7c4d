/**
 * A server started over the log dir of one that crashed (docs/guide/server-restart.md): the
 * journal is replayed (reactor/restore.ts), then the server waits for the governors the journal
 * knew (reactor/reattach.ts) and for the clients of restored sessions to connect again.
 */
import type { GovernorListener } from "./governor_link.ts";
import { FLUSH_MS } from "./journal/journal.ts";
import type { JournalSink } from "./journal/records.ts";
import type { Reactor } from "./reactor.ts";
import { type HoldingScheduler, Reattachment } from "./reactor/reattach.ts";
import { restore } from "./reactor/restore.ts";
import type { Client } from "./state.ts";

/** Seconds a restored client has to connect again before its sessions close (default). */
export const DEFAULT_CLIENT_REATTACH_TIMEOUT = 60;

export interface Restart {
  /** A restored client connecting again under its id, if it is one. */
  resumeClient(id: number): Client | undefined;
  /** Settles once the governors are back (or given up on). */
  reattached: Promise<void>;
  stop(): void;
}

export async function restoreServer(
  reactor: Reactor,
  holding: HoldingScheduler,
  governors: GovernorListener,
  sink: JournalSink | undefined,
  options: { spoolDir: string; testMode: boolean; governorsMs: number; clientsMs: number },
): Promise<Restart> {
  const journal = sink?.journal;
  let ackTimer: ReturnType<typeof setInterval> | undefined;
  if (sink && journal) {
    sink.snapshot = {
      clients: () => reactor.clients.keys(),
      governors: () => reactor.governors.keys(),
      nextIds: () => ({ session: reactor.core.nextSessionId, client: reactor.core.nextClientId }),
      openSessions: () => reactor.core.sessions.size,
    };
    // Results are acknowledged to governors once written (they forget them then).
    journal.onWritten = () => governors.acknowledgeResults();
  } else {
    ackTimer = setInterval(() => governors.acknowledgeResults(), FLUSH_MS);
  }
  const restored = await restore(reactor, holding, journal?.records ?? [], {
    readBody: (name) => Deno.open(journal!.bodyPath(name)).then((f) => f.readable),
    restoredSubmit: (sid, body, digest) => sink?.noteSubmit(sid, body, digest),
    testMode: options.testMode,
    spoolDir: options.spoolDir,
  });
  if (journal) {
    if (restored.sessions.length === 0) {
      journal.reset();
      journal.append({
        k: "ids",
        session: reactor.core.nextSessionId,
        client: reactor.core.nextClientId,
      });
    }
    journal.records = [];
  }
  const reattachment = new Reattachment(reactor, holding, restored.governors, options.governorsMs);
  reactor.reattachment = reattachment;
  // Restored clients connect again (`GET /connect?client=ID`); one that does not in time is
  // gone, and its sessions close.
  const waiting = new Map<number, Client>(restored.clients.map((c) => [c.id, c]));
  const clientTimer = waiting.size === 0 ? undefined : setTimeout(() => {
    for (const client of waiting.values()) reactor.removeClient(client);
    waiting.clear();
  }, options.clientsMs);
  return {
    resumeClient(id) {
      const client = waiting.get(id);
      waiting.delete(id);
      return client;
    },
    reattached: reattachment.done,
    stop() {
      clearTimeout(clientTimer);
      clearInterval(ackTimer);
      reattachment.stop();
    },
  };
}

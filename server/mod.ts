/** `rain server`: runs until shut down (SIGTERM, SIGINT or `POST /api/v1/shutdown`). */
import { GOVERNOR_WS_PATH } from "../common/messages.ts";
import { Logger } from "../common/log.ts";
import { RAIN_VERSION } from "../common/version.ts";
import { authHeaders } from "../common/secret.ts";
import { Auth } from "./auth.ts";
import { serveGuarded } from "../common/conn_guard.ts";
import { directFetch, secretInHeader } from "./direct_fetch.ts";
import { createSpool } from "./spool.ts";
import { clientApi } from "./client_api.ts";
import { GovernorListener } from "./governor_link.ts";
import { GovernorLinks } from "./governor_links.ts";
import { type Listeners, monitoringApi, STATUS_PATH } from "./monitoring_api.ts";
import { mountDashboard } from "./dashboard_routes.ts";
import type { ServerOptions } from "./options.ts";
import { Reactor } from "./reactor.ts";
import { LocalityScheduler } from "./scheduler.ts";
import { LiveEvents } from "./events/live.ts";
import type { EventSink, PendingEvent } from "./events/event.ts";
import { Journal } from "./journal/journal.ts";
import { JournalSink } from "./journal/records.ts";
import { sessionsToRestore } from "./reactor/restore.ts";
import { HoldingScheduler } from "./reactor/reattach.ts";
import { DEFAULT_HEARTBEAT_TIMEOUT } from "./governor_link.ts";
import { DEFAULT_CLIENT_REATTACH_TIMEOUT, restoreServer } from "./restart.ts";
export type { ServerOptions };

const log = new Logger("server");
/** SIGHUP too: a closed terminal must not leave the spool and the published secret behind. */
const SHUTDOWN_SIGNALS = ["SIGTERM", "SIGINT", "SIGHUP"] as const;
/** How long a stopping server waits for its governors to leave before it closes its log. */
const GOVERNORS_LEAVE_MS = 2000;

export async function runServer(options: ServerOptions): Promise<void> {
  await Deno.mkdir(options.logDir, { recursive: true });
  // The spool is locked while this server lives; spools of dead servers are removed here.
  const spool = await createSpool();
  const spoolDir = spool.dir;
  const links = new GovernorLinks();
  // The journal (server/journal/): a crashed server's open sessions are restored from it.
  const journal = options.journal === false
    ? undefined
    : Journal.open(options.logDir, { fresh: options.fresh });
  const journalSink = journal && new JournalSink(journal);
  const restoring = sessionsToRestore(journal?.records ?? []);
  // The event log (docs/events.md); sessions a crashed server left open are closed ServerLost,
  // except those restored. Its views are answered from memory (server/events/live.ts).
  const liveEvents = options.eventLog === false ? undefined : LiveEvents.open(
    options.logDir,
    {},
    {
      ...(options.logRetention ? { retention: options.logRetention } : {}),
      ...(options.logRetentionIntervalMs
        ? { retentionIntervalMs: options.logRetentionIntervalMs }
        : {}),
      keepOpen: restoring,
    },
  );
  const eventLog = liveEvents?.log;
  const holding = new HoldingScheduler(new LocalityScheduler());
  const reactor = new Reactor(links, holding, {
    dropFile: (path) => Deno.remove(path).catch(() => {}),
    events: liveEvents && journalSink
      ? bothSinks(liveEvents, journalSink)
      : liveEvents ?? journalSink,
    firstSessionId: Math.max(eventLog?.nextSessionId ?? 1, journal?.nextSessionId ?? 1),
    firstClientId: Math.max(eventLog?.nextClientId ?? 1, journal?.nextClientId ?? 1),
  });
  const governorListener = new GovernorListener(links, reactor, {
    heartbeatTimeout: options.heartbeatTimeout,
  });
  const restart = await restoreServer(reactor, holding, governorListener, journalSink, {
    spoolDir,
    testMode: options.testMode,
    governorsMs: (options.heartbeatTimeout ?? DEFAULT_HEARTBEAT_TIMEOUT) * 1000,
    clientsMs: (options.clientReattachTimeout ?? DEFAULT_CLIENT_REATTACH_TIMEOUT) * 1000,
  });
  const auth = new Auth(options.secret);

  let stopping = false;
  let stopped!: () => void;
  const done = new Promise<void>((resolve) => (stopped = resolve));
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    log.info("shutting down");
    const withdrawn = auth.withdraw(); // at once: waiting for open connections may take long
    governorListener.close();
    restart.stop();
    links.shutdownAll();
    // A graceful HTTP shutdown waits for every open response: end the clients' never-ending
    // /connect streams and answer blocked waits now.
    for (const stream of clientStreams) {
      try {
        stream.close();
      } catch { /* already closed */ }
    }
    clientStreams.clear();
    reactor.releaseWaiters();
    // Let the shutdown frames leave before the listeners close.
    setTimeout(async () => {
      if (eventLog) {
        // The log is closed (checkpointed: events.db alone holds it all) while the client port
        // still answers, so `rain stop` returns after it; governors leaving are logged first.
        const deadline = Date.now() + GOVERNORS_LEAVE_MS;
        while (reactor.governors.size > 0 && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        const time = Date.now();
        for (const session of reactor.sessions.values()) {
          if (session.error !== undefined) continue; // closed "Error" already
          eventLog.push({
            type: "SessionClosed",
            time,
            session: session.id,
            reason: "ServerLost",
            message: "the server was shut down",
          });
        }
        await eventLog.close();
      }
      await Promise.allSettled([main.shutdown(), http.shutdown()]);
      spool.removeSync();
      journal?.close(true); // an orderly stop: nothing is left to restore
      await withdrawn;
      stopped();
    }, 50);
  };

  const clientStreams = new Set<ReadableStreamDefaultController<Uint8Array>>();
  const api = clientApi({
    reactor,
    clientStreams,
    spoolDir,
    testMode: options.testMode,
    shutdown,
    governorHeaders: authHeaders(options.secret),
    events: liveEvents,
    journal: journalSink,
    resumeClient: restart.resumeClient,
    reattached: restart.reattached,
  });
  const listeners: Listeners = {};
  const monitoring = monitoringApi(reactor, liveEvents, listeners);
  mountDashboard(monitoring, { mode: "live", events: liveEvents });
  // Guarded listeners (common/conn_guard.ts): header and idle timeouts, connection caps, no
  // crash on EMFILE; connections whose first request lacks the secret get the short limits.
  const trusted = (headers: Headers, target: string) => auth.knowsSecret(headers, target);
  const fetchDirect = directFetch({
    reactor,
    secretRequired: auth.enabled,
    governorHeaders: authHeaders(options.secret),
    reattached: restart.reattached,
  });
  const main = await serveGuarded(
    {
      hostname: options.listenHost,
      port: options.listenPort,
      trusted,
      what: "--listen",
      // Governor links, and client fetches of kept blobs (straight from the governor), on the
      // accepted connection: not through the relay.
      direct: async (request, conn) =>
        await governorListener.acceptDirect(
          request,
          conn,
          secretInHeader(request, auth.enabled),
        ) || await fetchDirect(request, conn),
    },
    auth.protect((request, info) => {
      const path = new URL(request.url).pathname;
      if (path === GOVERNOR_WS_PATH) {
        return governorListener.accept(request, (info.remoteAddr as Deno.NetAddr).hostname);
      }
      // `rain status` and client progress may ask the client port too.
      if (path === STATUS_PATH) return monitoring.fetch(request);
      return api.fetch(request);
    }, "client"),
  );
  const http = await serveGuarded(
    { hostname: options.httpHost, port: options.httpPort, trusted, what: "--http-listen" },
    auth.protect(monitoring.fetch, "monitoring"),
  );
  listeners.client = main.stats;
  listeners.monitoring = http.stats;
  eventLog?.push({
    type: "ServerStart",
    time: Date.now(),
    version: RAIN_VERSION,
    pid: Deno.pid,
    listen: `${options.listenHost}:${main.addr.port}`,
    http_listen: `${options.httpHost}:${http.addr.port}`,
  });

  for (const signal of SHUTDOWN_SIGNALS) Deno.addSignalListener(signal, shutdown);
  // Exit paths without an orderly shutdown (an uncaught error, Deno.exit): leave nothing behind
  // that can be removed synchronously. Only SIGKILL escapes; the next server cleans up after it.
  const leaveNothing = () => {
    spool.removeSync();
    auth.withdrawSync();
  };
  for (const event of ["error", "unhandledrejection", "unload"]) {
    globalThis.addEventListener(event, leaveNothing);
  }
  log.info(
    `rain ${RAIN_VERSION} server listening on ${options.listenHost}:${main.addr.port}, ` +
      `monitoring on ${options.httpHost}:${http.addr.port}, log dir ${options.logDir}`,
  );
  await auth.announce(options.listenHost, main.addr.port);
  if (options.readyFile) await Deno.writeTextFile(options.readyFile, "ready\n");
  await done;
  for (const signal of SHUTDOWN_SIGNALS) Deno.removeSignalListener(signal, shutdown);
  for (const event of ["error", "unhandledrejection", "unload"]) {
    globalThis.removeEventListener(event, leaveNothing);
  }
}

/** The event log's and the journal's: every reactor event goes to both. */
function bothSinks(a: EventSink, b: EventSink): EventSink {
  return {
    push(event: PendingEvent): void {
      a.push(event);
      b.push(event);
    },
  };
}

/** `rain server`: runs until shut down (SIGTERM, SIGINT or `POST /api/v1/shutdown`). */
import { GOVERNOR_WS_PATH } from "../common/messages.ts";
import { Logger } from "../common/log.ts";
import { RAIN_VERSION } from "../common/version.ts";
import { clientApi } from "./client_api.ts";
import { GovernorLinks } from "./governor_link.ts";
import { monitoringApi } from "./monitoring_api.ts";
import type { ServerOptions } from "./options.ts";
import { Reactor } from "./reactor.ts";
import { LocalityScheduler } from "./scheduler.ts";
export type { ServerOptions };

const log = new Logger("server");

export async function runServer(options: ServerOptions): Promise<void> {
  await Deno.mkdir(options.logDir, { recursive: true });
  const spoolDir = await Deno.makeTempDir({ prefix: "rain-server-constants-" });
  const links = new GovernorLinks();
  const reactor = new Reactor(links, new LocalityScheduler(), {
    testMode: options.testMode,
    dropFile: (path) => Deno.remove(path).catch(() => {}),
  });
  links.reactor = reactor;

  let stopping = false;
  let stopped!: () => void;
  const done = new Promise<void>((resolve) => (stopped = resolve));
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    log.info("shutting down");
    links.shutdownAll();
    // Let the shutdown frames leave before the listeners close.
    setTimeout(async () => {
      await Promise.allSettled([main.shutdown(), http.shutdown()]);
      await Deno.remove(spoolDir, { recursive: true }).catch(() => {});
      stopped();
    }, 50);
  };

  const api = clientApi({ reactor, spoolDir, testMode: options.testMode, shutdown });
  const main = Deno.serve(
    { hostname: options.listenHost, port: options.listenPort, onListen: () => {} },
    (request, info) => {
      if (new URL(request.url).pathname === GOVERNOR_WS_PATH) {
        return links.accept(request, (info.remoteAddr as Deno.NetAddr).hostname);
      }
      return api.fetch(request);
    },
  );
  const http = Deno.serve(
    { hostname: options.httpHost, port: options.httpPort, onListen: () => {} },
    monitoringApi(reactor).fetch,
  );

  for (const signal of ["SIGTERM", "SIGINT"] as const) Deno.addSignalListener(signal, shutdown);
  log.info(
    `rain ${RAIN_VERSION} server listening on ${options.listenHost}:${main.addr.port}, ` +
      `monitoring on ${options.httpHost}:${http.addr.port}, log dir ${options.logDir}`,
  );
  if (options.readyFile) await Deno.writeTextFile(options.readyFile, "ready\n");
  await done;
  for (const signal of ["SIGTERM", "SIGINT"] as const) Deno.removeSignalListener(signal, shutdown);
}

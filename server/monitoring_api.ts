/**
 * The monitoring port (`--http-listen`): read-only views of the cluster, `POST /events` and the
 * event-log queries of docs/events.md (`eventsApi`). The dashboard is served here too.
 */
import { Hono } from "hono";
import { cors } from "hono/cors";
import { API_PREFIX } from "../common/messages.ts";
import { RAIN_VERSION } from "../common/version.ts";
import { eventsApi } from "./events/routes.ts";
import type { EventSource } from "./events/source.ts";
import type { Reactor } from "./reactor.ts";
import { type GuardStats, listenerCounts } from "../common/conn_guard.ts";

/** The server's guarded listeners by name (`client`, `monitoring`), filled once listening. */
export type Listeners = Record<string, GuardStats>;

/** `GET /api/v1/status`: also answered on the client (`--listen`) port. */
export const STATUS_PATH = `${API_PREFIX}/status`;

export function monitoringApi(
  reactor: Reactor,
  events?: EventSource,
  listeners: Listeners = {},
): Hono {
  const app = new Hono();
  app.use(STATUS_PATH, cors());
  app.get(`${API_PREFIX}/server_info`, (c) => c.json(reactor.serverInfo()));
  app.get(STATUS_PATH, (c) => {
    // `?session=N`: only that session (client progress bars poll this).
    const only = c.req.query("session");
    return c.json(
      clusterStatus(reactor, only === undefined ? undefined : Number(only), listeners),
    );
  });
  app.route("/", eventsApi(events));
  return app;
}

/** The live state in brief (`rain status`, client progress bars); cheap at any size. */
export function clusterStatus(reactor: Reactor, onlySession?: number, listeners: Listeners = {}) {
  const sessions = onlySession === undefined
    ? [...reactor.sessions.values()]
    : [reactor.sessions.get(onlySession)].filter((s) => s !== undefined);
  return {
    version: RAIN_VERSION,
    pid: Deno.pid,
    memory: processMemory(),
    governors: [...reactor.governors.values()].map((g) => {
      let running = 0;
      for (const t of g.tasks) if (t.state === "running") running++;
      const m = g.monitoring;
      return {
        governor_id: g.id,
        state: g.draining ? "draining" : g.stalled ? "stalled" : "connected",
        silent: g.stalled ? round1((performance.now() - g.lastHeard) / 1000) : undefined,
        cpus: g.cpus,
        assigned_cpus: g.assignedCpus,
        resources: g.resources,
        resources_in_use: { cpus: Math.min(g.assignedCpus, g.cpus), ...g.pool.usage() },
        tasks: g.tasks.size,
        running_tasks: running,
        monitoring: m
          ? {
            timestamp: m.timestamp,
            cpu_usage: m.cpu_usage,
            mem_usage: m.mem_usage,
          }
          : undefined,
        ...(m?.data_listener ? { data_listener: m.data_listener } : {}),
      };
    }),
    // Lost or stopped lately (a governor seen again since is listed above, not here).
    governors_gone: governorsGone(reactor),
    sessions: sessions.map((s) => ({
      session_id: s.id,
      name: s.name,
      client: s.client?.id,
      failed: s.error !== undefined,
      tasks_submitted: s.submittedTasks,
      tasks_finished: s.finishedTasks,
      tasks_rerun: s.reruns,
      tasks_retried: s.retries,
      attempts_lost: s.lostAttempts,
    })),
    ready_tasks: reactor.scheduler.readyCount,
    // Connection counts per listener (docs/security.md "Resource limits").
    listeners: Object.fromEntries(
      Object.entries(listeners).map(([name, stats]) => [name, listenerCounts(stats)]),
    ),
  };
}

/** Governors lost or stopped lately, unless one of the same id is connected again. */
function governorsGone(reactor: Reactor) {
  const gone = [...reactor.core.gone.values()].filter((g) => !reactor.governors.has(g.id));
  return gone.map((g) => ({
    governor_id: g.id,
    state: g.orderly ? "stopped" : "lost",
    time: new Date(g.time).toISOString(),
    reason: g.reason,
  }));
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

/** Current and peak resident memory of this process in bytes (Linux /proc; else current only). */
export function processMemory(): { rss: number; peak_rss?: number } {
  const rss = Deno.memoryUsage().rss;
  try {
    const status = Deno.readTextFileSync("/proc/self/status");
    const peak = /^VmHWM:\s+(\d+) kB/m.exec(status);
    return peak ? { rss, peak_rss: Number(peak[1]) * 1024 } : { rss };
  } catch {
    return { rss };
  }
}

/**
 * The monitoring port (`--http-listen`): read-only views of the cluster. The dashboard and the
 * event log (`POST /events`) are served here too once they exist.
 */
import { Hono } from "hono";
import { API_PREFIX } from "../common/messages.ts";
import { RAIN_VERSION } from "../common/version.ts";
import type { Reactor } from "./reactor.ts";

export function monitoringApi(reactor: Reactor): Hono {
  const app = new Hono();
  app.get(`${API_PREFIX}/server_info`, (c) => c.json(reactor.serverInfo()));
  app.get(`${API_PREFIX}/status`, (c) =>
    c.json({
      version: RAIN_VERSION,
      pid: Deno.pid,
      memory: processMemory(),
      governors: [...reactor.governors.values()].map((g) => ({
        governor_id: g.id,
        cpus: g.cpus,
        assigned_cpus: g.assignedCpus,
        tasks: g.tasks.size,
      })),
      sessions: [...reactor.sessions.values()].map((s) => ({
        session_id: s.id,
        name: s.name,
        client: s.client?.id,
        failed: s.error !== undefined,
        tasks_submitted: s.submittedTasks,
        tasks_finished: s.finishedTasks,
      })),
      ready_tasks: reactor.scheduler.readyCount,
    }));
  return app;
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

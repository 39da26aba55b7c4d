/**
 * Resource usage of the governor's machine for the event log (docs/events.md, `Monitoring`):
 * cpu busy % per core since the previous sample (`/proc/stat`), memory in use %
 * (`/proc/meminfo`: MemTotal - MemAvailable) and cumulative network byte counters per interface
 * (`/proc/net/dev`). Off Linux the fields are empty / 0.
 */
import type { MonitoringMessage } from "../common/messages.ts";

/** Default seconds between samples (`RAIN_MONITORING_INTERVAL`). */
export const DEFAULT_MONITORING_INTERVAL = 2;

type CpuTimes = { busy: number; total: number }[];

function readText(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}

/** Per-core busy and total jiffies from `/proc/stat` text. */
export function parseCpuTimes(stat: string): CpuTimes {
  const out: CpuTimes = [];
  for (const line of stat.split("\n")) {
    const m = /^cpu\d+\s+(.*)$/.exec(line);
    if (!m) continue;
    const v = m[1]!.trim().split(/\s+/).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already in user)
    const total = v.slice(0, 8).reduce((a, b) => a + (b || 0), 0);
    const idle = (v[3] || 0) + (v[4] || 0);
    out.push({ busy: total - idle, total });
  }
  return out;
}

/** % of memory in use from `/proc/meminfo` text. */
export function parseMemUsage(meminfo: string): number {
  const total = Number(/^MemTotal:\s+(\d+)/m.exec(meminfo)?.[1]);
  const available = Number(/^MemAvailable:\s+(\d+)/m.exec(meminfo)?.[1]);
  if (!(total > 0) || !Number.isFinite(available)) return 0;
  return Math.round(((total - available) / total) * 1000) / 10;
}

/** `{iface: [rx bytes, tx bytes]}` from `/proc/net/dev` text. */
export function parseNetStat(netdev: string): Record<string, [number, number]> {
  const out: Record<string, [number, number]> = {};
  for (const line of netdev.split("\n").slice(2)) {
    const m = /^\s*([^:\s]+):\s*(.*)$/.exec(line);
    if (!m) continue;
    // Both groups always match; v[0] and v[8] exist once the length is checked.
    const v = m[2]!.trim().split(/\s+/).map(Number);
    if (v.length >= 9) out[m[1]!] = [v[0]!, v[8]!];
  }
  return out;
}

export class Monitor {
  #previous: CpuTimes | undefined;

  constructor() {
    this.#previous = parseCpuTimes(readText("/proc/stat") ?? "");
  }

  /** A sample; cpu usage is measured since the previous one (or since construction). */
  sample(): MonitoringMessage {
    const now = parseCpuTimes(readText("/proc/stat") ?? "");
    const prev = this.#previous ?? [];
    this.#previous = now;
    const cpu_usage = now.map((c, i) => {
      const p = prev[i];
      const total = p ? c.total - p.total : 0;
      const busy = p ? c.busy - p.busy : 0;
      return total > 0 ? Math.round((busy / total) * 1000) / 10 : 0;
    });
    return {
      type: "monitoring",
      timestamp: new Date().toISOString(),
      cpu_usage,
      mem_usage: parseMemUsage(readText("/proc/meminfo") ?? ""),
      net_stat: parseNetStat(readText("/proc/net/dev") ?? ""),
    };
  }
}

/** `rain status [SERVER[:PORT]] [--json]`: governors and sessions of a running server. */
import type { ListenerCounts } from "../common/conn_guard.ts";
import { type Address, DEFAULT_SERVER_PORT, formatAddress, serverArgument } from "./address.ts";
import { parseCommandArgs } from "./args.ts";
import type { Io } from "./io.ts";
import { authHeaders, findSecret } from "../common/secret.ts";
import { refusal } from "./http_error.ts";
import { formatSize, type GovernorResources, type ResourceUsage } from "../common/resources.ts";
import { count } from "../common/plural.ts";

export const STATUS_USAGE = `Usage: rain status [SERVER[:PORT]] [--json]

Shows the governors (cpus, tasks, cpu and memory use; stalled or draining ones, and those lost
or stopped lately, with why) and the open sessions (progress; re-runs, retries and attempts lost
with a governor, when any) of a running Rain server, from GET /api/v1/status. SERVER[:PORT] is the server's --listen address, as
for 'rain stop'; its --http-listen (monitoring) address works as well, both answer the status.
SERVER[:PORT] may also be just a PORT. (default: 127.0.0.1:${DEFAULT_SERVER_PORT})

Options:
  --json       print the status as JSON (for scripts; the fields of docs/events.md)
  -h, --help   show this help
`;

export type StatusCommand = { help: true } | { help: false; server: Address; json: boolean };

export function parseStatusArgs(argv: string[]): StatusCommand {
  const args = parseCommandArgs("status", argv, { json: { type: "boolean" } });
  if (args.help) return { help: true };
  const server = serverArgument(args.positionals, "status");
  return { help: false, server, json: args.values.has("json") };
}

/** `GET /api/v1/status` (docs/events.md). */
export interface ClusterStatus {
  version: string;
  pid: number;
  memory: { rss: number; peak_rss?: number };
  governors: {
    governor_id: string;
    /** `connected`, `stalled` (heartbeat overdue: no new work) or `draining` (absent: older). */
    state?: "connected" | "stalled" | "draining";
    /** Seconds since it was last heard, when stalled. */
    silent?: number;
    cpus: number;
    assigned_cpus: number;
    tasks: number;
    running_tasks?: number;
    monitoring?: { timestamp: string; cpu_usage: number[]; mem_usage: number };
    /** Offered and held by assigned tasks (absent from older servers). */
    resources?: GovernorResources;
    resources_in_use?: ResourceUsage;
    /** The data listener's connection counts (absent until its first monitoring sample). */
    data_listener?: ListenerCounts;
  }[];
  sessions: {
    session_id: number;
    name: string;
    client?: number;
    failed: boolean;
    tasks_submitted: number;
    tasks_finished: number;
    /** Finished tasks run again for a lost output, retries, attempts cut short by a loss. */
    tasks_rerun?: number;
    tasks_retried?: number;
    attempts_lost?: number;
  }[];
  /** The last governors that left (lost, or stopped in order), with why and when. */
  governors_gone?: {
    governor_id: string;
    state: "lost" | "stopped";
    time: string;
    reason: string;
  }[];
  ready_tasks: number;
  /** Connection counts of the server's listeners (absent from older servers). */
  listeners?: Record<string, ListenerCounts>;
}

export async function runStatus(server: Address, json: boolean, io: Io): Promise<number> {
  const where = formatAddress(server);
  let status: ClusterStatus;
  try {
    const secret = await findSecret(server.host, server.port);
    const res = await fetch(`http://${where}/api/v1/status`, {
      headers: authHeaders(secret),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    if (!res.ok) {
      io.err(`rain: ${refusal(where, "the status", res.status, text, secret !== undefined)}\n`);
      return 1;
    }
    status = JSON.parse(text);
  } catch (e) {
    const err = e as Error & { cause?: Error };
    const msg = err?.name === "TimeoutError"
      ? "no answer in time"
      : (err?.cause?.message ?? err?.message ?? String(e)).split("\n")[0];
    io.err(`rain: no Rain server answers at ${where} (${msg})\n`);
    return 1;
  }
  io.out(json ? JSON.stringify(status, null, 2) + "\n" : formatStatus(status, where));
  return 0;
}

const MIB = 1024 * 1024;

function table(header: string[], rows: string[][], rightAligned: Set<number>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (cells: string[]) =>
    cells.map((c, i) => {
      const width = widths[i] ?? 0;
      return i === cells.length - 1 ? c : rightAligned.has(i) ? c.padStart(width) : c.padEnd(width);
    }).join("  ").trimEnd();
  return [line(header), ...rows.map(line)].join("\n") + "\n";
}

function bar(fraction: number, width = 20): string {
  const filled = Math.max(0, Math.min(width, Math.round(fraction * width)));
  return "[" + "#".repeat(filled) + ".".repeat(width - filled) + "]";
}

/** `memory 2 GiB/16 GiB, gpus 1.5/4 [0:1 1:0.5], licence 1/2` (cpus have their columns). */
export function formatResourceUse(
  offered: GovernorResources | undefined,
  used: ResourceUsage | undefined,
): string {
  if (offered === undefined) return "-";
  const parts: string[] = [];
  if (offered.memory !== undefined) {
    parts.push(`memory ${formatSize(used?.memory ?? 0)}/${formatSize(offered.memory)}`);
  }
  const gpus = offered.gpus ?? [];
  if (gpus.length > 0) {
    const shares = used?.gpus ?? [];
    const total = shares.reduce((a, b) => a + b, 0);
    const busy = gpus.map((id, i) => [id, shares[i] ?? 0] as const).filter(([, s]) => s > 0);
    parts.push(
      `gpus ${Math.round(total * 100) / 100}/${gpus.length}` +
        (busy.length ? ` [${busy.map(([id, s]) => `${id}:${s}`).join(" ")}]` : ""),
    );
  }
  for (const [name, amount] of Object.entries(offered.custom ?? {})) {
    parts.push(`${name} ${used?.custom[name] ?? 0}/${amount}`);
  }
  return parts.length ? parts.join(", ") : "-";
}

/** The human-readable status (pure, for tests). */
export function formatStatus(s: ClusterStatus, where: string): string {
  const cpus = s.governors.reduce((a, g) => a + g.cpus, 0);
  let out = `Rain ${s.version} server at ${where} (pid ${s.pid}, memory ` +
    `${(s.memory.rss / MIB).toFixed(0)} MiB): ${count(s.governors.length, "governor")}, ` +
    `${count(cpus, "cpu")}, ${count(s.sessions.length, "open session")}, ` +
    `${count(s.ready_tasks, "ready task")}\n\n`;
  // A STATE column only when some governor is not simply connected.
  const states = s.governors.some((g) => g.state !== undefined && g.state !== "connected");
  if (s.governors.length === 0) {
    out += "No governors.\n";
  } else {
    out += table(
      [
        "GOVERNOR",
        ...(states ? ["STATE"] : []),
        "CPUS",
        "BUSY",
        "TASKS",
        "RUNNING",
        "CPU%",
        "MEM%",
        "RESOURCES (USED/OFFERED)",
      ],
      s.governors.map((g) => {
        const m = g.monitoring;
        const cpu = m && m.cpu_usage.length
          ? (m.cpu_usage.reduce((a, b) => a + b, 0) / m.cpu_usage.length).toFixed(1)
          : "-";
        const state = g.state === "stalled" && g.silent !== undefined
          ? `stalled (silent ${g.silent.toFixed(1)} s)`
          : g.state ?? "connected";
        return [
          g.governor_id,
          ...(states ? [state] : []),
          String(g.cpus),
          String(Math.min(g.assigned_cpus, g.cpus)),
          String(g.tasks),
          g.running_tasks === undefined ? "-" : String(g.running_tasks),
          cpu,
          m ? m.mem_usage.toFixed(1) : "-",
          formatResourceUse(g.resources, g.resources_in_use),
        ];
      }),
      new Set(states ? [2, 3, 4, 5, 6, 7] : [1, 2, 3, 4, 5, 6]),
    );
  }
  const gone = s.governors_gone ?? [];
  if (gone.length > 0) {
    out += "\n" + table(
      ["GONE", "STATE", "SINCE", "REASON"],
      gone.map((g) => [g.governor_id, g.state, g.time, g.reason]),
      new Set(),
    );
  }
  const listeners: [string, ListenerCounts][] = [
    ...Object.entries(s.listeners ?? {}),
    ...s.governors.flatMap((g): [string, ListenerCounts][] =>
      g.data_listener ? [[`data ${g.governor_id}`, g.data_listener]] : []
    ),
  ];
  if (listeners.length > 0) {
    out += "\n" + table(
      ["LISTENER", "OPEN", "UNAUTH", "ACCEPTED", "REFUSED", "EVICTED", "TIMED OUT", "TOO LARGE"],
      listeners.map(([name, c]) => [
        name,
        ...[c.open, c.unauthenticated, c.accepted, c.refused, c.evicted, c.timed_out].map(String),
        String(c.header_too_large),
      ]),
      new Set([1, 2, 3, 4, 5, 6]),
    );
  }
  out += "\n";
  // Re-run columns only when some session had any.
  const recovery = s.sessions.some((x) =>
    (x.tasks_rerun ?? 0) + (x.tasks_retried ?? 0) + (x.attempts_lost ?? 0) > 0
  );
  if (s.sessions.length === 0) {
    out += "No open sessions.\n";
  } else {
    out += table(
      [
        "SESSION",
        "NAME",
        "CLIENT",
        "STATUS",
        "FINISHED",
        "TOTAL",
        "DONE",
        ...(recovery ? ["RERUNS", "RETRIES", "LOST"] : []),
        "PROGRESS",
      ],
      s.sessions.map((x) => {
        const fraction = x.tasks_submitted ? x.tasks_finished / x.tasks_submitted : 0;
        const state = x.failed
          ? "failed"
          : x.tasks_submitted === 0
          ? "empty"
          : x.tasks_finished >= x.tasks_submitted
          ? "done"
          : "running";
        return [
          String(x.session_id),
          x.name,
          x.client === undefined || x.client === null ? "-" : String(x.client),
          state,
          String(x.tasks_finished),
          String(x.tasks_submitted),
          x.tasks_submitted ? `${(fraction * 100).toFixed(1)}%` : "-",
          ...(recovery
            ? [x.tasks_rerun ?? 0, x.tasks_retried ?? 0, x.attempts_lost ?? 0].map(String)
            : []),
          bar(fraction),
        ];
      }),
      new Set(recovery ? [0, 2, 4, 5, 6, 7, 8, 9] : [0, 2, 4, 5, 6]),
    );
  }
  return out;
}

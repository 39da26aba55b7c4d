/// <reference lib="dom" />
/** Governors: cpu, memory and network over time (the `Monitoring` events), live state. */
import type { Ctx, View } from "../view.ts";
import { lineChart } from "../chart.ts";
import { badge, errorBox, fmtBytes, fmtNumber, fmtTime, h, replace } from "../dom.ts";
import type { GovernorRow, LiveStatus, MonitoringPoint } from "../types.ts";

/** ` · memory 2 GiB/16 GiB · gpus 1.5/4 · licence 1/2` (what assigned tasks hold, of what). */
function resourceUse(state: LiveStatus["governors"][number]): string {
  const offered = state.resources;
  if (offered === undefined) return "";
  const used = state.resources_in_use;
  let out = "";
  if (offered.memory !== undefined) {
    out += ` · memory ${fmtBytes(used?.memory ?? 0)}/${fmtBytes(offered.memory)}`;
  }
  const gpus = offered.gpus ?? [];
  if (gpus.length > 0) {
    const held = (used?.gpus ?? []).reduce((a, b) => a + b, 0);
    out += ` · gpus ${Math.round(held * 100) / 100}/${gpus.length} (${gpus.join(",")})`;
  }
  for (const [name, amount] of Object.entries(offered.custom ?? {})) {
    out += ` · ${name} ${used?.custom[name] ?? 0}/${amount}`;
  }
  return out;
}

const MAX_POINTS = 1500;
const CORE_COLORS = ["#9db4d3", "#b7c9a8", "#d8b4a0", "#c3b1d6", "#a8d0cf", "#d9c98f"];

interface Track {
  t: number[];
  points: MonitoringPoint[];
}

function clock(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** Why and since when it is not simply connected (issue 12); its error when it left. */
function recoveryNote(g: GovernorRow): HTMLElement | null {
  const parts: string[] = [];
  if (g.stalled_since) parts.push(`stalled since ${fmtTime(g.stalled_since)} (heartbeat overdue)`);
  if (g.draining_since) parts.push(`draining since ${fmtTime(g.draining_since)}`);
  if (g.removed && g.error) {
    const stopped = g.stopped === true || g.state === "stopped";
    parts.push(`${stopped ? "stopped" : "lost"} ${fmtTime(g.removed)}: ${g.error}`);
  } else if (g.error) parts.push(g.error);
  if (g.stalls) parts.push(`stalled ${g.stalls}×`);
  if (parts.length === 0) return null;
  const bad = g.state === "lost" || g.state === "stalled" || (!g.state && g.error && !g.stopped);
  return h(
    "div",
    { class: bad ? "failed recovery-note" : "muted recovery-note" },
    parts.join(" · "),
  );
}

export function governorsView(ctx: Ctx): View {
  const body = h("div", null, h("p", { class: "muted" }, "Loading…"));
  const el = h("section", { class: "view governors-view" }, h("h2", null, "Governors"), body);
  const tracks = new Map<string, Track>();
  let last: number | undefined;

  function add(governor: string, points: MonitoringPoint[]): void {
    let track = tracks.get(governor);
    if (!track) tracks.set(governor, track = { t: [], points: [] });
    for (const p of points) {
      const t = Date.parse(p.time);
      const latest = track.t.at(-1);
      if (latest !== undefined && t <= latest) continue;
      track.t.push(t);
      track.points.push(p);
      if (last === undefined || t > last) last = t;
    }
    if (track.t.length > MAX_POINTS) {
      // Keep every other point of the older half.
      const half = Math.floor(track.t.length / 2);
      const keep = (_: unknown, i: number) => i >= half || i % 2 === 0;
      track.t = track.t.filter(keep);
      track.points = track.points.filter(keep);
    }
  }

  function card(g: GovernorRow, live: LiveStatus | null): HTMLElement {
    const track = tracks.get(g.governor) ?? { t: [], points: [] };
    const state = live?.governors.find((x) => x.governor_id === g.governor);
    // A governor that left on purpose (rain stop, drain) stopped; one that vanished was lost.
    const stopped = g.stopped === true || g.state === "stopped";
    const status = g.removed
      ? (stopped ? "closed" : "lost")
      : live === null
      ? "closed"
      : state
      ? "open"
      : "lost";
    const shown = g.state === undefined || g.state === "connected" || g.state === "stopped"
      ? (status === "open" ? "running" : status === "lost" ? "lost" : "stopped")
      : g.state;
    const cores = track.points[0]?.cpu.length ?? 0;
    const timeOf = (i: number) => track.t[i]!; // t and points are pushed together
    const mean = track.points.map((p, i) =>
      [timeOf(i), p.cpu.length ? p.cpu.reduce((a, b) => a + b, 0) / p.cpu.length : 0] as [
        number,
        number,
      ]
    );
    const perCore = cores <= 16
      ? Array.from({ length: cores }, (_, c) => ({
        name: `core ${c}`,
        color: CORE_COLORS[c % CORE_COLORS.length]!,
        width: 1,
        opacity: 0.8,
        points: track.points.map((p, i) => [timeOf(i), p.cpu[c] ?? 0] as [number, number]),
      }))
      : [];
    const xFormat = (v: number) => clock(v);
    const lastPoint = track.points.at(-1);
    return h(
      "div",
      { class: "card governor-card", "data-governor": g.governor },
      h(
        "div",
        { class: "card-head" },
        h("b", null, g.governor),
        " ",
        badge(shown),
        h(
          "span",
          { class: "muted" },
          ` ${g.cpus} cpus` +
            (g.executors?.length ? ` · executors ${g.executors.join(", ")}` : "") +
            ` · since ${fmtTime(g.added)}` + (g.removed ? ` · removed ${fmtTime(g.removed)}` : "") +
            (state
              ? ` · ${state.assigned_cpus}/${state.cpus} cpus busy, ${
                fmtNumber(state.tasks)
              } tasks` +
                resourceUse(state)
              : ""),
        ),
        recoveryNote(g),
      ),
      lastPoint === undefined ? h("p", { class: "muted" }, "No monitoring sample yet.") : h(
        "div",
        { class: "charts" },
        lineChart([
          { name: "mean of cores", color: "#1f5fa8", width: 2, points: mean },
          ...perCore,
        ], {
          title: `CPU % (${cores} cores)${` — now ${(mean.at(-1)?.[1] ?? 0).toFixed(0)}%`}`,
          yMax: 100,
          height: 150,
          xFormat,
        }),
        lineChart([
          {
            name: "memory used",
            color: "#8c3fa8",
            width: 2,
            points: track.points.map((p, i) => [timeOf(i), p.mem]),
          },
        ], {
          title: `Memory % — now ${lastPoint.mem.toFixed(1)}%`,
          yMax: 100,
          height: 150,
          area: true,
          xFormat,
        }),
        lineChart([
          {
            name: "received",
            color: "#2a9d4b",
            width: 1.5,
            points: track.points.map((p, i) => [timeOf(i), p.net_rx]),
          },
          {
            name: "sent",
            color: "#e07a1f",
            width: 1.5,
            points: track.points.map((p, i) => [timeOf(i), p.net_tx]),
          },
        ], {
          title: `Network B/s — rx ${fmtBytes(lastPoint.net_rx)}/s, tx ${
            fmtBytes(lastPoint.net_tx)
          }/s`,
          height: 150,
          xFormat,
          yFormat: (v) => fmtBytes(v),
        }),
      ),
    );
  }

  return {
    el,
    async update() {
      try {
        const [list, monitoring, live] = await Promise.all([
          ctx.api.governors(),
          // From a little before the last sample: network rates need the previous one.
          ctx.api.monitoring(last === undefined ? undefined : last - 10_000),
          ctx.meta.mode === "live" ? ctx.api.status() : Promise.resolve(null),
        ]);
        for (const g of monitoring.governors) add(g.governor, g.points);
        const sorted = [...list].sort((a, b) =>
          (a.removed ? 1 : 0) - (b.removed ? 1 : 0) || a.governor.localeCompare(b.governor)
        );
        replace(
          body,
          sorted.length === 0
            ? h("p", { class: "muted" }, "No governor yet.")
            : sorted.map((g) => card(g, live)),
        );
      } catch (e) {
        replace(body, errorBox(String(e instanceof Error ? e.message : e)));
      }
      return ctx.meta.mode === "live";
    },
  };
}

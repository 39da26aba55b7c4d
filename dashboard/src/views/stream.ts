/// <reference lib="dom" />
/**
 * Task stream: one row per governor cpu, a bar per task coloured by task name, a transfer row per
 * governor; idle time is the empty background. Canvas, zoom with the wheel (or buttons), pan by
 * dragging, double-click to fit; hover for details, click a bar to inspect the task.
 */
import { type Ctx, isActive, type View } from "../view.ts";
import { errorBox, fmtBytes, fmtDuration, h, nameColor, replace } from "../dom.ts";
import {
  hitTest,
  type Lane,
  lanesOf,
  StreamModel,
  tickStep,
  utilization,
  visibleRange,
} from "../stream_model.ts";

const LANE_H = 14, TRANSFER_H = 8, GAP = 6, AXIS_H = 22, LABEL_W = 150;
/** Rows asked per request; the server returns the longest first when a window holds more. */
const LIMIT = 100000;

export function streamView(ctx: Ctx, sid: number): View {
  const model = new StreamModel();
  const canvas = h("canvas", { class: "stream-canvas" });
  const tooltip = h("div", { class: "tooltip", hidden: true });
  const legend = h("div", { class: "legend" });
  const note = h("div", { class: "note" });
  const status = h("span", { class: "muted" });
  const wrap = h("div", { class: "stream-wrap" }, canvas, tooltip);
  let view: [number, number] | null = null; // null: fit everything (follows live data)
  let layout: { lane: Lane; y: number; h: number }[] = [];
  let active = ctx.meta.mode === "live";
  let lastActive = true;
  let first = true;
  let refetchTimer: ReturnType<typeof setTimeout> | undefined;
  let error: string | null = null;

  const el = h(
    "section",
    { class: "view stream-view" },
    h(
      "div",
      { class: "toolbar" },
      h("button", { onclick: () => zoom(0.5), title: "zoom in" }, "+"),
      h("button", { onclick: () => zoom(2), title: "zoom out" }, "−"),
      h("button", { onclick: () => fit(), title: "show everything (double-click)" }, "Fit"),
      status,
      h("span", { class: "hint" }, "wheel: zoom · drag: pan · click a bar: inspect"),
    ),
    note,
    wrap,
    legend,
  );

  /** Session time now: running tasks end here (the session's end once it is over). */
  const now = () => {
    if (!model.start) return 0;
    if (!active && model.end) return (Date.parse(model.end) - Date.parse(model.start)) / 1000;
    return Math.max(model.latest(), (Date.now() - Date.parse(model.start)) / 1000);
  };
  const extent = (): [number, number] => {
    const end = Math.max(model.latest(), model.earliestRunning() !== undefined ? now() : 0, 1e-3);
    return [0, end * 1.01];
  };
  const window_ = (): [number, number] => view ?? extent();

  function fit(): void {
    tooltip.hidden = true;
    view = null;
    draw();
  }

  function zoom(factor: number, centerX?: number): void {
    // What the tooltip said is no longer under the pointer.
    tooltip.hidden = true;
    const [t0, t1] = window_();
    const plotW = canvas.clientWidth - LABEL_W;
    const fx = centerX === undefined ? 0.5 : Math.min(1, Math.max(0, (centerX - LABEL_W) / plotW));
    const c = t0 + (t1 - t0) * fx;
    const span = Math.max(1e-6, (t1 - t0) * factor);
    view = [c - span * fx, c - span * fx + span];
    draw();
    scheduleRefetch();
  }

  /** When the server truncated the answer, the visible window is fetched again in detail. */
  function scheduleRefetch(): void {
    if (!model.truncated) return;
    clearTimeout(refetchTimer);
    refetchTimer = setTimeout(async () => {
      const [t0, t1] = window_();
      try {
        model.merge(await ctx.api.stream(sid, Math.max(0, t0), t1, LIMIT));
        draw();
      } catch {
        // shown on the next poll
      }
    }, 250);
  }

  function draw(): void {
    const lanes = model.build(now());
    const dpr = globalThis.devicePixelRatio || 1;
    const width = Math.max(300, wrap.clientWidth);
    layout = [];
    let y = AXIS_H;
    let prevGov = "";
    for (const lane of lanes) {
      if (lane.governor !== prevGov && prevGov !== "") y += GAP;
      prevGov = lane.governor;
      const lh = lane.cpu < 0 ? TRANSFER_H : LANE_H;
      layout.push({ lane, y, h: lh });
      y += lh + 1;
    }
    const height = Math.max(y + 4, 80);
    // For tests and tools: how many cpu rows are drawn.
    canvas.dataset.lanes = String(lanes.filter((l) => l.cpu >= 0).length);
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
    canvas.style.width = `${width}px`;
    canvas.style.height = `${height}px`;
    const g = canvas.getContext("2d")!;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, width, height);
    const [t0, t1] = window_();
    const plotW = width - LABEL_W;
    const scale = plotW / (t1 - t0);
    const xOf = (t: number) => LABEL_W + (t - t0) * scale;

    // Row backgrounds (idle time shows as background) and labels.
    g.font = "11px system-ui, sans-serif";
    g.textBaseline = "middle";
    prevGov = "";
    for (const { lane, y, h: lh } of layout) {
      g.fillStyle = lane.cpu < 0 ? "#eef0f4" : "#f6f7f9";
      g.fillRect(LABEL_W, y, plotW, lh);
      g.fillStyle = "#555";
      if (lane.governor !== prevGov) {
        g.fillStyle = "#222";
        g.fillText(shorten(lane.governor, 20), 4, y + lh / 2);
        prevGov = lane.governor;
      }
      g.fillStyle = "#777";
      g.textAlign = "right";
      g.fillText(lane.cpu < 0 ? "transfers" : `cpu ${lane.cpu}`, LABEL_W - 6, y + lh / 2);
      g.textAlign = "left";
    }

    // Grid lines behind the bars.
    const step = tickStep(t1 - t0, Math.max(2, Math.floor(plotW / 110)));
    g.strokeStyle = "#d5d9e0";
    g.beginPath();
    for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) {
      const x = Math.round(xOf(t)) + 0.5;
      g.moveTo(x, AXIS_H - 6);
      g.lineTo(x, height);
    }
    g.stroke();

    // Bars, batched per colour; bars thinner than a pixel are merged per pixel column.
    const paths = new Map<string, Path2D>();
    const pathOf = (color: string) => {
      let p = paths.get(color);
      if (!p) paths.set(color, p = new Path2D());
      return p;
    };
    let drawn = 0;
    for (const { lane, y, h: lh } of layout) {
      const [from, to] = visibleRange(lane, t0, t1);
      let lastPx = -1, lastKey = "";
      for (let i = from; i < to; i++) {
        // i < to <= the lane's length: every lane array has entry i.
        const s = lane.starts[i]!, e = lane.ends[i]!;
        if (e < t0) continue;
        const x0 = Math.max(LABEL_W, xOf(s)), x1 = Math.min(width, xOf(e));
        const color = lane.cpu < 0
          ? "#8a94a6"
          : lane.failed[i]
          ? "#d62828"
          : nameColor(model.names[lane.names[i]!] ?? "");
        const px = Math.floor(x0);
        if (x1 - x0 < 1) {
          if (px === lastPx && color === lastKey) continue;
          lastPx = px;
          lastKey = color;
          pathOf(color).rect(px, y, 1, lh);
        } else {
          lastPx = Math.floor(x1);
          lastKey = color;
          pathOf(color).rect(x0, y + 0.5, Math.max(1, x1 - x0 - (x1 - x0 > 3 ? 0.5 : 0)), lh - 1);
        }
        drawn++;
      }
    }
    for (const [color, path] of paths) {
      g.fillStyle = color;
      g.fill(path);
    }
    // Failed tasks get a dark outline so they stand out at any zoom.
    g.strokeStyle = "#7a0000";
    for (const { lane, y, h: lh } of layout) {
      if (lane.cpu < 0) continue;
      const [from, to] = visibleRange(lane, t0, t1);
      for (let i = from; i < to; i++) {
        if (!lane.failed[i]) continue;
        const x0 = Math.max(LABEL_W, xOf(lane.starts[i]!)),
          x1 = Math.min(width, xOf(lane.ends[i]!));
        g.strokeRect(x0 + 0.5, y + 0.5, Math.max(2, x1 - x0 - 1), lh - 1);
      }
    }

    // Time axis.
    g.fillStyle = "#fff";
    g.fillRect(0, 0, width, AXIS_H - 2);
    g.fillStyle = "#444";
    g.textAlign = "center";
    for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) {
      g.fillText(fmtDuration(Math.abs(t) < step / 1e6 ? 0 : t), xOf(t), 9);
    }
    g.textAlign = "left";
    const running = [...model.tasks.values()].filter((t) => t.end === null).length;
    const cpus = model.governors.reduce((n, g) => n + g.cpus, 0) || undefined;
    const util = utilization(lanes, Math.max(0, t0), Math.min(t1, now()), cpus);
    status.textContent = `${model.tasks.size.toLocaleString("en-US")} tasks` +
      (running ? `, ${running} running` : "") +
      `, ${model.transfers.length} transfers · window ${fmtDuration(t1 - t0)}` +
      ` · cpu busy ${(util * 100).toFixed(0)}% · ${drawn.toLocaleString("en-US")} bars drawn`;
    note.textContent = model.truncated
      ? "The server sent the longest tasks of this window only; zoom in to see every task."
      : "";
  }

  function renderLegend(): void {
    const counts = new Map<string, number>();
    for (const t of model.tasks.values()) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
    const top = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 24);
    replace(
      legend,
      top.map(([name, n]) =>
        h(
          "span",
          { class: "legend-item" },
          h("i", { style: `background:${nameColor(name)}` }),
          `${name} (${n.toLocaleString("en-US")})`,
        )
      ),
      h("span", { class: "legend-item" }, h("i", { style: "background:#d62828" }), "failed"),
      h("span", { class: "legend-item" }, h("i", { style: "background:#8a94a6" }), "transfer"),
    );
  }

  // --- interaction ---------------------------------------------------------------------------
  let drag: { x: number; view: [number, number]; moved: boolean } | null = null;
  canvas.addEventListener("wheel", (ev) => {
    ev.preventDefault();
    const rect = canvas.getBoundingClientRect();
    zoom(Math.pow(1.0015, ev.deltaY), ev.clientX - rect.left);
  }, { passive: false });
  canvas.addEventListener("mousedown", (ev) => {
    drag = { x: ev.clientX, view: window_(), moved: false };
  });
  globalThis.addEventListener("mouseup", () => {
    if (drag?.moved) scheduleRefetch();
    setTimeout(() => (drag = null), 0);
  });
  canvas.addEventListener("mousemove", (ev) => {
    const rect = canvas.getBoundingClientRect();
    const x = ev.clientX - rect.left, y = ev.clientY - rect.top;
    if (drag && ev.buttons === 1) {
      const dx = ev.clientX - drag.x;
      if (Math.abs(dx) > 2) drag.moved = true;
      const [t0, t1] = drag.view;
      const dt = dx / (canvas.clientWidth - LABEL_W) * (t1 - t0);
      view = [t0 - dt, t1 - dt];
      draw();
      tooltip.hidden = true;
      return;
    }
    const hit = hitAt(x, y);
    if (!hit) {
      tooltip.hidden = true;
      canvas.style.cursor = "default";
      return;
    }
    canvas.style.cursor = hit.task ? "pointer" : "default";
    replace(tooltip, ...hit.lines.map((l, i) => i === 0 ? h("b", null, l) : h("div", null, l)));
    tooltip.hidden = false;
    placeTooltip(ev.clientX, ev.clientY);
  });
  /**
   * Beside the pointer, inside the window (fixed: a short canvas does not clip it), flipped to
   * the pointer's left or above it where there is no room.
   */
  function placeTooltip(px: number, py: number): void {
    const { width, height } = tooltip.getBoundingClientRect();
    const vw = document.documentElement.clientWidth, vh = document.documentElement.clientHeight;
    let left = px + 14, top = py + 14;
    if (left + width > vw - 4) left = px - 14 - width;
    if (top + height > vh - 4) top = py - 14 - height;
    tooltip.style.left = `${Math.max(4, left)}px`;
    tooltip.style.top = `${Math.max(4, top)}px`;
  }
  canvas.addEventListener("mouseleave", () => (tooltip.hidden = true));
  canvas.addEventListener("dblclick", () => fit());
  canvas.addEventListener("click", (ev) => {
    if (drag?.moved) return;
    const rect = canvas.getBoundingClientRect();
    const hit = hitAt(ev.clientX - rect.left, ev.clientY - rect.top);
    if (hit?.task !== undefined) ctx.navigate(`#/s/${sid}/task/${hit.task}`);
  });

  function hitAt(x: number, y: number): { lines: string[]; task?: number } | null {
    if (x < LABEL_W) return null;
    const row = layout.find((r) => y >= r.y && y < r.y + r.h + 1);
    if (!row) return null;
    const [t0, t1] = window_();
    const scale = (canvas.clientWidth - LABEL_W) / (t1 - t0);
    const t = t0 + (x - LABEL_W) / scale;
    const i = hitTest(row.lane, t, 2 / scale);
    if (i < 0) return null;
    if (row.lane.cpu < 0) {
      const tr = model.transfers[row.lane.ids[i]!]; // i: a bar hitTest found
      if (tr === undefined) return null;
      const obj = Array.isArray(tr.object) ? tr.object.join("/") : String(tr.object);
      return {
        lines: [
          `transfer of object ${obj}`,
          `${tr.from} → ${tr.to}`,
          `${fmtBytes(tr.bytes)} in ${fmtDuration(tr.duration)}`,
          `at ${fmtDuration(tr.start)}`,
        ],
      };
    }
    const task = model.tasks.get(row.lane.ids[i]!)!;
    const lanes = lanesOf(task);
    return {
      task: task.id,
      lines: [
        `${task.name} — task ${sid}/${task.id}`,
        `${task.governor}, cpu ${lanes.join(", ")}`,
        `start ${fmtDuration(task.start)}, ` +
        (task.end === null
          ? "running"
          : task.cancelled
          ? `cancelled after ${fmtDuration(task.end - task.start)} (its session ended)`
          : `took ${fmtDuration(task.end - task.start)}`),
        task.failed ? "FAILED" : "",
      ].filter(Boolean),
    };
  }

  const resize = new ResizeObserver(() => draw());
  resize.observe(wrap);

  return {
    el,
    async update() {
      try {
        if (ctx.meta.mode === "live") active = isActive((await ctx.api.summary(sid)).status);
        let answer;
        if (first) {
          answer = await ctx.api.stream(sid, undefined, undefined, LIMIT);
        } else {
          const from = Math.max(
            0,
            Math.min(model.earliestRunning() ?? Infinity, model.latest() - 1),
          );
          answer = await ctx.api.stream(sid, from, undefined, LIMIT);
        }
        model.merge(answer);
        const since = first ? undefined : Math.max(0, model.latest() - 5);
        model.mergeTransfers(await ctx.api.transfers(sid, since));
        first = false;
        error = null;
      } catch (e) {
        error = String(e instanceof Error ? e.message : e);
      }
      if (error) note.replaceChildren(errorBox(error));
      renderLegend();
      draw();
      // One more round after the session ended picks up its last events.
      const keepGoing = active || lastActive;
      lastActive = active;
      return ctx.meta.mode === "live" && keepGoing;
    },
    destroy() {
      resize.disconnect();
      clearTimeout(refetchTimer);
    },
  };
}

function shorten(s: string, n: number): string {
  return s.length <= n ? s : "…" + s.slice(s.length - n + 1);
}

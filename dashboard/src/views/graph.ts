/// <reference lib="dom" />
/**
 * The task graph: tasks grouped by name (readable at 100k tasks: one node per name, edges with
 * counts and bytes), or every task when the session is small. SVG, layered top to bottom.
 */
import { type Ctx, isActive, type View } from "../view.ts";
import { errorBox, fmtBytes, fmtNumber, h, nameColor, replace, svg } from "../dom.ts";
import { layoutDag } from "../dag_layout.ts";
import type { TaskGraph } from "../types.ts";

/** Up to this many tasks the graph may show single tasks. */
const TASK_LEVEL_MAX = 2000;
/** The task view opens by itself only when its boxes are at least this wide on screen (px). */
const READABLE_BOX_PX = 80;

export function graphView(ctx: Ctx, sid: number): View {
  const body = h("div", { class: "graph-wrap" }, h("p", { class: "muted" }, "Loading…"));
  const modeGroups = h("button", { class: "toggle" }, "Groups");
  const modeTasks = h("button", { class: "toggle" }, "Tasks");
  const fitButton = h("button", { class: "toggle" }, "Fit width");
  const info = h("span", { class: "muted" });
  const el = h(
    "section",
    { class: "view graph-view" },
    h("div", { class: "toolbar" }, h("b", null, "Show: "), modeGroups, modeTasks, fitButton, info),
    body,
  );
  let mode: "groups" | "tasks" | null = null;
  let fit = true;
  let graph: TaskGraph | null = null;
  let signature = "";
  let lastCounts = "";

  modeGroups.addEventListener("click", () => (mode = "groups", render(true)));
  modeTasks.addEventListener("click", () => {
    if (!modeTasks.hasAttribute("disabled")) (mode = "tasks", render(true));
  });
  fitButton.addEventListener("click", () => (fit = !fit, render(true)));

  function render(force = false): void {
    if (!graph) return;
    const total = graph.groups.reduce((n, g) => n + g.count, 0);
    const tasksAvailable = !!graph.tasks && graph.tasks.length > 0;
    if (mode === null) mode = tasksAvailable && tasksReadable(graph) ? "tasks" : "groups";
    if (mode === "tasks" && !tasksAvailable) mode = "groups";
    modeTasks.toggleAttribute("disabled", !tasksAvailable);
    modeTasks.title = tasksAvailable ? "" : `single tasks are shown up to ${TASK_LEVEL_MAX} tasks`;
    modeGroups.classList.toggle("on", mode === "groups");
    modeTasks.classList.toggle("on", mode === "tasks");
    fitButton.classList.toggle("on", fit);
    const sig = JSON.stringify([
      mode,
      fit,
      graph.groups,
      mode === "tasks" ? graph.tasks : graph.edges,
    ]);
    if (!force && sig === signature) return;
    signature = sig;
    info.textContent = ` ${fmtNumber(graph.groups.length)} groups, ${fmtNumber(total)} tasks`;
    replace(body, mode === "tasks" ? taskGraph(graph) : groupGraph(graph));
  }

  function frame(width: number, height: number, ...children: SVGElement[]): SVGSVGElement {
    const root = svg("svg", {
      class: "graph",
      viewBox: `0 0 ${width} ${height}`,
      width: fit ? "100%" : width,
      height: fit ? undefined : height,
      style: fit ? `max-height:${Math.max(300, Math.min(height, 2400))}px` : undefined,
    });
    root.appendChild(svg(
      "defs",
      null,
      svg(
        "marker",
        {
          id: "arrow",
          viewBox: "0 0 10 10",
          refX: 9,
          refY: 5,
          markerWidth: 7,
          markerHeight: 7,
          orient: "auto-start-reverse",
        },
        svg("path", { d: "M0,0L10,5L0,10z", fill: "#8895a7" }),
      ),
    ));
    children.forEach((c) => root.appendChild(c));
    return root;
  }

  function edgePath(x1: number, y1: number, x2: number, y2: number): string {
    const my = (y1 + y2) / 2;
    return `M${x1},${y1}C${x1},${my} ${x2},${my} ${x2},${y2}`;
  }

  function groupGraph(g: TaskGraph): Element {
    if (g.groups.length === 0) return h("p", { class: "muted" }, "No task yet.");
    const W = (name: string) => Math.max(130, Math.min(260, name.length * 7.5 + 30));
    const nodes = g.groups.map((gr) => ({ id: gr.name, width: W(gr.name), height: 52 }));
    const layout = layoutDag(nodes, g.edges, { hGap: 30, vGap: 70 });
    const size = new Map(nodes.map((n) => [n.id, n]));
    const edges = svg("g", { class: "edges" });
    const labels = svg("g", { class: "edge-labels" });
    for (const e of g.edges) {
      const a = layout.nodes.get(e.from), b = layout.nodes.get(e.to);
      if (!a || !b) continue;
      const na = size.get(e.from)!, nb = size.get(e.to)!;
      const x1 = a.x + na.width / 2, y1 = a.y + na.height, x2 = b.x + nb.width / 2, y2 = b.y;
      const self = e.from === e.to;
      const back = b.layer <= a.layer && !self;
      const d = self
        ? `M${a.x + na.width},${a.y + 16}c40,0 40,20 0,20`
        : back
        ? `M${a.x + na.width},${a.y + na.height / 2}C${a.x + na.width + 60},${a.y} ${
          b.x + nb.width + 60
        },${b.y + nb.height} ${b.x + nb.width},${b.y + nb.height / 2}`
        : edgePath(x1, y1, x2, y2);
      const width = Math.min(6, 1 + Math.log10(1 + e.count));
      edges.appendChild(
        svg(
          "path",
          { d, class: "edge", "stroke-width": width, "marker-end": "url(#arrow)" },
          svg(
            "title",
            null,
            `${e.from} → ${e.to}: ${fmtNumber(e.count)} dependencies, ${fmtBytes(e.bytes)}`,
          ),
        ),
      );
      if (!self && !back) {
        labels.appendChild(svg(
          "text",
          { x: (x1 + x2) / 2 + 4, y: (y1 + y2) / 2 + 3, class: "edge-label" },
          `${fmtNumber(e.count)} · ${fmtBytes(e.bytes)}`,
        ));
      }
    }
    const groupNodes = svg("g", { class: "nodes" });
    for (const gr of g.groups) {
      const p = layout.nodes.get(gr.name)!;
      const w = size.get(gr.name)!.width;
      const done = gr.count ? gr.finished / gr.count : 0, bad = gr.count ? gr.failed / gr.count : 0;
      const node = svg(
        "g",
        {
          class: "node group-node",
          transform: `translate(${p.x},${p.y})`,
          "data-group": gr.name,
          onclick: () => ctx.navigate(`#/s/${sid}/groups/${encodeURIComponent(gr.name)}`),
        },
        svg("rect", {
          width: w,
          height: 52,
          rx: 6,
          fill: "#fff",
          stroke: nameColor(gr.name),
          "stroke-width": 2,
        }),
        svg("rect", { x: 0, y: 0, width: 8, height: 52, rx: 3, fill: nameColor(gr.name) }),
        svg("text", { x: 16, y: 18, class: "node-title" }, gr.name),
        svg(
          "text",
          { x: 16, y: 34, class: "node-sub" },
          `${fmtNumber(gr.count)} tasks` + (gr.failed ? `, ${fmtNumber(gr.failed)} failed` : ""),
        ),
        svg("rect", { x: 16, y: 41, width: w - 26, height: 5, fill: "#e4e7ec" }),
        svg("rect", { x: 16, y: 41, width: (w - 26) * done, height: 5, fill: "#2a9d4b" }),
        svg("rect", {
          x: 16 + (w - 26) * done,
          y: 41,
          width: (w - 26) * bad,
          height: 5,
          fill: "#d62828",
        }),
        svg(
          "title",
          null,
          `${gr.name}: ${gr.count} tasks, ${gr.finished} finished, ${gr.failed} failed`,
        ),
      );
      groupNodes.appendChild(node);
    }
    return frame(layout.width + 80, layout.height, edges, labels, groupNodes);
  }

  /**
   * Whether every task's box, fitted to the width of the view, stays wide enough to read its
   * label (a wide layer of 50 tasks does not): otherwise the graph opens grouped.
   */
  function tasksReadable(g: TaskGraph): boolean {
    const { layout, W } = taskLayout(g);
    const room = body.clientWidth || document.documentElement.clientWidth - 40;
    const scale = Math.min(1, room / Math.max(1, layout.width));
    return W * scale >= READABLE_BOX_PX;
  }

  function taskLayout(g: TaskGraph) {
    const tasks = g.tasks ?? [];
    const small = tasks.length <= 150;
    const W = small ? 110 : 26, H = small ? 34 : 16;
    const nodes = tasks.map((t) => ({ id: String(t.id), width: W, height: H }));
    const edgeList = tasks.flatMap((t) =>
      t.inputs.map((i) => ({ from: String(i), to: String(t.id) }))
    );
    const layout = layoutDag(nodes, edgeList, { hGap: small ? 18 : 6, vGap: small ? 46 : 30 });
    return { tasks, small, W, H, edgeList, layout };
  }

  function taskGraph(g: TaskGraph): Element {
    const { tasks, small, W, H, edgeList, layout } = taskLayout(g);
    const edges = svg("g", { class: "edges" });
    for (const e of edgeList) {
      const a = layout.nodes.get(e.from), b = layout.nodes.get(e.to);
      if (!a || !b) continue;
      edges.appendChild(svg("path", {
        d: edgePath(a.x + W / 2, a.y + H, b.x + W / 2, b.y),
        class: "edge",
        "marker-end": small ? "url(#arrow)" : undefined,
      }));
    }
    const nodeGroup = svg("g", { class: "nodes" });
    for (const t of tasks) {
      const p = layout.nodes.get(String(t.id))!;
      const color = nameColor(t.name);
      const stateClass = t.state === "failed"
        ? "failed"
        : t.state === "finished"
        ? "finished"
        : t.state === "running"
        ? "running"
        : t.state === "cancelled"
        ? "cancelled"
        : "waiting";
      nodeGroup.appendChild(svg(
        "g",
        {
          class: `node task-node state-${stateClass}`,
          transform: `translate(${p.x},${p.y})`,
          "data-task": t.id,
          onclick: () => ctx.navigate(`#/s/${sid}/task/${t.id}`),
        },
        svg("rect", {
          width: W,
          height: H,
          rx: 4,
          fill: stateClass === "waiting" || stateClass === "cancelled"
            ? "#fff"
            : stateClass === "failed"
            ? "#fde2e2"
            : color,
          "fill-opacity": stateClass === "running" ? 0.25 : stateClass === "finished" ? 0.55 : 1,
          stroke: stateClass === "failed" ? "#d62828" : color,
          "stroke-width": stateClass === "failed" ? 3 : 2,
          "stroke-dasharray": stateClass === "running"
            ? "4 2"
            : stateClass === "cancelled"
            ? "1 3"
            : undefined,
        }),
        small
          ? svg(
            "text",
            { x: W / 2, y: 14, class: "node-title", "text-anchor": "middle" },
            clip(t.name, 14),
          )
          : null,
        small
          ? svg(
            "text",
            { x: W / 2, y: 27, class: "node-sub", "text-anchor": "middle" },
            `${sid}/${t.id} · ${t.state}`,
          )
          : null,
        svg("title", null, `task ${sid}/${t.id} ${t.name}: ${t.state}`),
      ));
    }
    return frame(layout.width, layout.height, edges, nodeGroup);
  }

  return {
    el,
    async update() {
      let live = ctx.meta.mode === "live";
      try {
        // The graph is fetched again only when the session's counts moved.
        const s = await ctx.api.summary(sid);
        live = live && isActive(s.status);
        const counts = [s.tasks_total, s.tasks_finished, s.tasks_failed, s.status].join();
        if (counts !== lastCounts || !graph) graph = await ctx.api.graph(sid, true);
        lastCounts = counts;
      } catch (e) {
        replace(body, errorBox(String(e instanceof Error ? e.message : e)));
        return live;
      }
      render();
      return live;
    },
  };
}

function clip(s: string, n: number): string {
  return s.length <= n ? s : s.slice(0, n - 1) + "…";
}

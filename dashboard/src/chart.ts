/// <reference lib="dom" />
/** Line charts in SVG (monitoring series, progress over time). */
import { svg } from "./dom.ts";

export interface Series {
  name: string;
  color: string;
  /** `[x, y]` with x ascending. */
  points: [number, number][];
  width?: number;
  opacity?: number;
}

export interface ChartOptions {
  width?: number;
  height?: number;
  /** Fixed y maximum (e.g. 100 for percentages); else from the data. */
  yMax?: number;
  yFormat?: (v: number) => string;
  xFormat?: (v: number) => string;
  title?: string;
  /** Fill the area under the first series. */
  area?: boolean;
  /** Step line (value holds until the next point). */
  step?: boolean;
}

/** Round "nice" tick values covering `[0, max]`. */
export function niceTicks(max: number, count = 4): number[] {
  if (!(max > 0)) return [0];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let v = 0; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

export function lineChart(series: Series[], options: ChartOptions = {}): SVGSVGElement {
  const W = options.width ?? 600, H = options.height ?? 160;
  const left = 54, right = 10, top = options.title ? 20 : 8, bottom = 22;
  const pw = W - left - right, ph = H - top - bottom;
  let x0 = Infinity, x1 = -Infinity, yMax = options.yMax ?? 0;
  for (const s of series) {
    for (const [x, y] of s.points) {
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (options.yMax === undefined && y > yMax) yMax = y;
    }
  }
  if (!Number.isFinite(x0)) x0 = 0, x1 = 1;
  if (x1 <= x0) x1 = x0 + 1;
  const ticks = niceTicks(yMax > 0 ? yMax : 1);
  const top_ = Math.max(ticks.at(-1) ?? 1, yMax || 1);
  const sx = (x: number) => left + (x - x0) / (x1 - x0) * pw;
  const sy = (y: number) => top + ph - (y / top_) * ph;
  const yFmt = options.yFormat ?? ((v: number) => String(v));
  const xFmt = options.xFormat ?? ((v: number) => v.toFixed(1));
  const root = svg("svg", {
    class: "chart",
    viewBox: `0 0 ${W} ${H}`,
    width: "100%",
  });
  if (options.title) {
    root.appendChild(svg("text", { x: left, y: 13, class: "chart-title" }, options.title));
  }
  for (const t of ticks) {
    const y = sy(t);
    root.appendChild(svg("line", { x1: left, x2: W - right, y1: y, y2: y, class: "grid" }));
    root.appendChild(
      svg("text", { x: left - 4, y: y + 3, class: "tick", "text-anchor": "end" }, yFmt(t)),
    );
  }
  for (let i = 0; i <= 4; i++) {
    const xv = x0 + (x1 - x0) * i / 4;
    root.appendChild(
      svg(
        "text",
        {
          x: sx(xv),
          y: H - 6,
          class: "tick",
          "text-anchor": i === 0 ? "start" : i === 4 ? "end" : "middle",
        },
        xFmt(xv),
      ),
    );
  }
  root.appendChild(
    svg("line", { x1: left, x2: W - right, y1: top + ph, y2: top + ph, class: "axis" }),
  );
  series.forEach((s, index) => {
    if (s.points.length === 0) return;
    let d = "";
    s.points.forEach(([x, y], i) => {
      const px = sx(x).toFixed(1), py = sy(y).toFixed(1);
      if (i === 0) d += `M${px},${py}`;
      else if (options.step) d += `H${px}V${py}`;
      else d += `L${px},${py}`;
    });
    const firstPoint = s.points[0], lastPoint = s.points.at(-1);
    if (options.area && index === 0 && firstPoint && lastPoint) {
      const first = sx(firstPoint[0]).toFixed(1), last = sx(lastPoint[0]).toFixed(1);
      root.appendChild(svg("path", {
        d: `${d}L${last},${sy(0)}L${first},${sy(0)}Z`,
        fill: s.color,
        "fill-opacity": 0.15,
        stroke: "none",
      }));
    }
    root.appendChild(svg("path", {
      d,
      fill: "none",
      stroke: s.color,
      "stroke-width": s.width ?? 1.5,
      "stroke-opacity": s.opacity ?? 1,
      "vector-effect": "non-scaling-stroke",
    }, svg("title", null, s.name)));
  });
  return root;
}

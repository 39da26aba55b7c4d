/// <reference lib="dom" />
/** Small DOM and formatting helpers of the dashboard (no framework). */

export type Child = Node | string | number | null | undefined | false | Child[];
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

/** `h("div", {class: "x", onclick: f}, "text", child)`. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs | null = null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";

export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Attrs | null = null,
  ...children: Child[]
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el: Element, attrs: Attrs | null): void {
  if (!attrs) return;
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
}

function append(el: Element, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

/** Replaces the children of `el`. */
export function replace(el: Element, ...children: Child[]): void {
  el.textContent = "";
  append(el, children);
}

export function fmtDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "–";
  if (seconds === 0) return "0 s";
  if (seconds < 0.001) return `${(seconds * 1e6).toFixed(0)} µs`;
  if (seconds < 1) return `${(seconds * 1000).toFixed(seconds < 0.01 ? 2 : 1)} ms`;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 2 : 1)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} m ${Math.round(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} m`;
}

export function fmtBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = bytes, u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

export function fmtNumber(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return "–";
  return n.toLocaleString("en-US");
}

/** A local date and time, e.g. `2025-01-31 12:00:03`. */
export function fmtTime(iso: string | null | undefined): string {
  if (!iso) return "–";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ` +
    `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** Distinct colours, given to task names in the order the session's groups are listed. */
const PALETTE = [
  "#4e79a7",
  "#f28e2b",
  "#59a14f",
  "#76b7b2",
  "#edc948",
  "#b07aa1",
  "#ff9da7",
  "#9c755f",
  "#8cd17d",
  "#499894",
  "#f1ce63",
  "#a0cbe8",
  "#ffbe7d",
  "#d4a6c8",
  "#86bcb6",
  "#bab0ac",
];
const colorCache = new Map<string, string>();

/** Gives the next palette colours to `names` not coloured yet (call with the groups' order). */
export function seedColors(names: string[]): void {
  for (const name of names) {
    const next = PALETTE[colorCache.size];
    if (!colorCache.has(name) && next !== undefined) colorCache.set(name, next);
  }
}

/** A stable colour per task name (palette first, then hues from a hash of the name). */
export function nameColor(name: string): string {
  let c = colorCache.get(name);
  if (c) return c;
  c = PALETTE[colorCache.size];
  if (c === undefined) { // the palette is used up
    let hash = 2166136261;
    for (let i = 0; i < name.length; i++) {
      hash ^= name.charCodeAt(i);
      hash = Math.imul(hash, 16777619);
    }
    c = `hsl(${((hash >>> 0) % 360 * 137.508 % 360).toFixed(0)} 55% 58%)`;
  }
  colorCache.set(name, c);
  return c;
}

export function badge(status: string): HTMLElement {
  return h("span", { class: `badge status-${status}` }, status);
}

/** A horizontal bar: finished (green), failed (red), running (blue) of `total`. */
export function progressBar(
  total: number,
  finished: number,
  failed: number,
  running = 0,
): HTMLElement {
  const pct = (n: number) => total > 0 ? `${(100 * n / total).toFixed(2)}%` : "0%";
  return h(
    "div",
    {
      class: "progress",
      title: `${finished} finished, ${failed} failed, ${running} running, ${total} total`,
    },
    h("div", { class: "progress-finished", style: `width:${pct(finished)}` }),
    h("div", { class: "progress-failed", style: `width:${pct(failed)}` }),
    h("div", { class: "progress-running", style: `width:${pct(running)}` }),
  );
}

export function errorBox(message: string): HTMLElement {
  return h("div", { class: "error-box" }, message);
}

/** A definition list `[label, value]...` as a two-column grid. */
export function facts(rows: [string, Child][]): HTMLElement {
  return h("dl", { class: "facts" }, rows.map(([k, v]) => [h("dt", null, k), h("dd", null, v)]));
}

/**
 * Layered layout of a directed graph (top to bottom), for the task graph view: longest-path
 * layers (cycles, possible between task groups, are broken at back edges), barycenter ordering
 * to reduce crossings, then coordinates. Pure: unit tested in dag_layout_test.ts.
 */

export interface LayoutNode {
  id: string;
  width: number;
  height: number;
}

export interface LayoutEdge {
  from: string;
  to: string;
}

export interface Placed {
  x: number;
  y: number;
  layer: number;
}

export interface Layout {
  nodes: Map<string, Placed>;
  width: number;
  height: number;
  layers: string[][];
}

export function layoutDag(
  nodes: LayoutNode[],
  edges: LayoutEdge[],
  options: { hGap?: number; vGap?: number; margin?: number } = {},
): Layout {
  const hGap = options.hGap ?? 24, vGap = options.vGap ?? 56, margin = options.margin ?? 16;
  // Nodes are numbered 0..n-1 (their index in `nodes`); every array below has one entry per
  // node or per layer, and is only indexed by such numbers: those accesses are in range (`!`).
  const ids = nodes.map((n) => n.id);
  const index = new Map(ids.map((id, i) => [id, i]));
  const out: number[][] = ids.map(() => []);
  const inc: number[][] = ids.map(() => []);
  for (const e of edges) {
    const a = index.get(e.from), b = index.get(e.to);
    if (a === undefined || b === undefined || a === b) continue;
    out[a]!.push(b);
    inc[b]!.push(a);
  }
  // Break cycles: an iterative DFS marks edges to nodes on the stack as back edges.
  const state = new Uint8Array(ids.length); // 0 new, 1 on stack, 2 done
  const back = new Set<number>(); // a * n + b
  const n = ids.length;
  for (let root = 0; root < n; root++) {
    if (state[root]) continue;
    const stack: [number, number][] = [[root, 0]];
    state[root] = 1;
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const [v, k] = top;
      const successors = out[v]!;
      if (k < successors.length) {
        top[1]++;
        const w = successors[k]!;
        if (state[w] === 1) back.add(v * n + w);
        else if (state[w] === 0) {
          state[w] = 1;
          stack.push([w, 0]);
        }
      } else {
        state[v] = 2;
        stack.pop();
      }
    }
  }
  const fwdOut = out.map((list, a) => list.filter((b) => !back.has(a * n + b)));
  const fwdIn: number[][] = ids.map(() => []);
  fwdOut.forEach((list, a) => list.forEach((b) => fwdIn[b]!.push(a)));
  // Longest-path layering in topological order (Kahn).
  const indeg = fwdIn.map((l) => l.length);
  const layer = new Int32Array(n);
  const queue: number[] = [];
  for (let i = 0; i < n; i++) if (indeg[i] === 0) queue.push(i);
  for (let q = 0; q < queue.length; q++) {
    const v = queue[q]!;
    for (const w of fwdOut[v]!) {
      layer[w] = Math.max(layer[w]!, layer[v]! + 1);
      indeg[w]!--;
      if (indeg[w] === 0) queue.push(w);
    }
  }
  const layerCount = n === 0 ? 0 : Math.max(...layer) + 1;
  const layers: number[][] = Array.from({ length: layerCount }, () => []);
  layer.forEach((l, i) => layers[l]!.push(i));
  // Barycenter sweeps.
  const pos = new Float64Array(n);
  const setPos = () => layers.forEach((l) => l.forEach((v, i) => (pos[v] = i)));
  setPos();
  const bary = (v: number, neighbours: number[]) =>
    neighbours.length ? neighbours.reduce((s, w) => s + pos[w]!, 0) / neighbours.length : pos[v]!;
  for (let sweep = 0; sweep < 4; sweep++) {
    const down = sweep % 2 === 0;
    const order = down ? layers.keys() : [...layers.keys()].reverse().values();
    for (const li of order) {
      const l = layers[li]!;
      const key = new Map(l.map((v) => [v, bary(v, (down ? fwdIn[v] : fwdOut[v])!)]));
      l.sort((a, b) => key.get(a)! - key.get(b)! || pos[a]! - pos[b]!);
      l.forEach((v, i) => (pos[v] = i));
    }
  }
  // Coordinates: layers centred on the widest one.
  const widths = layers.map((l) =>
    l.reduce((s, v) => s + nodes[v]!.width, 0) + Math.max(0, l.length - 1) * hGap
  );
  const maxWidth = Math.max(0, ...widths);
  const placed = new Map<string, Placed>();
  let y = margin;
  layers.forEach((l, li) => {
    let x = margin + (maxWidth - widths[li]!) / 2;
    const lh = Math.max(0, ...l.map((v) => nodes[v]!.height));
    for (const v of l) {
      const node = nodes[v]!;
      placed.set(node.id, { x, y: y + (lh - node.height) / 2, layer: li });
      x += node.width + hGap;
    }
    y += lh + vGap;
  });
  return {
    nodes: placed,
    width: maxWidth + 2 * margin,
    height: Math.max(0, y - vGap + margin),
    layers: layers.map((l) => l.map((v) => ids[v]!)),
  };
}

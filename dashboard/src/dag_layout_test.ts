import assert from "node:assert/strict";
import { layoutDag } from "./dag_layout.ts";

const node = (id: string) => ({ id, width: 100, height: 40 });

Deno.test("layers follow the longest path; nodes of a layer do not overlap", () => {
  const layout = layoutDag(
    ["a", "b", "c", "d"].map(node),
    [{ from: "a", to: "b" }, { from: "b", to: "d" }, { from: "a", to: "d" }, {
      from: "c",
      to: "d",
    }],
  );
  assert.deepEqual(layout.layers.map((l) => [...l].sort()), [["a", "c"], ["b"], ["d"]]);
  const [a, c] = [layout.nodes.get("a")!, layout.nodes.get("c")!];
  assert.equal(a.y, c.y);
  assert.ok(Math.abs(a.x - c.x) >= 100);
  assert.ok(layout.nodes.get("d")!.y > layout.nodes.get("b")!.y);
  assert.ok(layout.width >= 200 && layout.height > 3 * 40);
});

Deno.test("cycles (possible between task groups) and self loops still get a layout", () => {
  const layout = layoutDag(
    ["a", "b", "c"].map(node),
    [{ from: "a", to: "b" }, { from: "b", to: "c" }, { from: "c", to: "a" }, {
      from: "b",
      to: "b",
    }],
  );
  assert.equal(layout.nodes.size, 3);
  assert.equal(new Set([...layout.nodes.values()].map((p) => p.layer)).size, 3);
});

Deno.test("a wide graph of 2000 tasks is laid out quickly", () => {
  const nodes = Array.from({ length: 2000 }, (_, i) => node(String(i)));
  const edges = nodes.slice(1).map((n, i) => ({ from: String(Math.floor(i / 40)), to: n.id }));
  const t0 = performance.now();
  const layout = layoutDag(nodes, edges);
  assert.ok(performance.now() - t0 < 2000);
  assert.equal(layout.nodes.size, 2000);
});

Deno.test("barycenter ordering untangles crossings", () => {
  // a1 -> b2, a2 -> b1 laid out in input order would cross.
  const layout = layoutDag(
    ["a1", "a2", "b1", "b2"].map(node),
    [{ from: "a1", to: "b2" }, { from: "a2", to: "b1" }],
  );
  const x = (id: string) => layout.nodes.get(id)!.x;
  assert.equal(x("a1") < x("a2"), x("b2") < x("b1"));
});

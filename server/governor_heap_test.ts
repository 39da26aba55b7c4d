import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { GovernorHeap } from "./governor_heap.ts";
import { GovernorState } from "./state.ts";

function heapOf(cpus: number[]) {
  const heap = new GovernorHeap();
  const governors = cpus.map((c, i) => new GovernorState(`g${i}:1`, c, []));
  for (const g of governors) {
    heap.add(g);
    g.onFreeCpusChanged = (changed) => heap.update(changed);
  }
  return { heap, governors };
}

Deno.test("find: the most free cpus first, ties in the order of joining", () => {
  const { heap, governors: [a, b, c] } = heapOf([4, 8, 8]);
  assertEquals(heap.find(() => true, 0), b);
  b!.assignedCpus = 5;
  assertEquals(heap.find(() => true, 0), c);
  c!.assignedCpus = 5;
  assertEquals(heap.find(() => true, 0), a);
  b!.assignedCpus = 0;
  assertEquals(heap.find(() => true, 0), b);
});

Deno.test("find: skips governors that do not fit, best first, and stops at the floor", () => {
  const { heap, governors } = heapOf([1, 2, 3, 4, 5, 6, 7, 8]);
  const seen: string[] = [];
  const found = heap.find((g) => (seen.push(g.id), g.cpus % 3 === 0), 0);
  assertEquals(found, governors[5]); // 6 cpus: 8 and 7 were looked at first
  assertEquals(seen, ["g7:1", "g6:1", "g5:1"]);
  seen.length = 0;
  assertEquals(heap.find((g) => (seen.push(g.id), false), 6), undefined);
  assertEquals(seen, ["g7:1", "g6:1", "g5:1"]); // none below 6 free
});

Deno.test("removed governors are never found; negative free cpus order too", () => {
  const { heap, governors: [a, b, c] } = heapOf([2, 2, 2]);
  a!.assignedCpus = 10;
  b!.assignedCpus = 4;
  heap.remove(c!);
  assertEquals(heap.size, 2);
  assertEquals(heap.find(() => true, -100), b);
  assertEquals(heap.find((g) => g !== b, -100), a);
  assertEquals(heap.find(() => true, 0), undefined);
});

Deno.test("stays ordered through many random changes", () => {
  const { heap, governors } = heapOf(Array.from({ length: 50 }, (_, i) => 1 + (i % 7)));
  let seed = 7;
  const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  for (let step = 0; step < 2000; step++) {
    const g = governors[rand(governors.length)]!;
    g.assignedCpus = rand(20);
    const expected = governors.reduce((best, x) => x.freeCpus > best.freeCpus ? x : best);
    assertEquals(heap.find(() => true, -Infinity), expected);
  }
});

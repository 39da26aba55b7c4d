import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { IdMap } from "./id_map.ts";

Deno.test("ids in order, far ids and negative ids: all found, counted and iterated", () => {
  const map = new IdMap<string>();
  for (let id = 10; id < 2000; id += 4) map.set(id, `t${id}`);
  map.set(-5, "negative");
  map.set(2 ** 40, "far");
  map.set(1.5, "fraction");
  assertEquals(map.size, 498 + 3);
  assertEquals([map.get(10), map.get(1994), map.get(11), map.get(-5)], [
    "t10",
    "t1994",
    undefined,
    "negative",
  ]);
  assertEquals([map.get(2 ** 40), map.get(1.5), map.has(2 ** 40), map.has(12)], [
    "far",
    "fraction",
    true,
    false,
  ]);
  const keys = [...map.keys()];
  assertEquals(keys.slice(0, 3), [10, 14, 18]);
  assertEquals(keys.slice(-3), [-5, 2 ** 40, 1.5]); // the others, in insertion order
  assertEquals([...map.values()].length, map.size);
  assertEquals([...map].find(([id]) => id === 1994), [1994, "t1994"]);
});

Deno.test("set again replaces; delete and clear keep the count", () => {
  const map = new IdMap<number>();
  map.set(3, 1).set(3, 2).set(9_000_000, 7).set(9_000_000, 8);
  assertEquals([map.size, map.get(3), map.get(9_000_000)], [2, 2, 8]);
  assertEquals([map.delete(3), map.delete(3), map.delete(9_000_000), map.delete(4)], [
    true,
    false,
    true,
    false,
  ]);
  assertEquals(map.size, 0);
  map.set(5, 5);
  map.clear();
  assertEquals([map.size, [...map.values()]], [0, []]);
});

Deno.test("an id first kept aside moves into the array when the array reaches it", () => {
  const map = new IdMap<string>();
  map.set(5000, "early");
  for (let id = 0; id < 5000; id++) map.set(id, "x");
  map.set(5000, "late");
  assertEquals([map.size, map.get(5000), [...map.keys()].at(-1)], [5001, "late", 5000]);
});

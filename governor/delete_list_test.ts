import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { DeleteList } from "./delete_list.ts";
import type { StoredObject } from "./object_store.ts";

function objects(n: number): StoredObject[] {
  return Array.from({ length: n }, (_, i) => ({ id: [1, i], dataType: "blob", size: 0 }));
}

Deno.test("delete list: due objects come oldest first, without those taken off", async () => {
  const due: number[] = [];
  let dueCalls = 0;
  const { promise, resolve } = Promise.withResolvers<void>();
  const list = new DeleteList(1, (objs) => {
    dueCalls++;
    due.push(...objs.map((o) => o.id[1]));
    if (list.size === 0) resolve();
  });
  // Past the compaction threshold, with most entries taken off again (revived objects).
  const all = objects(10_000);
  const now = performance.now();
  for (const obj of all) list.add(obj, now);
  for (const obj of all) list.add(obj, now + 1000); // already on it: keeps its first deadline
  for (const obj of all) if (obj.id[1] % 3 !== 0) list.remove(obj);
  assertEquals(list.remove(all[1]!), false);
  assertEquals(list.size, 3334);
  assertEquals(list.ids().slice(0, 3), [[1, 0], [1, 3], [1, 6]]);
  list.add(all[1]!, now); // back on the list, last
  list.arm();
  await promise;
  assertEquals(due.length, 3335);
  assertEquals(due.slice(0, 2), [0, 3]);
  assertEquals(due.at(-1), 1);
  assertEquals(dueCalls, 1);
  list.close();
});

Deno.test("delete list: a list whose entries were all taken off arms no timer", () => {
  const list = new DeleteList(10_000, () => {
    throw new Error("nothing is due");
  });
  const [a, b] = objects(2);
  list.add(a!, performance.now() + 10_000);
  list.add(b!, performance.now() + 10_000);
  list.remove(a!);
  list.remove(b!);
  list.arm(); // a timer would leak: Deno's test sanitizer fails the test
  assertEquals(list.size, 0);
  assertEquals(list.ids(), []);
});

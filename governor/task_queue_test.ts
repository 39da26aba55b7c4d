import { assert, assertEquals } from "./test_assert.ts";
import { TaskQueue } from "./task_queue.ts";

interface Item {
  name: string;
  session: number;
  cpus: number;
}

/** A queue whose tasks run until finished by hand (or aborted). */
function harness(cpus: number, maxBypass?: number) {
  const started: string[] = [];
  const aborted: string[] = [];
  const slots = new Map<string, number[]>();
  const finishers = new Map<string, () => void>();
  const queue = new TaskQueue<Item>(cpus, (item, signal, given) => {
    started.push(item.name);
    slots.set(item.name, given);
    return new Promise<void>((resolve) => {
      finishers.set(item.name, resolve);
      signal.addEventListener("abort", () => {
        aborted.push(item.name);
        resolve();
      });
    });
  }, { maxBypass });
  const finish = async (name: string) => {
    finishers.get(name)!();
    await new Promise((r) => setTimeout(r, 0));
  };
  return { queue, started, aborted, slots, finish };
}

const item = (name: string, cpus = 1, session = 1): Item => ({ name, cpus, session });

Deno.test("runs FIFO as cpus allow and never oversubscribes", async () => {
  const h = harness(2);
  for (const n of ["a", "b", "c", "d"]) h.queue.push(item(n));
  assertEquals(h.started, ["a", "b"]);
  assertEquals(h.queue.freeCpus, 0);
  assertEquals(h.queue.queued, 2);
  await h.finish("b");
  assertEquals(h.started, ["a", "b", "c"]);
  await h.finish("a");
  await h.finish("c");
  await h.finish("d");
  assertEquals(h.started, ["a", "b", "c", "d"]);
  assertEquals(h.queue.freeCpus, 2);
  assertEquals(h.queue.running, 0);
});

Deno.test("a big task waits for enough cpus; small ones backfill a bounded number of times", async () => {
  const h = harness(4, 2);
  h.queue.push(item("s1", 3));
  h.queue.push(item("big", 4));
  for (const n of ["x1", "x2", "x3", "x4"]) h.queue.push(item(n));
  // s1 uses 3 cpus; big does not fit; x1 backfills the one free cpu.
  assertEquals(h.started, ["s1", "x1"]);
  await h.finish("x1"); // x2 bypasses big a second time
  assertEquals(h.started, ["s1", "x1", "x2"]);
  await h.finish("x2"); // bypass limit reached: nothing starts although a cpu is free
  assertEquals(h.started, ["s1", "x1", "x2"]);
  assertEquals(h.queue.freeCpus, 1);
  await h.finish("s1"); // now big gets all 4 cpus
  assertEquals(h.started, ["s1", "x1", "x2", "big"]);
  assertEquals(h.queue.freeCpus, 0);
  await h.finish("big");
  assertEquals(h.started.slice(4), ["x3", "x4"]);
  await h.finish("x3");
  await h.finish("x4");
  assertEquals(h.queue.freeCpus, 4);
});

Deno.test("a task needing more cpus than the governor has is refused", () => {
  const h = harness(2);
  let error = "";
  try {
    h.queue.push(item("huge", 3));
  } catch (e) {
    error = (e as Error).message;
  }
  assert(error.includes("3 cpus"));
});

Deno.test("closeSession aborts running tasks, drops queued ones and frees cpus at once", async () => {
  const h = harness(2);
  h.queue.push(item("a1", 1, 1));
  h.queue.push(item("b1", 1, 2));
  h.queue.push(item("a2", 1, 1));
  h.queue.push(item("b2", 1, 2));
  h.queue.push(item("a3", 1, 1));
  assertEquals(h.started, ["a1", "b1"]);
  h.queue.closeSession(1);
  // a1's cpu is free at once, a2 and a3 are dropped, b2 starts.
  assertEquals(h.aborted, ["a1"]);
  assertEquals(h.started, ["a1", "b1", "b2"]);
  assertEquals(h.queue.queued, 0);
  assertEquals(h.queue.freeCpus, 0);
  await h.finish("b1");
  await h.finish("b2");
  assertEquals(h.queue.freeCpus, 2);
  h.queue.closeSession(3); // unknown session: nothing happens
});

Deno.test("synchronous runners and throwing runners do not break accounting", () => {
  let n = 0;
  const queue = new TaskQueue<Item>(1, (it) => {
    n++;
    if (it.name === "throw") throw new Error("boom");
  });
  for (let i = 0; i < 1000; i++) queue.push(item(i === 500 ? "throw" : `t${i}`));
  assertEquals(n, 1000);
  assertEquals(queue.freeCpus, 1);
  assertEquals(queue.queued, 0);
});

Deno.test("abortAll stops everything", () => {
  const h = harness(1);
  h.queue.push(item("a"));
  h.queue.push(item("b"));
  h.queue.abortAll();
  assertEquals(h.aborted, ["a"]);
  assertEquals(h.queue.queued, 0);
  assertEquals(h.queue.freeCpus, 1);
});

Deno.test("every running task holds its own cpu slots, the lowest free (consecutive if it can)", async () => {
  const h = harness(4);
  for (const n of ["a", "b", "c"]) h.queue.push(item(n));
  assertEquals([h.slots.get("a"), h.slots.get("b"), h.slots.get("c")], [[0], [1], [2]]);
  await h.finish("b"); // slots 1 and 3 are free
  h.queue.push(item("big", 2));
  assertEquals(h.slots.get("big"), [1, 3], "no two consecutive slots are free: the lowest two");
  await h.finish("a");
  await h.finish("c");
  h.queue.push(item("d", 2));
  assertEquals(h.slots.get("d"), [0, 2], "0 and 2 are free, not consecutive");
  await h.finish("big");
  h.queue.push(item("e", 2));
  assertEquals(h.slots.get("e"), [1, 3]);
  await h.finish("d");
  await h.finish("e");
  h.queue.push(item("f", 3));
  assertEquals(h.slots.get("f"), [0, 1, 2], "a run of three consecutive slots");
  h.queue.push(item("g"));
  assertEquals(h.slots.get("g"), [3]);
  // Aborted tasks give their slots back too.
  h.queue.closeSession(1);
  h.queue.push(item("h", 4, 2));
  assertEquals(h.slots.get("h"), [0, 1, 2, 3]);
});

import assert from "node:assert/strict";
import { hitTest, StreamModel, tickStep, utilization, visibleRange } from "./stream_model.ts";
import type { StreamTask, TaskStream } from "./types.ts";

/** A stream of `tasks` (not failed unless said). */
function stream(tasks: (Omit<StreamTask, "failed"> & { failed?: boolean })[]): TaskStream {
  return {
    start: "2025-01-01T00:00:00.000Z",
    end: null,
    governors: [{ governor: "g1", cpus: 2, lanes: 2 }, { governor: "g2", cpus: 1, lanes: 1 }],
    tasks: tasks.map((t) => ({ failed: false, ...t })),
    truncated: false,
  };
}

Deno.test("lanes: one per governor cpu plus a transfer lane, bars sorted by start", () => {
  const m = new StreamModel();
  m.merge(stream([
    { id: 2, name: "b", governor: "g1", cpu: 0, start: 2, end: 3 },
    { id: 1, name: "a", governor: "g1", cpu: 0, start: 0, end: 1 },
    { id: 3, name: "a", governor: "g1", cpu: 1, start: 0.5, end: null },
    { id: 4, name: "c", governor: "g2", cpu: 0, start: 1, end: 4, failed: true },
  ]));
  m.mergeTransfers([{
    object: [1, 5],
    from: "g1",
    to: "g2",
    bytes: 10,
    start: 0.9,
    duration: 0.1,
  }]);
  const lanes = m.build(5);
  assert.deepEqual(lanes.map((l) => `${l.governor}:${l.cpu}`), [
    "g1:0",
    "g1:1",
    "g1:-1",
    "g2:0",
    "g2:-1",
  ]);
  assert.deepEqual([...lanes[0]!.ids], [1, 2]);
  assert.equal(lanes[1]!.ends[0], 5, "a running task ends now");
  assert.equal(lanes[3]!.failed[0], 1);
  assert.equal(lanes[4]!.starts.length, 1);
  assert.equal(m.earliestRunning(), 0.5);
  assert.equal(m.latest(), 4);
});

Deno.test("merge: later answers replace rows, a finished task never goes back to running", () => {
  const m = new StreamModel();
  m.merge(stream([{ id: 1, name: "a", governor: "g1", cpu: 0, start: 0, end: null }]));
  m.merge(stream([{ id: 1, name: "a", governor: "g1", cpu: 0, start: 0, end: 2 }]));
  m.merge(stream([{ id: 1, name: "a", governor: "g1", cpu: 0, start: 0, end: null }]));
  assert.equal(m.tasks.get(1)!.end, 2);
  m.mergeTransfers([{ object: 5, from: "g1", to: "g2", bytes: 1, start: 1, duration: 1 }]);
  m.mergeTransfers([{ object: 5, from: "g1", to: "g2", bytes: 1, start: 1, duration: 1 }]);
  assert.equal(m.transfers.length, 1);
});

Deno.test("visible range, hit test and utilization over 100k bars", () => {
  const m = new StreamModel();
  const tasks = Array.from({ length: 100_000 }, (_, i) => ({
    id: i,
    name: `t${i % 7}`,
    governor: "g1",
    cpu: i % 2,
    start: Math.floor(i / 2) * 0.01,
    end: Math.floor(i / 2) * 0.01 + 0.005,
  }));
  m.merge(stream(tasks));
  const t0 = performance.now();
  const lanes = m.build(600);
  const built = performance.now() - t0;
  assert.ok(built < 2000, `build took ${built} ms`);
  const [from, to] = visibleRange(lanes[0]!, 10, 10.1);
  assert.ok(to - from >= 10 && to - from <= 12, `${to - from} bars`);
  const i = hitTest(lanes[0]!, 10.002, 0.0001);
  assert.equal(lanes[0]!.ids[i], 2000);
  assert.equal(hitTest(lanes[0]!, 10.0075, 0.001), -1);
  const u = utilization(lanes.filter((l) => l.governor === "g1"), 0, 500);
  assert.ok(Math.abs(u - 0.5) < 0.01, `utilization ${u}`);
});

Deno.test("tick steps are 1, 2 or 5 times a power of ten", () => {
  assert.equal(tickStep(10, 5), 2);
  assert.equal(tickStep(0.3, 3), 0.1);
  assert.equal(tickStep(7, 1), 10);
});

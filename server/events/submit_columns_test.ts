import { deepStrictEqual as assertEquals } from "node:assert/strict";
import type { PlannedObject, PlannedTask, SubmitPlan } from "../submit.ts";
import { clientSubmitJson } from "./submit_json.ts";
import {
  type CompactSubmitMessage,
  compactSubmitRowJson,
  compactSubmitTransfer,
  submitColumns,
} from "./submit_columns.ts";

const plainTask = (id: number, inputs: number[], outputs: number[]): PlannedTask => ({
  id,
  taskType: "buildin/concat",
  inputs,
  outputs,
  cpus: 1,
});

const plainObject = (id: number, more: Partial<PlannedObject> = {}): PlannedObject => ({
  id,
  dataType: "blob",
  keep: false,
  ...more,
});

/** Plain tasks and objects, and every field that sends one to `extra`. */
function mixedPlan(): SubmitPlan {
  const tasks: PlannedTask[] = [
    plainTask(20, [10, 11], [12]),
    { ...plainTask(21, [12], [13]), inputLabels: ["in"] },
    { ...plainTask(22, [], [14]), taskType: "py/", config: { args: [1, "x"], n: null } },
    { ...plainTask(23, [13, 14], [15, 16]), cpus: 2, request: { cpus: 2, memory: 1000 } },
    { ...plainTask(24, [15], [17]), name: 'named "quoted"', user: { tag: "é" } },
    { ...plainTask(25, [16], [18]), policy: { max_retries: 2, retry_on: [1, "E"] } },
    plainTask(26, [], []),
    { ...plainTask(27, [17, 18], [19]), taskType: "buildin/sleep", cpus: 3 },
  ];
  const objects: PlannedObject[] = [
    plainObject(10, { dataSize: 2 }),
    plainObject(11, { dataSize: 0, label: "b" }),
    plainObject(12, { keep: true }),
    plainObject(13, { dataType: "dir", label: "b" }),
    plainObject(14, { contentType: "text", user: { u: [1] } }),
    ...[15, 16, 17, 18, 19].map((id) => plainObject(id)),
  ];
  return { tasks, objects };
}

/** As the writer receives it: structured-cloned, its buffers moved. */
function posted(m: CompactSubmitMessage): CompactSubmitMessage {
  return structuredClone(m, { transfer: compactSubmitTransfer(m) });
}

Deno.test("a compact submit's row, rendered from columns in the writer, is the plan's row", () => {
  const plan = mixedPlan();
  const expected = clientSubmitJson(3, plan);
  const row = compactSubmitRowJson(posted(submitColumns(3, "ts", plan)));
  assertEquals(new TextDecoder().decode(row), expected);
  assertEquals(JSON.parse(expected).task_count, 8);
});

Deno.test("columns of big and empty submits render the plan's row", () => {
  const tasks = Array.from({ length: 25_000 }, (_, i) => plainTask(100 + i, [1, 2], [50_000 + i]));
  const objects = [plainObject(1, { dataSize: 1 }), plainObject(2, { dataSize: 1 })].concat(
    tasks.map((t) => plainObject(t.outputs[0]!)),
  );
  for (const plan of [{ tasks, objects }, { tasks: [], objects: [] }]) {
    const row = compactSubmitRowJson(posted(submitColumns(9, "ts", plan)));
    assertEquals(new TextDecoder().decode(row), clientSubmitJson(9, plan));
  }
});

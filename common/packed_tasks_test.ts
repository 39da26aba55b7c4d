import { deepStrictEqual as assertEquals, throws } from "node:assert/strict";
import { Decoder, Encoder } from "@msgpack/msgpack";
import type { AssignedTask, PackedAssignMessage } from "./messages.ts";
import { packTasks, unpackTasks } from "./packed_tasks.ts";

/** As the server encodes frames and the governor decodes them. */
function overTheWire(message: PackedAssignMessage): PackedAssignMessage {
  const bytes = new Encoder({ ignoreUndefined: true }).encode([message]);
  return (new Decoder().decode(bytes) as PackedAssignMessage[])[0]!;
}

function concat(sid: number, id: number): AssignedTask {
  return {
    spec: {
      id: [sid, id],
      task_type: "buildin/concat",
      inputs: [{ id: [sid, 1] }, { id: [sid, 2] }],
      outputs: [[sid, id + 1]],
      resources: { cpus: 1 },
    },
    inputs: [
      { spec: { id: [sid, 1], data_type: "blob" }, size: 1, source: { kind: "local" } },
      { spec: { id: [sid, 2], data_type: "blob" }, size: 1, source: { kind: "local" } },
    ],
    outputs: [{ id: [sid, id + 1], data_type: "blob" }],
  };
}

/** A task using every optional field and every kind of source. */
function everything(): AssignedTask {
  return {
    spec: {
      id: [7, 10],
      task_type: "py/",
      config: { args: ["a", 1], nested: { x: null } },
      inputs: [{ id: [7, 1], label: "left" }, { id: [7, 2] }, { id: [7, 3] }, { id: [7, 4] }],
      outputs: [[7, 11], [7, 12]],
      resources: { cpus: 2, memory: 1e9, gpus: 1 },
      name: "train",
      user: { tag: "x", n: [1, 2] },
      policy: { max_retries: 2, retry_on: [1, "ValueError"], time_limit: 3.5 },
    },
    inputs: [
      {
        spec: { id: [7, 1], data_type: "blob", label: "in", content_type: "text", user: { u: 1 } },
        size: 5,
        source: { kind: "inline", data: new Uint8Array([1, 2, 3, 4, 5]) },
        info: { content_type: "text/plain", user: { made: "here" } },
      },
      { spec: { id: [7, 2], data_type: "dir" }, size: 4096, source: { kind: "server" } },
      {
        spec: { id: [7, 3], data_type: "blob" },
        size: 0,
        source: { kind: "governors", governors: ["127.0.0.1:9001", "127.0.0.1:9002"] },
      },
      { spec: { id: [7, 4], data_type: "blob" }, size: 2 ** 40, source: { kind: "local" } },
    ],
    outputs: [
      { id: [7, 11], data_type: "dir", label: "model" },
      { id: [7, 12], data_type: "blob", content_type: "json", user: { k: "v" } },
    ],
    resources: { cpus: 2, memory: 1e9, gpus: ["0"] },
    attempt: 3,
  };
}

Deno.test("packTasks/unpackTasks: every field of every task survives the wire unchanged", () => {
  const tasks = [concat(1, 3), everything(), concat(2, 5), {
    // No inputs, no outputs, a spec without resources.
    spec: { id: [3, 1], task_type: "buildin/sleep", inputs: [], outputs: [] },
    inputs: [],
    outputs: [],
  } as unknown as AssignedTask];
  const { packed, unpacked } = packTasks(tasks);
  assertEquals(unpacked, []);
  assertEquals(packed.types, ["buildin/concat", "py/", "buildin/sleep"]);
  assertEquals(unpackTasks(overTheWire(packed)), tasks);
});

Deno.test("packTasks: a Concat of two inputs costs under 40 bytes packed (240 as maps)", () => {
  const tasks = Array.from({ length: 1000 }, (_, i) => concat(1, 1000 + 2 * i));
  const encoder = new Encoder({ ignoreUndefined: true });
  const packedBytes = encoder.encode([packTasks(tasks).packed]).length;
  const mapBytes = encoder.encode([{ type: "assign_tasks", tasks }]).length;
  assertEquals(packedBytes / tasks.length < 40, true, `${packedBytes / tasks.length} B/task`);
  assertEquals(mapBytes / packedBytes > 5, true, `${mapBytes} against ${packedBytes}`);
});

Deno.test("packTasks leaves tasks whose objects disagree with their spec unpacked", () => {
  const foreign = concat(1, 3);
  foreign.inputs[1]!.spec.id = [2, 2]; // another session's object
  const mismatched = concat(1, 5);
  mismatched.spec.outputs = [[1, 99]];
  const { packed, unpacked } = packTasks([foreign, concat(1, 7), mismatched]);
  assertEquals(unpacked, [foreign, mismatched]);
  assertEquals(unpackTasks(overTheWire(packed)), [concat(1, 7)]);
});

Deno.test("unpackTasks names what is wrong in a malformed message", () => {
  const { packed } = packTasks([concat(1, 3)]);
  const cut = { ...packed, values: packed.values.slice(0, -2) };
  throws(() => unpackTasks(cut), /'values' ends inside a task/);
  throws(() => unpackTasks({ ...packed, types: [] }), /unknown task type index/);
  const badId = { ...packed, values: ["x", ...packed.values.slice(1)] };
  throws(() => unpackTasks(badId), /a session id must be an integer, got "x"/);
  const badSource = { ...packed, values: packed.values.map((v, i) => i === 11 ? 9 : v) };
  throws(() => unpackTasks(badSource), /unknown source kind 9/);
  throws(
    () => unpackTasks({ type: "assign_packed", types: "x" } as unknown as PackedAssignMessage),
    /'types' and 'values' must be arrays/,
  );
});

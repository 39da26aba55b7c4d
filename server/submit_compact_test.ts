import assert from "node:assert/strict";
import { encode } from "@msgpack/msgpack";
import { ApiError } from "./errors.ts";
import {
  COMPACT_SUBMIT_CONTENT_TYPE,
  decodeCompactFrame,
  type ObjectColumns,
  objectEntry,
  type TaskColumns,
  taskSpec,
} from "./submit_compact.ts";
import { readSubmit, submitContentType } from "./submit_reader.ts";
import { newReactor } from "./test_util.ts";

const u32 = (values: number[]) => new Uint8Array(new Uint32Array(values).buffer);
const f64 = (values: number[]) => new Uint8Array(new Float64Array(values).buffer);

function framed(...values: unknown[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const value of values) {
    const data = encode(value);
    const prefix = new Uint8Array(4);
    new DataView(prefix.buffer).setUint32(0, data.length);
    parts.push(prefix, data);
  }
  parts.push(new Uint8Array(4)); // the end of frames
  return concat(parts);
}

function concat(parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const OBJECTS = {
  objects: 3,
  ids: u32([10, 11, 13]),
  flags: new Uint8Array([4, 4 | 1, 2]),
  labels: u32([1, 0, 0]),
  strings: ["const"],
  sizes: f64([2, 3]),
  extra: JSON.stringify([[1, { user: { a: 1 } }]]),
};
const TASKS = {
  tasks: 1,
  ids: u32([12]),
  types: u32([0]),
  strings: ["buildin/concat"],
  input_counts: u32([1]),
  inputs: u32([10]),
  output_counts: u32([1]),
  outputs: u32([13]),
  extra: JSON.stringify([[0, { name: "joined", input_labels: ["x"] }]]),
};

Deno.test("a frame of objects becomes the JSON body's object entries", () => {
  const frame = decodeCompactFrame(encode(OBJECTS), 0) as ObjectColumns;
  assert.equal(frame.kind, "objects");
  assert.deepEqual([0, 1, 2].map((i) => objectEntry(frame, i, 7)), [
    { spec: { id: [7, 10], data_type: "blob", label: "const" }, data_size: 2 },
    { spec: { id: [7, 11], data_type: "dir", user: { a: 1 } }, data_size: 3 },
    { spec: { id: [7, 13], data_type: "blob" }, keep: true },
  ]);
});

Deno.test("a frame of tasks becomes task specs, labels on their inputs", () => {
  const frame = decodeCompactFrame(encode(TASKS), 1) as TaskColumns;
  assert.equal(frame.kind, "tasks");
  assert.deepEqual([taskSpec(frame, 0, 7, { input: 0, output: 0 })], [{
    id: [7, 12],
    task_type: "buildin/concat",
    inputs: [{ id: [7, 10], label: "x" }],
    outputs: [[7, 13]],
    resources: { cpus: 1 },
    name: "joined",
  }]);
});

Deno.test("malformed frames are refused, naming the frame and the fault", () => {
  const cases: [unknown, string][] = [
    [[1], "frame 2: must be a MessagePack map"],
    [{ ...OBJECTS, ids: u32([10]) }, "frame 2: 'ids' has 4 bytes, expected 12"],
    [{ ...OBJECTS, objects: -1 }, "'objects' must be a count"],
    [{ ...OBJECTS, sizes: f64([2]) }, "'sizes' has 8 bytes, expected 16"],
    [{ ...OBJECTS, strings: [1] }, "'strings' must be an array of strings"],
    [{ ...OBJECTS, extra: "[[0, 1]]" }, "'extra' entries must be [position < 3, {fields}]"],
    [{ ...TASKS, extra: '[[0, {"inputs": []}]]' }, `'extra' field "inputs" is not one of`],
    [{ ...TASKS, outputs: u32([]) }, "'outputs' has 0 bytes, expected 4"],
  ];
  for (const [value, message] of cases) {
    assert.throws(() => decodeCompactFrame(encode(value), 2), (error: unknown) => {
      assert.ok(error instanceof ApiError && error.kind === "BadRequest");
      assert.ok(error.message.includes(message), `${error.message} / ${message}`);
      return true;
    });
  }
  assert.throws(() => decodeCompactFrame(new Uint8Array([0xc1]), 0), /not valid MessagePack/);
});

Deno.test("a compact body is read as it streams, and its received bytes read the same again", async () => {
  const { reactor } = newReactor();
  const session = reactor.newSession(undefined, "compact");
  const sid = session.id;
  const header = framed(OBJECTS, TASKS);
  const body = concat([header, new TextEncoder().encode("abcde")]);
  // One byte per chunk: every frame arrives in pieces.
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const byte of body) controller.enqueue(new Uint8Array([byte]));
      controller.close();
    },
  });
  const read = await readSubmit(stream, session, false, "/tmp", COMPACT_SUBMIT_CONTENT_TYPE);
  assert.deepEqual(read.tasks?.map((t) => [t.id, t.inputs, t.outputs, t.name, t.inputLabels]), [
    [12, [10], [13], "joined", ["x"]],
  ]);
  assert.deepEqual(read.objects.map((o) => [o.id, o.dataType, o.keep, o.dataSize]), [
    [10, "blob", false, 2],
    [11, "dir", false, 3],
    [13, "blob", true, undefined],
  ]);
  assert.deepEqual(new TextDecoder().decode(read.constants.get(11)!.data!), "cde");
  assert.deepEqual(read.received.contentType, COMPACT_SUBMIT_CONTENT_TYPE);
  assert.deepEqual(concat(read.received.chunks), header);
  const again = await readSubmit(
    new Blob([concat([...read.received.chunks, new TextEncoder().encode("abcde")])]).stream(),
    session,
    false,
    "/tmp",
    read.received.contentType,
  );
  assert.deepEqual(again.tasks, read.tasks);
  assert.deepEqual(again.objects, read.objects);
  assert.deepEqual(sid, session.id);
});

Deno.test("the content type picks the decoder; anything else is the JSON framing", () => {
  assert.deepEqual(
    submitContentType("Application/X-Rain-Submit+MsgPack; v=1"),
    COMPACT_SUBMIT_CONTENT_TYPE,
  );
  assert.deepEqual(submitContentType("application/x-rain-submit"), "application/x-rain-submit");
  assert.deepEqual(submitContentType(undefined), "application/x-rain-submit");
});

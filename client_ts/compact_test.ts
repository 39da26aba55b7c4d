/**
 * The compact submit encoder against the server's decoder (server/submit_compact.ts): what the
 * client encodes decodes to the entries of the JSON header of the same graph.
 */
import assert from "node:assert/strict";
import {
  decodeCompactFrame,
  type ObjectColumns,
  objectEntry,
  type TaskColumns,
  taskSpec,
} from "../server/submit_compact.ts";
import { encodeCompactSubmit, FRAME_ITEMS } from "./compact.ts";
import { Input, Output, OutputDir } from "./io.ts";
import { objectState, sessionState, taskState } from "./internal.ts";
import { Session } from "./session.ts";
import { jsonHeader } from "./submit_json.ts";

const SID = 7;

/** The frames of a body, split at their length prefixes (up to the final length 0). */
function frames(body: Uint8Array): Uint8Array[] {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const out: Uint8Array[] = [];
  let at = 0;
  for (;;) {
    const length = view.getUint32(at);
    at += 4;
    if (length === 0) break;
    out.push(body.subarray(at, at += length));
  }
  assert.equal(at, body.length, "nothing after the end mark");
  return out;
}

/** The session's unsubmitted graph, decoded by the server from the compact body and from JSON. */
function bothWays(session: Session): { compact: unknown; json: unknown } {
  const state = sessionState(session);
  const body = encodeCompactSubmit(
    state.unsubmittedTasks.map(taskState),
    state.unsubmittedObjects.map(objectState),
  );
  const objects: unknown[] = [];
  const tasks: unknown[] = [];
  frames(body).forEach((bytes, index) => {
    const frame = decodeCompactFrame(bytes, index);
    if (frame.kind === "objects") {
      assert.equal(tasks.length, 0, "object frames come first");
      for (let i = 0; i < frame.count; i++) objects.push(objectEntry(frame, i, SID));
    } else {
      const at = { input: 0, output: 0 };
      for (let i = 0; i < frame.count; i++) tasks.push(taskSpec(frame, i, SID, at));
    }
  });
  const json = JSON.parse(JSON.stringify(
    jsonHeader(state.unsubmittedTasks, state.unsubmittedObjects),
  ));
  return { compact: JSON.parse(JSON.stringify({ tasks, objects })), json };
}

Deno.test("a plain graph: the columns alone say it all (no extra)", () => {
  const session = new Session(undefined, SID);
  const a = session.blob("a");
  const b = session.blob(new Uint8Array([1, 2, 3]));
  session.concat([a, b]).output.keep();
  session.concat([a, a]);
  const { compact, json } = bothWays(session);
  assert.deepEqual(compact, json);
  const state = sessionState(session);
  const [frame] = frames(encodeCompactSubmit(
    state.unsubmittedTasks.map(taskState),
    state.unsubmittedObjects.map(objectState),
  )).map((bytes, i) => decodeCompactFrame(bytes, i));
  assert.equal((frame as ObjectColumns).extra.size, 1); // the text blob's content type
});

Deno.test("every irregular field reaches the server as in JSON", async () => {
  const session = new Session(undefined, SID);
  const text = session.blob("x", { label: "input" });
  const json = session.blob({ n: 1 }, { encode: "json", label: "data" });
  const tmp = Deno.makeTempDirSync({ prefix: "rain-compact-" });
  Deno.writeTextFileSync(`${tmp}/f.txt`, "f");
  const dir = await session.directory(tmp);
  Deno.removeSync(tmp, { recursive: true });
  dir.user.owner = "me";
  session.task({
    taskType: "myexec/run",
    inputs: { left: text, right: json },
    outputs: ["out", new OutputDir("dir"), new Output("typed", { contentType: "json" }), undefined],
    config: { answer: 42, list: [1, "two"] },
    name: "labelled",
    user: { tag: "t" },
    cpus: 2,
    memory: "1GiB",
    resources: { licence: 1 },
    maxRetries: 3,
    retryOn: [75, "time_limit"],
    timeLimit: 1.5,
  });
  session.task({
    taskType: "myexec/mixed",
    inputs: [text, new Input("second", { dataObject: json }), dir],
    outputs: 1,
  });
  const changed = session.concat([text, json], { name: "later" });
  changed.spec.user = { changed: true }; // a spec made and changed before submit
  changed.output.spec.label = "relabelled";
  session.sleep(text, 0.5).keepOutputs();
  session.execute(["cat", text], { stdout: "out" });
  const both = bothWays(session);
  assert.deepEqual(both.compact, both.json);
});

Deno.test("big graphs are split into frames of FRAME_ITEMS", () => {
  const session = new Session(undefined, SID);
  const a = session.blob("a");
  for (let i = 0; i < FRAME_ITEMS + 5; i++) session.concat([a, a], i === 3 ? { name: "n" } : {});
  const state = sessionState(session);
  const decoded = frames(encodeCompactSubmit(
    state.unsubmittedTasks.map(taskState),
    state.unsubmittedObjects.map(objectState),
  )).map((bytes, i) => decodeCompactFrame(bytes, i));
  assert.deepEqual(decoded.map((f) => [f.kind, f.count]), [
    ["objects", FRAME_ITEMS],
    ["objects", 6],
    ["tasks", FRAME_ITEMS],
    ["tasks", 5],
  ]);
  assert.deepEqual([...(decoded[2] as TaskColumns).extra], [[3, { name: "n" }]]);
  const both = bothWays(session);
  assert.deepEqual(both.compact, both.json);
});

Deno.test("a Concat of two constants (bytes) takes under 100 bytes", () => {
  const session = new Session(undefined, SID);
  const n = 1000;
  const data = new Uint8Array([1]);
  for (let i = 0; i < n; i++) session.concat([session.blob(data), session.blob(data)]);
  const state = sessionState(session);
  const body = encodeCompactSubmit(
    state.unsubmittedTasks.map(taskState),
    state.unsubmittedObjects.map(objectState),
  );
  assert.ok(body.length / n < 100, `${body.length / n} bytes per task`);
});

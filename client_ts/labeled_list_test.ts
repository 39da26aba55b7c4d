/** LabeledList and content types. */
import assert from "node:assert/strict";
import { isContentType, isSubtype, LabeledList } from "./mod.ts";
import { decodeValue, encodeValue } from "./content_type.ts";

Deno.test("LabeledList: by index and label, iteration, duplicates", () => {
  const list = new LabeledList(["a", "b", "c"], ["x", undefined, "z"]);
  assert.equal(list.length, 3);
  assert.equal(list.get(0), "a");
  assert.equal(list.get(-1), "c");
  assert.equal(list.get("z"), "c");
  assert.ok(list.has("x") && !list.has("y"));
  assert.equal(list.labelAt(2), "z");
  assert.deepEqual([...list], ["a", "b", "c"]);
  assert.deepEqual(list.entries(), [["x", "a"], [undefined, "b"], ["z", "c"]]);
  assert.throws(() => list.get(3), RangeError);
  assert.throws(() => list.get("nope"), RangeError);
  assert.throws(() => new LabeledList([1, 2], ["a", "a"]), /duplicate/);
  assert.throws(() => new LabeledList([1], []), RangeError);
  assert.deepEqual(new LabeledList().toArray(), []);
});

Deno.test("content types: known names, sub-types, JSON and text coding", () => {
  for (
    const ok of [
      "",
      undefined,
      "json",
      "text",
      "text-latin2",
      "mime/image/png",
      "user/x",
    ]
  ) {
    assert.ok(isContentType(ok), String(ok));
  }
  for (const bad of ["jpeg", "text-", "mime/", "JSON"]) {
    assert.ok(!isContentType(bad), bad);
  }
  assert.ok(isSubtype("text-latin2", "text"));
  assert.ok(isSubtype("cloudpickle", "pickle"));
  assert.ok(isSubtype("json", undefined));
  assert.ok(!isSubtype(undefined, "json"));
  assert.ok(!isSubtype("json", "text"));
  assert.deepEqual(decodeValue(encodeValue({ a: [1] }, "json"), "json"), {
    a: [1],
  });
  assert.equal(decodeValue(new Uint8Array([0xbe]), "text-latin2"), "ž");
  assert.throws(() => encodeValue("x", "text-latin2"), /UTF-8/);
  assert.throws(() => encodeValue({}, "pickle"), /cannot encode/);
});

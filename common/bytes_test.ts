import { deepStrictEqual as assertEquals, strictEqual } from "node:assert/strict";
import { joinBytes } from "./bytes.ts";

Deno.test("joinBytes joins chunks, and hands a single chunk back as it is", () => {
  const one = new Uint8Array([1, 2]);
  strictEqual(joinBytes([one]), one);
  assertEquals(joinBytes([one, new Uint8Array([3]), new Uint8Array(0)]), new Uint8Array([1, 2, 3]));
  assertEquals(joinBytes([one, new Uint8Array([3])], 3), new Uint8Array([1, 2, 3]));
  assertEquals(joinBytes([]), new Uint8Array(0));
});

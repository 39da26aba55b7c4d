import assert from "node:assert/strict";
import { detectCpus, parseCpus } from "./cpus.ts";
import { assertUsageError } from "./test_util.ts";

Deno.test("--cpus: detect, N, -X", () => {
  assert.equal(parseCpus("detect", 8), 8);
  assert.equal(parseCpus("3", 8), 3);
  assert.equal(parseCpus("16", 8), 16);
  assert.equal(parseCpus("+2", 8), 2);
  assert.equal(parseCpus("-1", 8), 7);
  assert.equal(parseCpus("-7", 8), 1);
  assert.equal(parseCpus("-0", 8), 8);
});

Deno.test("--cpus errors", () => {
  assertUsageError(() => parseCpus("0", 8), /at least 1/, "governor");
  assertUsageError(() => parseCpus("-8", 8), /--cpus=-8 leaves no cpu: only 8 cpu/);
  assertUsageError(() => parseCpus("-9", 8), /leaves no cpu/);
  assertUsageError(() => parseCpus("abc", 8), /'detect', a positive number N or a negative/);
  assertUsageError(() => parseCpus("1.5", 8), /'detect', a positive/);
  assertUsageError(() => parseCpus("", 8), /'detect', a positive/);
});

Deno.test("detectCpus finds at least one cpu", () => {
  assert.ok(detectCpus() >= 1);
});

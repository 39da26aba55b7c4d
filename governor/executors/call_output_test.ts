import assert from "node:assert/strict";
import { join } from "node:path";
import { readCapped } from "../task_output.ts";
import { TrimmedOutputFile } from "./call_output.ts";

const enc = new TextEncoder();

/** Appends as an executor does (O_APPEND: a write after the governor emptied the file lands at 0). */
function append(path: string, text: string): void {
  using file = Deno.openSync(path, { append: true, create: true });
  const bytes = enc.encode(text);
  let done = 0;
  while (done < bytes.length) done += file.writeSync(bytes.subarray(done));
}

Deno.test("TrimmedOutputFile: emptied past its limit, it ends as the capped text of everything written", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "call.stdout");
    const whole = join(dir, "whole.stdout");
    const limit = 100 * 1024;
    const trimmed = new TrimmedOutputFile(path, limit);
    trimmed.check(); // no file yet: nothing to do
    const chunks = [
      "<start>" + "a".repeat(150 * 1024),
      "b".repeat(90 * 1024),
      "c".repeat(120_000),
      "<end>\n",
    ];
    for (const chunk of chunks) {
      append(path, chunk);
      append(whole, chunk);
      trimmed.check();
      assert.ok(Deno.statSync(path).size <= limit, "the file stays under its limit");
    }
    assert.equal(Deno.statSync(path).size, 6, "emptied twice, then only the end was written");
    assert.equal(trimmed.text(), readCapped(whole));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("TrimmedOutputFile: under its limit, the file is left alone", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "call.stderr");
    append(path, "a warning\n");
    const trimmed = new TrimmedOutputFile(path, 100 * 1024);
    trimmed.check();
    assert.equal(Deno.readTextFileSync(path), "a warning\n");
    assert.equal(trimmed.text(), "a warning\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  droppedNote,
  OUTPUT_HEAD_BYTES,
  OUTPUT_TAIL_BYTES,
  OutputCapture,
  readCapped,
  saveTaskOutput,
  taskOutput,
  TaskOutputFiles,
} from "./task_output.ts";

const enc = new TextEncoder();

Deno.test("OutputCapture keeps everything while small", () => {
  const c = new OutputCapture();
  assert.equal(c.text(), "");
  c.push(enc.encode("hello "));
  c.push(enc.encode("world\n"));
  assert.equal(c.text(), "hello world\n");
  assert.equal(c.size, 12);
});

Deno.test("OutputCapture keeps the head and the tail, counting the gap", () => {
  const c = new OutputCapture();
  const total = OUTPUT_HEAD_BYTES + OUTPUT_TAIL_BYTES + 1000;
  // Pushed in odd chunks: the cut never depends on how the bytes came.
  const bytes = new Uint8Array(total).map((_, i) => 97 + (i % 26));
  for (let i = 0; i < total; i += 777) c.push(bytes.subarray(i, Math.min(total, i + 777)));
  const text = c.text();
  const head = new TextDecoder().decode(bytes.subarray(0, OUTPUT_HEAD_BYTES));
  const tail = new TextDecoder().decode(bytes.subarray(total - OUTPUT_TAIL_BYTES));
  assert.equal(text, head + droppedNote(1000) + tail);
  assert.match(text, /\[rain: 1000 bytes dropped here; the first 32768 and last 32768 bytes/);
  assert.equal(c.size, total);
});

Deno.test("readCapped: a missing or empty file is no output, a big one is cut like a stream", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assert.equal(readCapped(join(dir, "missing")), "");
    await Deno.writeTextFile(join(dir, "empty"), "");
    assert.equal(readCapped(join(dir, "empty")), "");
    await Deno.writeTextFile(join(dir, "small"), "two\nlines\n");
    assert.equal(readCapped(join(dir, "small")), "two\nlines\n");
    const big = "h".repeat(OUTPUT_HEAD_BYTES) + "-".repeat(5) + "t".repeat(OUTPUT_TAIL_BYTES);
    await Deno.writeTextFile(join(dir, "big"), big);
    assert.equal(
      readCapped(join(dir, "big")),
      "h".repeat(OUTPUT_HEAD_BYTES) + droppedNote(5) + "t".repeat(OUTPUT_TAIL_BYTES),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("taskOutput drops empty streams; saveTaskOutput keeps the latest attempt's", async () => {
  assert.equal(taskOutput("", ""), undefined);
  assert.deepEqual(taskOutput("a", ""), { stdout: "a" });
  assert.deepEqual(taskOutput("", "b"), { stderr: "b" });
  const dir = await Deno.makeTempDir();
  try {
    await saveTaskOutput(dir, [3, 11], { stdout: "first\n", stderr: "warn\n" });
    await saveTaskOutput(dir, [3, 11], { stdout: "second\n" });
    assert.equal(await Deno.readTextFile(join(dir, "3", "11.stdout")), "second\n");
    await assert.rejects(() => Deno.stat(join(dir, "3", "11.stderr")), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("TaskOutputFiles: a closed session's files go once its last task ended; later saves are dropped", async () => {
  const dir = await Deno.makeTempDir();
  const exists = (path: string) => Deno.lstat(path).then(() => true, () => false);
  try {
    const files = new TaskOutputFiles(dir);
    files.started(4);
    files.save([4, 1], { stdout: "one\n" });
    files.save([5, 1], { stdout: "other session\n" });
    files.closeSession(4);
    await files.settled();
    // A task of session 4 still runs (killed, its output not read yet): the files stay.
    assert.equal(await Deno.readTextFile(join(dir, "4", "1.stdout")), "one\n");
    files.save([4, 2], { stdout: "after the close\n" });
    files.ended(4);
    await files.settled();
    assert.equal(await exists(join(dir, "4")), false);
    assert.equal(await Deno.readTextFile(join(dir, "5", "1.stdout")), "other session\n");
    // A session closed with nothing running goes at once (no files at all is fine).
    files.closeSession(5);
    files.closeSession(6);
    await files.settled();
    assert.deepEqual(await Array.fromAsync(Deno.readDir(dir)), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

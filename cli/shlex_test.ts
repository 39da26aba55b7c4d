import assert from "node:assert/strict";
import { shellSplit } from "./shlex.ts";

Deno.test("shellSplit splits like a shell", () => {
  assert.deepEqual(shellSplit("valgrind --tool=callgrind"), ["valgrind", "--tool=callgrind"]);
  assert.deepEqual(shellSplit("  a\t b  "), ["a", "b"]);
  assert.deepEqual(shellSplit(`a 'b c' "d e"`), ["a", "b c", "d e"]);
  assert.deepEqual(shellSplit(`x"y z"'w'`), ["xy zw"]);
  assert.deepEqual(shellSplit(`"a \\" \\\\ \\n"`), ['a " \\ \\n']);
  assert.deepEqual(shellSplit(`a\\ b`), ["a b"]);
  assert.deepEqual(shellSplit(`''`), [""]);
  assert.deepEqual(shellSplit(""), []);
});

Deno.test("shellSplit rejects unterminated quotes", () => {
  assert.throws(() => shellSplit(`a 'b`), /unterminated ' quote/);
  assert.throws(() => shellSplit(`a "b`), /unterminated " quote/);
  assert.throws(() => shellSplit(`a \\`), /trailing backslash/);
});

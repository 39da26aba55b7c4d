import { deepStrictEqual, throws } from "node:assert/strict";
import { checkBuiltinTask, parseRunConfig } from "./builtin_tasks.ts";
import type { DataType, JsonValue } from "./attributes.ts";

function check(config: JsonValue, inputs: DataType[] = [], outputs: DataType[] = []) {
  return checkBuiltinTask("run", config, inputs, outputs);
}

Deno.test("buildin/run: a well-formed config is accepted and normalized", () => {
  const config: JsonValue = {
    args: ["prog", "x"],
    in_paths: [{ path: "+in", write: false }, { path: "./a//b/", write: true }, {
      path: "d",
      content_type: "json",
    }],
    out_paths: ["+out", "d/out", "res/"],
  };
  deepStrictEqual(check(config, ["blob", "blob", "dir"], ["blob", "blob", "dir"]), undefined);
  deepStrictEqual(parseRunConfig(config, ["blob", "blob", "dir"], ["blob", "blob", "dir"]), {
    args: ["prog", "x"],
    in_paths: [{ path: "+in", write: false }, { path: "a/b", write: true }, {
      path: "d",
      write: false,
      content_type: "json",
    }],
    out_paths: ["+out", "d/out", "res"],
  });
});

Deno.test("buildin/run: wrong configs are rejected naming what is wrong", () => {
  const base = { args: ["p"], in_paths: [], out_paths: [] };
  const cases: [JsonValue, DataType[], DataType[], string][] = [
    [{ ...base, args: [] }, [], [], "config.args must be a non-empty list"],
    [{ ...base, args: ["p", 1] }, [], [], "config.args must be a non-empty list"],
    [{ args: ["p"] }, [], [], "in_paths and out_paths"],
    [base, ["blob"], [], "0 in_paths for 1 inputs"],
    [base, [], ["blob"], "0 out_paths for 1 outputs"],
    [{ ...base, in_paths: [{ path: "../x" }] }, ["blob"], [], "path '../x' must not contain"],
    [{ ...base, in_paths: [{ path: "/abs" }] }, ["blob"], [], "path '/abs' must be relative"],
    [{ ...base, out_paths: ["a/../../x"] }, [], ["blob"], "must not contain '..'"],
    [{ ...base, out_paths: ["."] }, [], ["blob"], "path '.' does not name an entry"],
    [{ ...base, out_paths: ["a", "./a"] }, [], ["blob", "blob"], "path 'a' is used by two"],
    [{ ...base, in_paths: [{ path: "a" }, { path: "a" }] }, ["blob", "blob"], [], "two inputs"],
    [{ ...base, in_paths: [{ path: "+in" }] }, ["dir"], [], "standard input must be a blob"],
    [{ ...base, out_paths: ["+out"] }, [], ["dir"], "standard output must be a blob"],
    [{ ...base, out_paths: ["+out", "+out"] }, [], ["blob", "blob"], "two outputs take"],
    [{ ...base, in_paths: [{ path: "f" }], out_paths: ["f/x"] }, ["blob"], ["blob"], "inside 'f'"],
    [{ ...base, in_paths: [{ path: "a" }], out_paths: ["a"] }, ["dir"], ["blob"], "a file and"],
    [{ ...base, in_paths: [{ path: "a", write: "yes" }] }, ["blob"], [], "in_paths[0] must be"],
  ];
  for (const [config, inputs, outputs, message] of cases) {
    const error = check(config, inputs, outputs);
    deepStrictEqual(error?.includes(message), true, `${message}: got ${error}`);
    throws(() => parseRunConfig(config, inputs, outputs));
  }
});

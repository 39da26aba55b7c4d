import assert from "node:assert/strict";
import { parseCommandArgs } from "./args.ts";
import { assertUsageError } from "./test_util.ts";

const spec = {
  "listen": { type: "string" as const },
  "cpus": { type: "string" as const, dashValue: true },
  "simple": { type: "boolean" as const },
  "S": { type: "boolean" as const, short: "S" },
};

Deno.test("--flag=value, --flag value, short flags, positionals, --", () => {
  const a = parseCommandArgs("x", ["--listen=1", "pos", "--cpus", "-1", "-S", "--simple"], spec);
  assert.equal(a.help, false);
  assert.deepEqual([...a.values], [["listen", "1"], ["cpus", "-1"], ["S", true], [
    "simple",
    true,
  ]]);
  assert.deepEqual(a.positionals, ["pos"]);
  const b = parseCommandArgs("x", ["--listen", "2", "--", "--simple"], spec);
  assert.equal(b.values.get("listen"), "2");
  assert.equal(b.values.has("simple"), false);
  assert.deepEqual(b.positionals, ["--simple"]);
  assert.equal(parseCommandArgs("x", ["--listen=-weird"], spec).values.get("listen"), "-weird");
});

Deno.test("--help or -h anywhere wins", () => {
  assert.equal(parseCommandArgs("x", ["--bogus", "-h"], spec).help, true);
  assert.equal(parseCommandArgs("x", ["--help"], spec).help, true);
});

Deno.test("option errors", () => {
  assertUsageError(
    () => parseCommandArgs("x", ["--bogus"], spec),
    /unknown option '--bogus' for 'rain x'/,
    "x",
  );
  assertUsageError(() => parseCommandArgs("x", ["-q"], spec), /unknown option '-q'/);
  assertUsageError(() => parseCommandArgs("x", ["--S"], spec), /unknown option '--S'/);
  assertUsageError(() => parseCommandArgs("x", ["--listen"], spec), /--listen needs a value/);
  assertUsageError(
    () => parseCommandArgs("x", ["--listen", "--simple"], spec),
    /--listen needs a value \(got '--simple'\)/,
  );
  assertUsageError(() => parseCommandArgs("x", ["--simple=yes"], spec), /takes no value/);
  assertUsageError(
    () => parseCommandArgs("x", ["--listen=1", "--listen", "2"], spec),
    /--listen is given more than once/,
  );
});

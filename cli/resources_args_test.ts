/** `rain governor --memory/--gpus/--resources` and `rain start --governor-resources`. */
import assert from "node:assert/strict";
import { parseGovernorArgs } from "./governor.ts";
import { governorResourceArgs, parseStartArgs, planStart } from "./start.ts";
import { assertUsageError, testContext } from "./test_util.ts";

const ctx = testContext({ cpus: 4 });

Deno.test("rain governor resource flags", () => {
  const cmd = parseGovernorArgs(
    ["h", "--memory", "64GiB", "--gpus=0,2", "--resources", "licence=2,scratch=1.5"],
    ctx,
  );
  assert.ok(!cmd.help);
  assert.deepEqual(cmd.options.resources, {
    memory: "64GiB",
    gpus: "0,2",
    custom: { licence: 2, scratch: 1.5 },
  });
  const plain = parseGovernorArgs(["h"], ctx);
  assert.ok(!plain.help && plain.options.resources === undefined);
  assertUsageError(() => parseGovernorArgs(["h", "--memory", "lots"], ctx), /is not a size/);
  assertUsageError(() => parseGovernorArgs(["h", "--gpus", "0,0"], ctx), /lists an id twice/);
  assertUsageError(
    () => parseGovernorArgs(["h", "--resources", "gpus=1"], ctx),
    /not a custom resource name/,
  );
});

Deno.test("rain start --governor-resources becomes governor flags", () => {
  assert.deepEqual(governorResourceArgs("memory=32GiB;gpus=0,1;licence=2;disk=10"), [
    "--memory=32GiB",
    "--gpus=0,1",
    "--resources=licence=2,disk=10",
  ]);
  const cmd = parseStartArgs(["--simple", "--governor-resources", "gpus=detect licence=1"], ctx);
  assert.ok(!cmd.help);
  const argv = planStart(cmd.options, ["rain"], "node1").governors[0]!.argv;
  assert.ok(
    argv.includes("--gpus=detect") && argv.includes("--resources=licence=1"),
    argv.join(" "),
  );
  assertUsageError(
    () => parseStartArgs(["--simple", "--governor-resources", "cpus=3"], ctx),
    /cpus are set by --simple/,
  );
  assertUsageError(
    () => parseStartArgs(["--simple", "--governor-resources", "memory"], ctx),
    /is not NAME=VALUE/,
  );
});

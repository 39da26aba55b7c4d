/**
 * A governor lost while it ran a task: the TypeScript client sees only the delay, and the task's
 * `info.attempts` lists the lost run (docs/policies.md).
 */
import assert from "node:assert/strict";
import { TestCluster } from "./test_util.ts";

async function waitForFile(path: string): Promise<void> {
  for (;;) {
    try {
      await Deno.stat(path);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

Deno.test("a task running on a SIGKILLed governor runs elsewhere; info.attempts lists both runs", async () => {
  await using cluster = await TestCluster.start({ governors: [1, 1] });
  const client = await cluster.client();
  const dir = `${cluster.workspace}/markers`;
  await Deno.mkdir(dir);
  await using session = await client.newSession();
  // Two one-cpu gates: one runs on each governor until `go` exists.
  const gates = [0, 1].map((i) =>
    session.execute(
      `echo started >> ${dir}/${i}; while [ ! -e ${dir}/go ]; do sleep 0.02; done; echo ${i}`,
      { shell: true, stdout: true },
    )
  );
  for (const gate of gates) gate.output.keep();
  await session.submit();
  await Promise.all([waitForFile(`${dir}/0`), waitForFile(`${dir}/1`)]);
  // Started as the server knows it (the governor reports it a moment after the program starts):
  // only then is the run cut short by the loss an attempt of its own.
  for (const gate of gates) {
    for (await gate.update(); !gate.info?.start_time; await gate.update()) {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  const victim = cluster.processes[1]!; // governor-0
  victim.child.kill("SIGKILL");
  await victim.status;
  await Deno.writeTextFile(`${dir}/go`, "");
  const texts = await Promise.all(gates.map(async (g) => (await g.output.fetch()).text()));
  assert.deepEqual(texts, ["0\n", "1\n"]);
  const attempts = await Promise.all(gates.map(async (g) => {
    await g.update();
    return g.info?.attempts;
  }));
  const rerun = attempts.filter((a) => a !== undefined);
  assert.equal(rerun.length, 1, "only the task of the lost governor ran twice");
  const [lost, last] = rerun[0]!;
  assert.match(lost!.error ?? "", /^governor 127\.0\.0\.1:\d+ lost: connection (closed|error)$/);
  assert.ok(lost!.start_time && (lost!.duration ?? -1) >= 0);
  assert.notEqual(last!.governor, lost!.governor);
  assert.equal(last!.error, undefined);
});

/**
 * Task policies (retries, retryOn, time limits) and the session failure policy (continue mode,
 * cancel, rerunFailed) from the TypeScript client, on a real cluster (docs/policies.md).
 */
import assert from "node:assert/strict";
import { type Client, Program, RainError, TaskError } from "./mod.ts";
import { makePolicy } from "./task.ts";
import { TestCluster, withTempDir } from "./test_util.ts";

const FLAKY =
  'if [ "$RAIN_TASK_ATTEMPT" = 1 ]; then exit 3; fi; printf "attempt $RAIN_TASK_ATTEMPT"';

Deno.test("policy options are checked and become spec.policy", () => {
  assert.deepEqual(makePolicy({ maxRetries: 2, retryOn: [3, "OSError"], timeLimit: 1.5 }), {
    max_retries: 2,
    retry_on: [3, "OSError"],
    time_limit: 1.5,
  });
  assert.equal(makePolicy({}), undefined);
  assert.throws(
    () => makePolicy({ maxRetries: -1 }),
    /maxRetries must be a non-negative integer, not -1/,
  );
  assert.throws(
    () => makePolicy({ timeLimit: 0 }),
    /timeLimit must be a positive number of seconds, not 0/,
  );
  assert.throws(() => new Program("true", { crashLimit: 0.5 }), /crashLimit .* not 0.5/);
});

Deno.test("policies and failure modes on a cluster", async (t) => {
  await using cluster = await TestCluster.start({ governors: [2] });
  const client: Client = await cluster.client();

  await t.step("a program failing on attempt 1 succeeds on attempt 2", async () => {
    await using session = await client.newSession();
    const task = session.execute(FLAKY, { shell: true, stdout: true, maxRetries: 1 });
    task.output.keep();
    const program = new Program(["sh", "-c", FLAKY], { stdout: true });
    const perCall = session.program(program, {}, { maxRetries: 2 });
    perCall.output.keep();
    await session.submit();
    assert.equal(await (await task.output.fetch()).text(), "attempt 2");
    assert.equal(await (await perCall.output.fetch()).text(), "attempt 2");
    await task.update();
    assert.deepEqual(task.info?.attempts?.map((a) => a.error === undefined), [false, true]);
    assert.deepEqual(perCall.spec.policy, { max_retries: 2 });
  });

  await t.step("retryOn narrows: another exit code is not retried", async () => {
    await using session = await client.newSession({ on_failure: "continue" });
    const task = session.execute("exit 4", { shell: true, maxRetries: 2, retryOn: [3] });
    await session.submit();
    await assert.rejects(session.waitAll(), (e: unknown) => {
      assert.ok(e instanceof TaskError && e.kind === "TaskFailed");
      assert.match(e.message, /^1 task of session \d+ failed:\n.*exited with code 4/s);
      return true;
    });
    await task.update();
    assert.equal(task.info?.exit_code, 4);
    assert.equal(task.info?.attempts, undefined);
  });

  await t.step("a time limit kills the attempt", async () => {
    await using session = await client.newSession();
    session.execute("sleep 60", { timeLimit: 1 });
    await session.submit();
    await assert.rejects(session.waitAll(), /longer than its time limit of 1 s/);
  });

  await t.step("continue: a diamond with a failing branch, then rerunFailed", async () => {
    await withTempDir(async (dir) => {
      const flag = `${dir}/fixed`;
      await using session = await client.newSession({ on_failure: "continue" });
      const source = session.blob("data");
      const good = session.execute("cat", { stdin: source, stdout: true, name: "good" });
      good.output.keep();
      const bad = session.execute(["sh", "-c", 'cat "$0"', flag], { stdout: true, name: "bad" });
      const merged = session.concat([good, bad], { name: "merged" });
      merged.output.keep();
      await session.submit();
      await assert.rejects(session.waitAll(), /2 tasks of session \d+ failed:\n- .*'bad'/);
      assert.equal(await (await good.output.fetch()).text(), "data");
      assert.deepEqual(await session.failedTasks(), [bad, merged]);
      assert.match(merged.info?.error ?? "", /was not run: its input object .*'bad'/);
      await Deno.writeTextFile(flag, "+fixed");
      assert.deepEqual(await session.rerunFailed(), [bad, merged]);
      await session.waitAll();
      assert.equal(await (await merged.output.fetch()).text(), "data+fixed");
    });
  });

  await t.step("cancel stops a running task and its dependents", async () => {
    await withTempDir(async (dir) => {
      const pidFile = `${dir}/pid`;
      await using session = await client.newSession();
      const script = 'echo $$ > "$0.tmp" && mv "$0.tmp" "$0" && exec sleep 60';
      const running = session.execute(["sh", "-c", script, pidFile], { stdout: true });
      const dependent = session.concat([running], { name: "dependent" });
      await session.submit();
      const pid = Number(await waitForFile(pidFile));
      assert.deepEqual(await session.cancel([running]), [running, dependent]);
      await waitUntilGone(pid);
      await assert.rejects(session.wait([dependent]), /'dependent'.*was cancelled/s);
      await session.waitAll();
    });
  });

  await t.step("a bad on_failure is refused", async () => {
    await assert.rejects(
      client.newSession({ on_failure: "bogus" as "fail" }),
      (e: unknown) => e instanceof RainError && /not "bogus"/.test(e.message),
    );
  });
});

/** The file's text once it exists (written by a task: an event, not a time). */
async function waitForFile(path: string): Promise<string> {
  for (let i = 0; i < 6000; i++) {
    try {
      return await Deno.readTextFile(path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`${path} never appeared`);
}

/** Resolves once no process has the pid. */
async function waitUntilGone(pid: number): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    try {
      await Deno.stat(`/proc/${pid}`);
    } catch {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`process ${pid} is still running`);
}

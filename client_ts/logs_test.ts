/**
 * `task.logs()` (issue 17): what a program and a task of a TypeScript executor printed, per task.
 */
import assert from "node:assert/strict";
import { type Client, RainError } from "./mod.ts";
import { TestCluster } from "./test_util.ts";

const EXAMPLE_EXECUTOR = new URL("../executor/example.ts", import.meta.url).pathname;

Deno.test("task.logs() against a real cluster", async (t) => {
  const command = [Deno.execPath(), "run", "-A", "--no-check", EXAMPLE_EXECUTOR];
  await using cluster = await TestCluster.start({
    governors: [2],
    governorConfig: `[executors.example1]\ncommand = ${JSON.stringify(command)}\n`,
  });
  const client: Client = await cluster.client();

  await t.step("a program's stdout and stderr", async () => {
    await using session = await client.newSession();
    const task = session.execute(["sh", "-c", "echo out; echo err >&2"]);
    await assert.rejects(
      () => task.logs(),
      (e) => e instanceof RainError && /has not been submitted/.test(e.message),
    );
    await session.submit();
    await task.wait();
    assert.deepEqual(await task.logs(), {
      stdout: "out\n",
      stderr: "err\n",
      attempt: 1,
      state: "finished",
    });
  });

  await t.step("console.log / console.error of executor tasks, each its own", async () => {
    await using session = await client.newSession();
    const tasks = ["one", "two", "three"].map((word) =>
      session.task({ taskType: "example1/shout", inputs: [session.blob(word)] })
    );
    await session.submit();
    await session.waitAll();
    for (const [i, word] of ["one", "two", "three"].entries()) {
      const logs = await tasks[i]!.logs();
      assert.equal(logs.stdout, `said: ${word}\n`);
      assert.equal(logs.stderr, `warned: ${word}\n`);
    }
  });
});

Deno.test("newSession({ echo }) prints each task's lines, prefixed by the task", async () => {
  await using cluster = await TestCluster.start({ governors: [2] });
  const client: Client = await cluster.client();
  const lines: string[] = [];
  const session = await client.newSession({
    echo: (line, stream) => lines.push(`${stream} ${line}`),
  });
  const a = session.execute(["sh", "-c", "echo one; echo two; echo bad >&2"], { name: "a" });
  const b = session.execute(["echo", "three"]);
  await session.submit();
  await session.waitAll();
  await session.close(); // prints what is still pending
  const sid = session.id;
  assert.deepEqual(lines.filter((l) => l.includes(`/${a.id[1]} a)`)), [
    `stdout (task ${sid}/${a.id[1]} a) one`,
    `stdout (task ${sid}/${a.id[1]} a) two`,
    `stderr (task ${sid}/${a.id[1]} a) bad`,
  ]);
  assert.deepEqual(lines.filter((l) => l.includes(`/${b.id[1]})`)), [
    `stdout (task ${sid}/${b.id[1]}) three`,
  ]);
  assert.equal(lines.length, 4);
});

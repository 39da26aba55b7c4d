/**
 * Tasks of user executors (`taskType: "<executor>/<method>"`): what the client checks, what the
 * server and governors answer for an executor no governor has, and real tasks of an executor
 * written with the repository's TypeScript executor library (executor/example.ts).
 */
import assert from "node:assert/strict";
import { type Client, RainError, Session, TaskError } from "./mod.ts";
import { TestCluster } from "./test_util.ts";

const EXAMPLE_EXECUTOR = new URL("../executor/example.ts", import.meta.url).pathname;
const HAVE_EXECUTOR_LIBRARY = (() => {
  try {
    return Deno.statSync(EXAMPLE_EXECUTOR).isFile;
  } catch {
    return false;
  }
})();

Deno.test("user task types: spec built from the options", () => {
  const s = new Session(undefined, 3);
  const a = s.blob("a");
  const task = s.task({
    taskType: "myexec/hello",
    inputs: { first: a, second: s.blob("b") },
    outputs: ["greeting", undefined],
    config: { times: 2 },
    cpus: 3,
    name: "hi",
    user: { k: "v" },
  });
  assert.deepEqual(task.spec, {
    id: [3, 12],
    task_type: "myexec/hello",
    inputs: [{ id: [3, 10], label: "first" }, { id: [3, 11], label: "second" }],
    outputs: [[3, 13], [3, 14]],
    resources: { cpus: 3 },
    config: { times: 2 },
    name: "hi",
    user: { k: "v" },
  });
  assert.deepEqual(task.inputs.labels, ["first", "second"]);
  assert.equal(task.inputs.get("first"), a);
  assert.equal(task.outputs.get("greeting").label, "greeting");
  for (const bad of ["", "noslash", "/x", "a b/c", "ex/é"]) {
    assert.throws(() => s.task({ taskType: bad }), RainError, bad);
  }
  // The method may be empty or nested, like Python's "py/".
  s.task({ taskType: "py/" });
  s.task({ taskType: "ex.1/a/b" });
});

Deno.test("user task types against a real cluster", async (t) => {
  await using cluster = await TestCluster.start({ governors: [1] });
  const client: Client = await cluster.client();

  await t.step(
    "an executor no governor has fails the task, naming the executor",
    async () => {
      await using session = await client.newSession();
      const task = session.task({
        taskType: "noexec/hello",
        inputs: [session.blob("x")],
        outputs: 1,
      });
      task.output.keep();
      await session.submit();
      await assert.rejects(task.output.fetch(), (e) => {
        assert.ok(e instanceof TaskError);
        assert.match(e.message, /noexec/);
        assert.match(e.message, /user_task_test\.ts/);
        return true;
      });
    },
  );
});

Deno.test({
  name: "tasks of an executor written with the TypeScript executor library",
  ignore: !HAVE_EXECUTOR_LIBRARY,
  async fn(t) {
    const command = [
      Deno.execPath(),
      "run",
      "-A",
      "--no-check",
      EXAMPLE_EXECUTOR,
    ];
    await using cluster = await TestCluster.start({
      governors: [2],
      governorConfig: `[executors.example1]\ncommand = ${JSON.stringify(command)}\n`,
    });
    const client: Client = await cluster.client();

    await t.step("hello: one blob in, one out", async () => {
      await using session = await client.newSession();
      const task = session.task({
        taskType: "example1/hello",
        inputs: [session.blob("world")],
        outputs: 1,
      });
      task.output.keep();
      await session.submit();
      assert.equal((await task.output.fetch()).text(), "Hello world!");
    });

    await t.step(
      "stats: JSON in and out, info.user and debug from the task",
      async () => {
        await using session = await client.newSession();
        const task = session.task({
          taskType: "example1/stats",
          inputs: [session.blob([1, 2, 3, 6], { encode: "json" })],
          outputs: 1,
          name: "stats",
        });
        task.output.keep();
        await session.submit();
        const data = await task.output.fetch();
        assert.deepEqual(data.json(), { count: 4, sum: 12, mean: 3 });
        assert.equal(data.contentType, "json");
        await task.update();
        assert.equal(task.state, "finished");
        assert.deepEqual(task.info?.user, { count: 4 });
        assert.match(task.info?.debug ?? "", /summed 4 numbers/);
      },
    );

    await t.step("tee: two outputs, labelled", async () => {
      await using session = await client.newSession();
      const task = session.task({
        taskType: "example1/tee",
        inputs: [session.blob("same")],
        outputs: ["original", "copy"],
      }).keepOutputs();
      await session.submit();
      const [original, copy] = await task.fetchOutputs();
      assert.equal(original!.text(), "same");
      assert.equal(copy!.text(), "same");
      assert.equal(task.outputs.get("copy").label, "copy");
    });

    await t.step("fail: the task's error in a TaskError", async () => {
      await using session = await client.newSession();
      session.task({
        taskType: "example1/fail",
        inputs: [session.blob("no luck")],
      });
      await session.submit();
      await assert.rejects(session.waitAll(), (e) => {
        assert.ok(e instanceof TaskError);
        assert.match(e.message, /no luck/);
        assert.match(e.message, /example1\/fail/);
        return true;
      });
    });
  },
});

/**
 * Sessions against a real cluster: submit, wait / waitSome / waitAll, update, keep/unkeep,
 * multiple submits, failures (typed errors explaining the task), closing.
 */
import assert from "node:assert/strict";
import {
  type Client,
  DataObject,
  RainError,
  Session,
  SessionError,
  Task,
  TaskError,
} from "./mod.ts";
import { TestCluster } from "./test_util.ts";

Deno.test("offline session: ids from 10, one counter, unsubmitted counts", () => {
  const session = new Session(undefined, 7);
  const a = session.blob("a");
  const b = session.blob(new Uint8Array([1, 2]));
  const task = session.concat([a, b]);
  assert.deepEqual([a.id, b.id, task.id, task.output.id], [[7, 10], [7, 11], [
    7,
    12,
  ], [7, 13]]);
  assert.equal(session.taskCount, 1);
  assert.equal(session.objectCount, 3);
  assert.equal(a.contentType, "text");
  assert.equal(b.contentType, undefined);
  assert.equal(task.output.producer, task);
  assert.deepEqual(task.spec.inputs, [{ id: [7, 10] }, { id: [7, 11] }]);
  assert.equal(String(task), "<Task 7/12 buildin/concat>");
  assert.equal(String(a), "<DataObject 7/10 blob 'const'>");
  assert.equal(a.state, undefined);
  assert.equal(task.info, undefined);
});

Deno.test("offline session: client-side errors", async () => {
  const session = new Session(undefined, 1);
  const other = new Session(undefined, 2);
  const a = session.blob("a");
  const concat = session.concat([a]);
  assert.throws(() => other.concat([a]), /belongs to another session/);
  assert.throws(() => concat.outputs.get("nope"), RangeError);
  const two = session.task({ taskType: "my/two", outputs: ["x", "y"] });
  assert.throws(
    () => two.output,
    (e) => e instanceof RainError && /2 outputs/.test(e.message),
  );
  assert.equal(two.outputs.get("y").label, "y");
  assert.throws(
    () => session.task({ taskType: "my/dup", outputs: ["x", "x"] }),
    /duplicate output label/,
  );
  assert.throws(() => session.task({ taskType: "nope" }), /executor\/method/);
  assert.throws(() => session.task({ taskType: "a/b", cpus: 0 }), /cpus/);
  assert.throws(() => session.load("relative/path"), /absolute path/);
  assert.throws(() => session.makeDirectory({ "../x": a }), /must not contain/);
  assert.throws(() => session.sleep(a, -1), /seconds/);
  assert.throws(() => session.blob({ a: 1 }), /encode/);
  assert.throws(
    () => session.blob("x", { contentType: "weird" }),
    /unknown content type/,
  );
  await assert.rejects(session.wait([a]), /not submitted/);
  await assert.rejects(session.fetch(a), /not submitted/);
  await assert.rejects(
    // deno-lint-ignore no-explicit-any
    session.wait([{} as any]),
    TypeError,
  );
  await assert.rejects(session.submit(), /offline/);
  await session.close();
  assert.equal(session.active, false);
  assert.throws(() => session.blob("x"), /closed/);
});

Deno.test("sessions against a real cluster", async (t) => {
  await using cluster = await TestCluster.start({ governors: [2, 2] });
  const client: Client = await cluster.client();

  await t.step("hello world, with await using", async () => {
    await using session = await client.newSession({ name: "hello" });
    const task = session.concat([
      session.blob("Hello "),
      session.blob("world!"),
    ]);
    task.output.keep();
    await session.submit();
    assert.equal(task.state, "notAssigned");
    const data = await task.output.fetch();
    assert.equal(data.text(), "Hello world!");
    assert.equal(data.size, 12);
    assert.equal(data.dataType, "blob");
    assert.equal(task.output.state, "finished");
  });

  await t.step(
    "wait, waitSome, waitAll and update bring states and infos",
    async () => {
      await using session = await client.newSession();
      const a = session.blob("data");
      const fast = session.sleep(a, 0);
      const slow = session.sleep(a, 30);
      await session.submit();
      const some = await session.waitSome([fast, slow]);
      assert.deepEqual(some.tasks, [fast]);
      assert.deepEqual(some.objects, []);
      assert.equal(fast.state, "finished");
      await session.wait([fast.output]);
      await session.update([fast, slow, fast.output]);
      assert.equal(fast.state, "finished");
      assert.ok(
        slow.state === "running" || slow.state === "assigned" ||
          slow.state === "ready",
      );
      assert.match(fast.info!.governor!, /^127\.0\.0\.1:\d+$/);
      assert.ok(typeof fast.info!.duration === "number");
      assert.ok(!Number.isNaN(Date.parse(fast.info!.start_time!)));
      assert.equal(fast.output.info!.size, 4);
      assert.deepEqual(await session.waitSome([]), { tasks: [], objects: [] });
    },
  );

  await t.step(
    "waitAll returns at once without tasks, and after every submitted task",
    async () => {
      await using session = await client.newSession();
      await session.waitAll();
      const tasks = [1, 2, 3].map((i) => session.sleep(session.blob(String(i)), 0.01 * i));
      await session.submit();
      await session.waitAll();
      for (const task of tasks) assert.equal(task.state, "finished");
      await tasks[0]!.wait();
    },
  );

  await t.step("multiple submits reuse kept objects only", async () => {
    await using session = await client.newSession();
    const a = session.blob("Hello world");
    const t1 = session.sleep(a, 0);
    t1.output.keep();
    await session.submit();
    const t2 = session.sleep(t1.output, 0);
    t2.output.keep();
    await session.submit();
    await session.waitAll();
    const t3 = session.concat([t1, t2]).keepOutputs();
    await session.submit();
    assert.equal((await t3.output.fetch()).text(), "Hello worldHello world");
    assert.throws(() => a.keep(), /already submitted/);
    session.concat([a]);
    await assert.rejects(session.submit(), /earlier submit that is not kept/);
  });

  await t.step("unkeep: the object can no longer be fetched", async () => {
    await using session = await client.newSession();
    const obj = session.blob("x").keep();
    const out = session.concat([obj]).output.keep();
    await session.submit();
    assert.equal((await out.fetch()).text(), "x");
    await out.unkeep();
    assert.equal(out.isKept, false);
    await assert.rejects(out.fetch(), /not kept/);
    await assert.rejects(out.unkeep(), /not kept/);
    await session.unkeep([obj]);
  });

  await t.step("spec user attributes travel with the graph", async () => {
    await using session = await client.newSession();
    const obj = session.blob("x");
    obj.user.color = "blue";
    const task = session.concat([obj], { name: "joined" });
    task.user.answer = 42;
    task.output.keep();
    await session.submit();
    const data = await task.output.fetch();
    assert.equal(data.spec.id[1], task.output.id[1]);
    assert.equal(task.name, "joined");
    assert.deepEqual(task.spec.user, { answer: 42 });
  });

  await t.step(
    "a failed task fails the session with a TaskError saying where",
    async () => {
      const session = await client.newSession();
      const other = await client.newSession();
      const bad = session.load("/nonexistent/rain-ts-test-file", {
        name: "missing",
      });
      bad.output.keep();
      const ok = other.concat([other.blob("still fine")]).keepOutputs();
      await session.submit();
      await other.submit();
      let first = "";
      await assert.rejects(bad.output.fetch(), (e) => {
        assert.ok(e instanceof TaskError);
        assert.ok(e instanceof SessionError);
        assert.equal(e.kind, "SessionFailed");
        first = e.message;
        return true;
      });
      assert.match(first, new RegExp(`${session.id}/${bad.id[1]}`));
      assert.match(first, /rain-ts-test-file/);
      assert.match(first, /buildin\/open, name 'missing'\) was created at:/);
      assert.match(first, /session_test\.ts/);
      // Every later call throws it again.
      await assert.rejects(
        session.waitAll(),
        (e) => e instanceof TaskError && e.message === first,
      );
      await assert.rejects(session.update([bad]), TaskError);
      // Other sessions go on; closing a failed session does not throw.
      assert.equal((await ok.output.fetch()).text(), "still fine");
      await session.close();
      await other.close();
    },
  );

  await t.step(
    "a graph the server rejects is an InvalidGraph error",
    async () => {
      await using session = await client.newSession();
      const dir = session.makeDirectory({ "a.txt": session.blob("a") });
      // concat() would refuse a directory; a raw task reaches the server's validation.
      session.task({ taskType: "buildin/concat", inputs: [dir], outputs: 1 });
      await assert.rejects(session.submit(), (e) => {
        assert.ok(e instanceof RainError);
        assert.equal(e.kind, "InvalidGraph");
        assert.match(e.message, /concat/);
        return true;
      });
    },
  );

  await t.step(
    "closed sessions: SessionError from the server, RainError locally",
    async () => {
      const session = await client.newSession();
      const task = session.sleep(session.blob("x"), 0);
      await session.submit();
      await session.close();
      await session.close();
      assert.throws(() => session.blob("y"), /closed/);
      await assert.rejects(task.wait(), /closed/);
      assert.ok(new SessionError("x") instanceof RainError);
    },
  );

  await t.step("tasks and objects are the classes exported", () => {
    const session = new Session(undefined, 1);
    const task = session.concat([session.blob("a")]);
    assert.ok(task instanceof Task);
    assert.ok(task.output instanceof DataObject);
  });
});

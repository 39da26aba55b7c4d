/**
 * Submits in both encodings against a real cluster: the same graph gives the same results and
 * the same errors; where a failed task was created is told for the first tasks of a session
 * (every task with `recordSites`).
 */
import assert from "node:assert/strict";
import { Client, Input, Output, RainError, TaskError } from "./mod.ts";
import type { Session } from "./mod.ts";
import { SITE_TASKS } from "./internal.ts";
import { TestCluster } from "./test_util.ts";

const ENCODINGS = ["compact", "json"] as const;

/** A graph with labels, content types, configs, names, user attributes and a directory. */
function graph(session: Session) {
  const hello = session.blob("Hello ", { label: "greeting" });
  const name = session.blob(new Uint8Array([119, 111, 114, 108, 100]));
  const joined = session.concat([hello, name], { name: "join" });
  joined.user.step = 1;
  const dir = session.makeDirectory({ "a.txt": joined, "sub/b.txt": hello });
  const file = session.sliceDirectory(dir, "sub/b.txt", { contentType: "text" });
  const program = session.execute([
    "sh",
    "-c",
    "cat in; printf !",
    "--",
    new Input("in", {
      dataObject: joined,
    }),
  ], { stdout: new Output("out", { contentType: "text" }), name: "shout" });
  for (const task of [joined, file, program]) task.keepOutputs();
  return { joined, file, program };
}

Deno.test("both encodings: same results, same errors", async (t) => {
  await using cluster = await TestCluster.start({ governors: [2] });
  const results: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const encoding of ENCODINGS) {
    await t.step(`${encoding}: a graph runs and reads back`, async () => {
      await using client = await Client.connect(cluster.address, {
        secret: cluster.secret(),
        submitEncoding: encoding,
      });
      await using session = await client.newSession();
      const { joined, file, program } = graph(session);
      await session.submit();
      await session.waitAll();
      await session.update([program]);
      results[encoding] = {
        joined: (await joined.output.fetch()).text(),
        file: (await file.output.fetch()).text(),
        program: (await program.output.fetch()).text(),
        contentType: program.output.contentType,
        name: program.name,
      };
    });
    await t.step(`${encoding}: an invalid graph is rejected with InvalidGraph`, async () => {
      await using client = await Client.connect(cluster.address, {
        secret: cluster.secret(),
        submitEncoding: encoding,
      });
      await using session = await client.newSession();
      const dir = session.makeDirectory({ "a.txt": session.blob("a") });
      session.task({ taskType: "buildin/concat", inputs: [dir], outputs: 1 });
      await assert.rejects(session.submit(), (e) => {
        assert.ok(e instanceof RainError);
        assert.equal(e.kind, "InvalidGraph");
        errors[encoding] = e.message.replaceAll(`${session.id}/`, "<session>/");
        return true;
      });
    });
  }
  assert.deepEqual(results.compact, {
    joined: "Hello world",
    file: "Hello ",
    program: "Hello world!",
    contentType: "text",
    name: "shout",
  });
  assert.deepEqual(results.json, results.compact);
  assert.match(errors.compact!, /task <session>\/\d+: concat inputs must be blobs/);
  assert.equal(errors.json, errors.compact);
});

Deno.test("submitEncoding is checked", async () => {
  await using cluster = await TestCluster.start({ governors: [1] });
  await assert.rejects(
    Client.connect(cluster.address, {
      secret: cluster.secret(),
      submitEncoding: "xml" as "json",
    }),
    /submitEncoding must be "compact" or "json", not "xml"/,
  );
});

Deno.test("a failed task's creation site: first tasks of a session, or all with recordSites", async (t) => {
  await using cluster = await TestCluster.start({ governors: [2] });
  const client = await cluster.client();
  /** The TaskError of a session whose task number SITE_TASKS + 1 fails. */
  async function lateFailure(options: { recordSites?: boolean }): Promise<string> {
    await using session = await client.newSession(options);
    const a = session.blob(new Uint8Array([1]));
    for (let i = 0; i < SITE_TASKS; i++) session.concat([a]);
    const bad = session.load("/nonexistent/rain-ts-late-task", { name: "late" });
    bad.output.keep();
    await session.submit();
    let message = "";
    await assert.rejects(bad.output.fetch(), (e) => {
      assert.ok(e instanceof TaskError);
      message = e.message;
      return true;
    });
    return message;
  }
  await t.step("beyond the first tasks: the message says it was not recorded", async () => {
    const message = await lateFailure({});
    assert.match(message, /buildin\/open, name 'late'\) was created at:/);
    assert.match(message, /not recorded: only the first 1000 tasks of a session record it/);
    assert.match(message, /recordSites: true/);
  });
  await t.step("with recordSites: every task says where it was created", async () => {
    const message = await lateFailure({ recordSites: true });
    assert.match(message, /buildin\/open, name 'late'\) was created at:/);
    assert.match(message, /submit_encoding_test\.ts/);
    assert.doesNotMatch(message, /not recorded/);
  });
});

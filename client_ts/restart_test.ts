/**
 * The client across a server crash (docs/guide/server-restart.md): the server is killed
 * (SIGKILL) and started again over its log dir; a waitAll in progress continues and the
 * results are there. Tasks that must run across the crash wait on a file the test creates.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { Client } from "./client.ts";
import { TestCluster } from "./test_util.ts";

Deno.test("a waitAll in progress continues across a server restart", async () => {
  await using cluster = await TestCluster.start({ governors: [2] });
  const gate = `${cluster.workspace}/open`;
  const started = `${cluster.workspace}/started`;
  await using client = await Client.connect(cluster.address, { secret: cluster.secret() });
  await using session = await client.newSession({ name: "across a crash" });
  const first = session.concat([session.blob("before "), session.blob("the crash")]);
  const waiting = session.execute(
    [
      "sh",
      "-c",
      'touch "$1"; while [ ! -e "$2" ]; do sleep 0.01; done; printf "after the crash"',
      "gate",
      started,
      gate,
    ],
    { stdout: true },
  );
  first.output.keep();
  waiting.output.keep();
  await session.submit();
  await session.wait([first]);
  while (!(await exists(started))) await new Promise((r) => setTimeout(r, 20));
  const all = session.waitAll();
  await cluster.crashAndRestartServer();
  await Deno.writeTextFile(gate, "");
  await all;
  assertEquals((await first.output.fetch()).text(), "before the crash");
  assertEquals((await waiting.output.fetch()).text(), "after the crash");
});

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

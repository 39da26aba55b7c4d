import { deepStrictEqual as assertEquals, rejects } from "node:assert/strict";
import { startWorker, WorkerRpc } from "./worker_rpc.ts";

type EchoProtocol = {
  echo: { arg: { text: string }; result: { text: string } };
  fail: { arg: null; result: never };
  die: { arg: null; result: never };
};

/** A worker speaking the protocol by hand: replies, a failure, a notice, then dying. */
const SOURCE = `
self.onmessage = (e) => {
  const { id, op, arg } = e.data;
  if (op === "echo") {
    self.postMessage({ notice: arg.text });
    self.postMessage({ id, ok: true, result: { text: arg.text + "!" } });
  } else if (op === "fail") {
    self.postMessage({ id, ok: false, error: { name: "NotFound", message: "no such thing" } });
  } else if (op === "die") {
    setTimeout(() => { throw new Error("worker gone"); }, 0);
  }
};`;

Deno.test("WorkerRpc: typed calls, failures, other messages, and a worker that dies", async () => {
  const notices: unknown[] = [];
  let died: string | undefined;
  const rpc = new WorkerRpc<EchoProtocol>(startWorker(SOURCE), {
    other: (m) => notices.push(m),
    died: (message) => (died = message),
    failure: (message) => `echo worker failed: ${message}`,
  });
  try {
    const [a, b] = await Promise.all([
      rpc.call("echo", { text: "a" }),
      rpc.call("echo", { text: "b" }),
    ]);
    assertEquals([a.text, b.text], ["a!", "b!"]);
    assertEquals(notices, [{ notice: "a" }, { notice: "b" }]);
    await rejects(rpc.call("fail", null), { name: "NotFound", message: "no such thing" });
    await rejects(rpc.call("die", null), /echo worker failed: .*worker gone/);
    assertEquals([rpc.closed, died?.includes("worker gone")], [true, true]);
    await rejects(rpc.call("echo", { text: "c" }), /echo worker failed/);
  } finally {
    rpc.terminate();
  }
});

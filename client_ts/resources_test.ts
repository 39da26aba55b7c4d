/**
 * Resource requests from the TypeScript client: what goes to `spec.resources`, and a cluster
 * whose governor offers gpus and a licence from its config's `[resources]`: tasks get distinct
 * devices, licences are never oversubscribed (from reported times), impossible requests fail.
 */
import assert from "node:assert/strict";
import { type Client, RainError, type Task } from "./mod.ts";
import { makeResources, parseSize } from "./task.ts";
import { TestCluster } from "./test_util.ts";

Deno.test("resource options become spec.resources", () => {
  assert.deepEqual(makeResources({}), { cpus: 1 });
  assert.deepEqual(makeResources({ cpus: 2, memory: "1.5GiB", gpus: 0.25, resources: { a: 1 } }), {
    cpus: 2,
    memory: 1.5 * 2 ** 30,
    gpus: 0.25,
    custom: { a: 1 },
  });
  assert.equal(parseSize("512MB"), 512e6);
  assert.throws(() => makeResources({ gpus: 1.5 }), /gpus must be a whole number/);
  assert.throws(() => makeResources({ memory: "lots" }), RainError);
  assert.throws(() => makeResources({ resources: { gpus: 1 } }), /not a custom resource name/);
});

function span(task: Task): [number, number] {
  const start = Date.parse(task.info!.start_time!);
  return [start, start + task.info!.duration! * 1000];
}

function maxOverlap(spans: [number, number][]): number {
  const events = spans.flatMap(([s, e]) => [[s, 1], [e, -1]] as [number, number][])
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let level = 0, peak = 0;
  for (const [, d] of events) peak = Math.max(peak, level += d);
  return peak;
}

Deno.test("gpus and custom resources on a real cluster", async () => {
  await using cluster = await TestCluster.start({
    governors: [4],
    governorConfig: '[resources]\ngpus = ["0", "1"]\nlicence = 1\nmemory = "2GiB"\n',
  });
  const client: Client = await cluster.client();
  const info = await client.serverInfo();
  assert.deepEqual(info.governors[0]!.resources, {
    cpus: 4,
    memory: 2 ** 31,
    gpus: ["0", "1"],
    gpu_kind: "cuda",
    custom: { licence: 1 },
  });

  await using session = await client.newSession();
  const gpuTasks = Array.from(
    { length: 4 },
    () =>
      session.execute('printf %s "$CUDA_VISIBLE_DEVICES"; sleep 0.3', {
        shell: true,
        stdout: true,
        gpus: 1,
      }).keepOutputs(),
  );
  const licensed = Array.from(
    { length: 3 },
    () => session.execute("sleep 0.2", { resources: { licence: 1 } }),
  );
  await session.submit();
  await session.waitAll();
  const all = [...gpuTasks, ...licensed];
  await Promise.all(all.map((t) => t.update()));
  const devices = await Promise.all(gpuTasks.map(async (t) => (await t.output.fetch()).text()));
  assert.ok(devices.every((d) => d === "0" || d === "1"), devices.join(","));
  const spans = gpuTasks.map(span);
  assert.ok(maxOverlap(spans) <= 2);
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < i; j++) {
      const overlap = spans[i]![0] < spans[j]![1] && spans[j]![0] < spans[i]![1];
      if (overlap) assert.notEqual(devices[i], devices[j]);
    }
  }
  assert.equal(maxOverlap(licensed.map(span)), 1);
  assert.deepEqual(gpuTasks[0]!.spec.resources, { cpus: 1, gpus: 1 });

  await using failing = await client.newSession();
  failing.execute("true", { gpus: 3 });
  await assert.rejects(
    () => failing.submit(),
    /asks for cpus=1 gpus=3, which no connected governor can ever give \(gpus\)/,
  );
});

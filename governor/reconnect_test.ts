/**
 * A governor whose link to the server drops connects again: resumed (same id, its tasks go on)
 * or registered anew (its tasks dropped, the server reassigned them); heartbeats at the interval
 * the server gives; `fetch_objects` answered with `objects_fetched`; the reattach report (its
 * tasks, the results the server has not journaled yet, its objects) sent when registering again.
 */
import { assert, assertEquals } from "./test_assert.ts";
import { join } from "node:path";
import type {
  AssignedTask,
  HeartbeatMessage,
  ObjectsFetchedMessage,
  RegisterMessage,
  TaskFinishedMessage,
  TaskStartedMessage,
  ToServer,
} from "../common/messages.ts";
import { Governor } from "./governor.ts";
import type { GovernorOptions } from "./options.ts";
import type { ConnectToServer } from "./server_link.ts";
import { enc, RecordingLink, tempDir } from "./test_util.ts";

const isRegister = (m: ToServer): m is RegisterMessage => m.type === "register";
const isStarted = (m: ToServer): m is TaskStartedMessage => m.type === "task_started";

/** A governor whose every connection is a new `RecordingLink` (kept in `links`). */
function startGovernor(dir: string) {
  const links: RecordingLink[] = [];
  let connected: (() => void) | undefined;
  const connect: ConnectToServer = (onMessages) => {
    const link = new RecordingLink();
    links.push(link);
    connected?.();
    return link.connect(onMessages);
  };
  const nextLink = () => new Promise<void>((resolve) => connected = resolve);
  const options: GovernorOptions = {
    serverHost: "127.0.0.1",
    serverPort: 1,
    cpus: 1,
    listenHost: "127.0.0.1",
    listenPort: 0,
    workDir: join(dir, "work"),
    logDir: join(dir, "logs"),
    deleteListTimeout: 0,
    monitoringInterval: 0,
  };
  const governor = new Governor(options, connect);
  const started = governor.start();
  return { governor, links, started, nextLink };
}

function sleepTask(): AssignedTask {
  return {
    spec: {
      id: [1, 10],
      task_type: "buildin/sleep",
      config: { seconds: 600 },
      inputs: [{ id: [1, 11] }],
      outputs: [[1, 12]],
      resources: { cpus: 1 },
    },
    inputs: [{
      spec: { id: [1, 11], data_type: "blob" },
      size: 1,
      source: { kind: "inline", data: enc.encode("x") },
    }],
    outputs: [{ id: [1, 12], data_type: "blob" }],
  };
}

async function registered(dir: string) {
  const g = startGovernor(dir);
  const first = await waitForLink(g, 0);
  await first.waitFor(isRegister, "register");
  first.deliver({ type: "registered", governor_id: "127.0.0.1:7", heartbeat_interval: 0.02 });
  await g.started;
  first.deliver({ type: "assign_tasks", tasks: [sleepTask()] });
  await first.waitFor(isStarted, "task_started");
  return { ...g, first };
}

async function waitForLink(g: ReturnType<typeof startGovernor>, index: number) {
  while (g.links.length <= index) await g.nextLink();
  return g.links[index]!;
}

Deno.test("reconnect: heartbeats at the server's interval", async () => {
  await using dir = await tempDir();
  const { governor, first } = await registered(dir.path);
  const beat = await first.waitFor(
    (m): m is HeartbeatMessage => m.type === "heartbeat",
    "heartbeat",
  );
  assertEquals(beat, { type: "heartbeat" });
  await governor.stop();
});

Deno.test("reconnect: resumed by the server, the governor keeps its running task", async () => {
  await using dir = await tempDir();
  const g = await registered(dir.path);
  g.first.lose("connection to the server closed");
  const second = await waitForLink(g, 1);
  const again = await second.waitFor(isRegister, "register");
  assertEquals(again.resume, "127.0.0.1:7");
  second.deliver({
    type: "registered",
    governor_id: "127.0.0.1:7",
    heartbeat_interval: 0.02,
    resumed: true,
  });
  // Once resumed, heartbeats flow on the new link and the task still runs.
  await second.waitFor((m): m is HeartbeatMessage => m.type === "heartbeat", "heartbeat");
  assertEquals(g.governor.queue.running, 1);
  assert(g.governor.store.get([1, 11]) !== undefined);
  await g.governor.stop();
});

Deno.test("reconnect: registered anew, the governor drops its tasks but keeps its data", async () => {
  await using dir = await tempDir();
  const g = await registered(dir.path);
  g.first.lose("connection to the server closed");
  const second = await waitForLink(g, 1);
  await second.waitFor(isRegister, "register");
  second.deliver({ type: "registered", governor_id: "127.0.0.1:7", heartbeat_interval: 0.02 });
  await second.waitFor((m): m is HeartbeatMessage => m.type === "heartbeat", "heartbeat");
  assertEquals(g.governor.queue.running, 0);
  assert(g.governor.store.get([1, 11]) !== undefined);
  // A task assigned again runs (its session is not closed on this governor).
  second.deliver({ type: "assign_tasks", tasks: [sleepTask()] });
  await second.waitFor(isStarted, "task_started");
  await g.governor.stop();
});

Deno.test("fetch_objects: copies are stored and reported, failures too", async () => {
  await using dir = await tempDir();
  const { governor, first } = await registered(dir.path);
  first.deliver({
    type: "fetch_objects",
    objects: [
      {
        spec: { id: [1, 20], data_type: "blob" },
        size: 2,
        source: { kind: "inline", data: enc.encode("ok") },
      },
      {
        spec: { id: [1, 21], data_type: "blob" },
        size: 2,
        source: { kind: "governors", governors: [] },
      },
    ],
  });
  const answer = await first.waitFor(
    (m): m is ObjectsFetchedMessage => m.type === "objects_fetched",
    "objects_fetched",
  );
  assertEquals(answer.objects, [[1, 20]]);
  assertEquals(answer.failed, [[1, 21]]);
  assert(governor.store.get([1, 20]) !== undefined);
  await governor.stop();
});

/** A task finishing at once: concat of an inline constant. */
function concatTask(id: number): AssignedTask {
  return {
    spec: {
      id: [1, id],
      task_type: "buildin/concat",
      inputs: [{ id: [1, 11] }],
      outputs: [[1, id + 1]],
      resources: { cpus: 1 },
    },
    inputs: [{
      spec: { id: [1, 11], data_type: "blob" },
      size: 1,
      source: { kind: "inline", data: enc.encode("x") },
    }],
    outputs: [{ id: [1, id + 1], data_type: "blob" }],
  };
}

const isFinished = (m: ToServer): m is TaskFinishedMessage => m.type === "task_finished";

Deno.test("reattach: the report has the running task, unacknowledged results and objects", async () => {
  await using dir = await tempDir();
  const g = await registered(dir.path);
  g.first.deliver({ type: "assign_tasks", tasks: [concatTask(20), concatTask(30)] });
  // The sleep holds the only cpu: the concats wait in the queue.
  g.first.lose("connection to the server closed");
  const second = await waitForLink(g, 1);
  const again = await second.waitFor(isRegister, "register");
  const report = again.report!;
  assertEquals(report.tasks, [
    { id: [1, 10], running: true },
    { id: [1, 20], running: false },
    { id: [1, 30], running: false },
  ]);
  assertEquals(report.results, []);
  assertEquals(report.objects.map((o) => o.id), [[1, 11]]);
  // The server takes the report: nothing is dropped.
  second.deliver({
    type: "registered",
    governor_id: "127.0.0.1:7",
    heartbeat_interval: 0.02,
    reattached: true,
  });
  await second.waitFor((m): m is HeartbeatMessage => m.type === "heartbeat", "heartbeat");
  assertEquals(g.governor.queue.running + g.governor.queue.queued, 3);
  await g.governor.stop();
});

Deno.test("reattach: results are reported again until the server has journaled them", async () => {
  await using dir = await tempDir();
  const g = startGovernor(dir.path);
  const first = await waitForLink(g, 0);
  await first.waitFor(isRegister, "register");
  first.deliver({ type: "registered", governor_id: "127.0.0.1:7", heartbeat_interval: 0.02 });
  await g.started;
  first.deliver({ type: "assign_tasks", tasks: [concatTask(20)] });
  await first.waitFor(isFinished, "task_finished");
  first.deliver({ type: "assign_tasks", tasks: [concatTask(30)] });
  await first.waitFor((m): m is TaskFinishedMessage => isFinished(m) && m.task[1] === 30, "30");
  first.deliver({ type: "results_journaled", count: 1 }); // the first only
  first.lose("connection to the server closed");
  const second = await waitForLink(g, 1);
  const again = await second.waitFor(isRegister, "register");
  assertEquals(again.report!.results.map((r) => r.task), [[1, 30]]);
  assertEquals(
    again.report!.objects.map((o) => o.id).sort((a, b) => a[1] - b[1]),
    [[1, 11], [1, 21], [1, 31]],
  );
  second.deliver({
    type: "registered",
    governor_id: "127.0.0.1:7",
    heartbeat_interval: 0.02,
    reattached: true,
  });
  // Counted anew on the new link: the report's result is the first.
  second.deliver({ type: "results_journaled", count: 1 });
  second.lose("connection to the server closed");
  const third = await waitForLink(g, 2);
  const last = await third.waitFor(isRegister, "register");
  assertEquals(last.report!.results, []);
  await g.governor.stop();
});

/**
 * The governor's handling of every server message (`ToGovernor`, common/messages.ts), driven
 * through a `RecordingLink` instead of a WebSocket: each message is delivered straight to the
 * governor and what it sends back is read from `link.sent`.
 */
import { assert, assertEquals, assertRejects, assertStringIncludes } from "./test_assert.ts";
import { join } from "node:path";
import type {
  AssignedTask,
  ObjectsRemovedMessage,
  RegisterMessage,
  TaskFailedMessage,
  TaskFinishedMessage,
  TaskOutputMessage,
  TaskStartedMessage,
  ToGovernor,
  ToServer,
} from "../common/messages.ts";
import type { Id } from "../common/ids.ts";
import { Governor } from "./governor.ts";
import type { GovernorOptions } from "./options.ts";
import { enc, RecordingServer, tempDir } from "./test_util.ts";

const same = (a: Id, b: Id) => a[0] === b[0] && a[1] === b[1];
const isRegister = (m: ToServer): m is RegisterMessage => m.type === "register";
const startedOf = (id: Id) => (m: ToServer): m is TaskStartedMessage =>
  m.type === "task_started" && same(m.task, id);
const finishedOf = (id: Id) => (m: ToServer): m is TaskFinishedMessage | TaskFailedMessage =>
  (m.type === "task_finished" || m.type === "task_failed") && same(m.task, id);
const outputOf = (id: Id) => (m: ToServer): m is TaskOutputMessage =>
  m.type === "task_output" && same(m.task, id);
const removedOf = (id: Id) => (m: ToServer): m is ObjectsRemovedMessage =>
  m.type === "objects_removed" && m.objects.some((o) => same(o, id));
const aboutSession = (session: number) => (m: ToServer) => "task" in m && m.task[0] === session;

/** `buildin/concat` (or another built-in) of inline texts into one blob. */
function inlineTask(id: Id, taskType: string, config: unknown, texts: string[], cpus = 1) {
  const inputs = texts.map((_, k): Id => [id[0], id[1] + 1 + k]);
  const output: Id = [id[0], id[1] + 1 + texts.length];
  const task: AssignedTask = {
    spec: {
      id,
      task_type: taskType,
      config: config as AssignedTask["spec"]["config"],
      inputs: inputs.map((i) => ({ id: i })),
      outputs: [output],
      resources: { cpus },
    },
    inputs: texts.map((text, k) => ({
      spec: { id: inputs[k]!, data_type: "blob" },
      size: text.length,
      source: { kind: "inline", data: enc.encode(text) },
    })),
    outputs: [{ id: output, data_type: "blob" }],
  };
  return { task, inputs, output };
}

/** A governor starting against a `RecordingServer`; `link` is its first connection. */
async function startGovernor(dir: string, extra: Partial<GovernorOptions> = {}) {
  const server = new RecordingServer();
  const options: GovernorOptions = {
    serverHost: "127.0.0.1",
    serverPort: 1, // never dialled: the recording link replaces the socket
    cpus: 2,
    listenHost: "127.0.0.1",
    listenPort: 0,
    workDir: join(dir, "work"),
    logDir: join(dir, "logs"),
    readyFile: join(dir, "ready"),
    deleteListTimeout: 0,
    monitoringInterval: 0,
    ...extra,
  };
  const governor = new Governor(options, server.connect);
  const started = governor.start();
  started.catch(() => {});
  const link = await server.link(0);
  return { governor, link, options, server, started };
}

/** A started governor, registered as `127.0.0.1:<its data port>`. */
async function registeredGovernor(dir: string, extra: Partial<GovernorOptions> = {}) {
  const g = await startGovernor(dir, extra);
  const register = await g.link.waitFor(isRegister, "register");
  const governorId = `127.0.0.1:${register.listen_port}`;
  g.link.deliver({ type: "registered", governor_id: governorId });
  await g.started;
  return { ...g, governorId };
}

Deno.test("governor messages: registered ends the start; the ready file only comes after it", async () => {
  await using dir = await tempDir();
  const { governor, link, options, started } = await startGovernor(dir.path);
  const register = await link.waitFor(isRegister, "register");
  assertEquals(register.cpus, 2);
  assertEquals(register.pid, Deno.pid);
  assertEquals(register.listen_host, "127.0.0.1");
  await assertRejects(() => Deno.stat(options.readyFile!), Deno.errors.NotFound);
  link.deliver({ type: "registered", governor_id: "gov-a:1234" });
  await started;
  assertEquals(governor.governorId, "gov-a:1234");
  assertEquals(await Deno.readTextFile(options.readyFile!), "ready\n");
  await governor.stop();
  assert(link.isClosed);
});

Deno.test("governor messages: a link that closes before registered is a start error", async () => {
  await using dir = await tempDir();
  const { link, options, started } = await startGovernor(dir.path);
  await link.waitFor(isRegister, "register");
  link.lose("the server went away");
  await assertRejects(
    () => started,
    Error,
    "server at recording://server did not register the governor: the server went away",
  );
  await assertRejects(() => Deno.stat(options.readyFile!), Deno.errors.NotFound);
  await assertRejects(() => Deno.stat(options.workDir), Deno.errors.NotFound);
});

Deno.test("governor messages: assign_tasks runs tasks and reports them; impossible cpus fail at once", async () => {
  await using dir = await tempDir();
  const { governor, link, governorId } = await registeredGovernor(dir.path);
  const concat = inlineTask([1, 10], "buildin/concat", undefined, ["Hello ", "world"]);
  const tooBig = inlineTask([1, 20], "buildin/concat", undefined, ["x"], 3);
  link.deliver({ type: "assign_tasks", tasks: [concat.task, tooBig.task] });
  // Refused while handling the message, before anything runs.
  const refused = link.sent.find(finishedOf([1, 20]));
  assert(refused?.type === "task_failed", "the 3-cpu task is refused at once");
  assertEquals(
    refused.info.error,
    `task 1/20 (buildin/concat) needs 3 cpus, governor ${governorId} has 2`,
  );
  const started = await link.waitFor(startedOf([1, 10]), "task_started");
  const finished = await link.waitFor(finishedOf([1, 10]), "task_finished");
  assert(finished.type === "task_finished");
  assertEquals(finished.outputs, [{ id: concat.output, size: 11, info: {} }]);
  assertEquals(finished.info.governor, governorId);
  assertEquals(finished.info.start_time, started.start_time);
  assert(governor.store.has(concat.output));
  link.deliver({ type: "shutdown" });
  await governor.finished;
});

Deno.test("governor messages: delete_objects removes and reports the objects", async () => {
  await using dir = await tempDir();
  const { governor, link } = await registeredGovernor(dir.path);
  const concat = inlineTask([1, 10], "buildin/concat", undefined, ["abc"]);
  link.deliver({ type: "assign_tasks", tasks: [concat.task] });
  await link.waitFor(finishedOf([1, 10]), "task_finished");
  const input = concat.inputs[0]!;
  assert(governor.store.has(concat.output) && governor.store.has(input));
  link.deliver({ type: "delete_objects", objects: [concat.output, input] });
  const removed = await link.waitFor(removedOf(concat.output), "objects_removed");
  assertEquals(removed.objects, [concat.output, input]);
  assert(!governor.store.has(concat.output) && !governor.store.has(input));
  link.deliver({ type: "shutdown" });
  await governor.finished;
});

Deno.test("governor messages: close_session kills its running task, drops its queue, ignores later assignments", async () => {
  await using dir = await tempDir();
  const { governor, link } = await registeredGovernor(dir.path);
  const sleeping = inlineTask([2, 10], "buildin/sleep", { seconds: 600 }, ["zz"], 2);
  const queued = inlineTask([2, 20], "buildin/concat", undefined, ["q"]);
  link.deliver({ type: "assign_tasks", tasks: [sleeping.task, queued.task] });
  await link.waitFor(startedOf([2, 10]), "the sleep's task_started");
  const late = inlineTask([2, 30], "buildin/concat", undefined, ["late"]);
  const other = inlineTask([3, 10], "buildin/concat", undefined, ["s3"]);
  link.deliver(
    { type: "close_session", session: 2 },
    { type: "assign_tasks", tasks: [late.task, other.task] },
  );
  assert(governor.store.isSessionClosed(2));
  // The 2 cpus the sleep held are free at once: the other session's task runs.
  await link.waitFor(finishedOf([3, 10]), "session 3's task");
  await governor.runner.idle();
  assertEquals(link.sent.filter(aboutSession(2)).map((m) => m.type), ["task_started"]);
  assert(!governor.store.has(sleeping.inputs[0]!));
  link.deliver({ type: "shutdown" });
  await governor.finished;
});

Deno.test("governor messages: shutdown stops the governor and ends the batch; the work dir goes", async () => {
  await using dir = await tempDir();
  const { governor, link, options } = await registeredGovernor(dir.path);
  const after = inlineTask([1, 10], "buildin/concat", undefined, ["never"]);
  link.deliver({ type: "shutdown" }, { type: "assign_tasks", tasks: [after.task] });
  await governor.finished;
  assert(link.isClosed);
  assertEquals(link.sent.filter(aboutSession(1)), []);
  await assertRejects(() => Deno.stat(options.workDir), Deno.errors.NotFound);
});

Deno.test("governor messages: an unknown or broken message is skipped, the rest of the batch handled", async () => {
  await using dir = await tempDir();
  const { governor, link } = await registeredGovernor(dir.path);
  const broken = { type: "assign_tasks", tasks: [{}] } as unknown as ToGovernor;
  const unknown = { type: "no_such_message" } as unknown as ToGovernor;
  const concat = inlineTask([1, 10], "buildin/concat", undefined, ["ok"]);
  link.deliver(unknown, broken, { type: "assign_tasks", tasks: [concat.task] });
  const finished = await link.waitFor(finishedOf([1, 10]), "task_finished");
  assertEquals(finished.type, "task_finished");
  link.deliver({ type: "shutdown" });
  await governor.finished;
});

Deno.test("governor messages: losing the link stops the governor with an error", async () => {
  await using dir = await tempDir();
  const { governor, link, options } = await registeredGovernor(dir.path, { reconnectTimeout: 0 });
  const sleeping = inlineTask([1, 10], "buildin/sleep", { seconds: 600 }, ["x"]);
  link.deliver({ type: "assign_tasks", tasks: [sleeping.task] });
  await link.waitFor(startedOf([1, 10]), "task_started");
  link.lose("the server crashed");
  const error = await assertRejects(() => governor.finished, Error);
  assertStringIncludes(error.message, "lost connection to the server: the server crashed");
  await assertRejects(() => Deno.stat(options.workDir), Deno.errors.NotFound);
});

Deno.test("governor messages: a lost link is opened again; resumed, the running task goes on", async () => {
  await using dir = await tempDir();
  const { governor, link, server, governorId } = await registeredGovernor(dir.path);
  const sleeping = inlineTask([1, 10], "buildin/sleep", { seconds: 600 }, ["x"]);
  link.deliver({ type: "assign_tasks", tasks: [sleeping.task] });
  await link.waitFor(startedOf([1, 10]), "task_started");
  link.lose("the server restarted its socket");
  const again = await server.link(1);
  const register = await again.waitFor(isRegister, "the second register");
  assertEquals(register.resume, governorId);
  again.deliver({ type: "registered", governor_id: governorId, resumed: true });
  // Resumed: the queue still runs the sleep (nothing aborted, nothing reported).
  const marker: Id = [9, 1];
  again.deliver({ type: "delete_objects", objects: [marker] });
  await again.waitFor(removedOf(marker), "a reply on the new link");
  assertEquals(governor.queue.runningItems().map((t) => t.task.spec.id), [[1, 10]]);
  assertEquals(again.sent.filter(aboutSession(1)), []);
  again.deliver({ type: "shutdown" });
  await governor.finished;
});

Deno.test("governor messages: registered again but not resumed, the governor drops its tasks", async () => {
  await using dir = await tempDir();
  const { governor, link, server, governorId } = await registeredGovernor(dir.path);
  const sleeping = inlineTask([1, 10], "buildin/sleep", { seconds: 600 }, ["x"]);
  link.deliver({ type: "assign_tasks", tasks: [sleeping.task] });
  await link.waitFor(startedOf([1, 10]), "task_started");
  link.lose();
  const again = await server.link(1);
  await again.waitFor(isRegister, "the second register");
  again.deliver({ type: "registered", governor_id: "127.0.0.1:2", resumed: false });
  await governor.runner.idle();
  assertEquals(governor.queue.runningItems(), []);
  assertEquals(governor.governorId, "127.0.0.1:2");
  assert(governor.governorId !== governorId);
  assertEquals(again.sent.filter(aboutSession(1)), []);
  again.deliver({ type: "shutdown" });
  await governor.finished;
});

Deno.test("governor messages: registered with a heartbeat interval, the governor sends heartbeats", async () => {
  await using dir = await tempDir();
  const { governor, link, started } = await startGovernor(dir.path);
  await link.waitFor(isRegister, "register");
  link.deliver({ type: "registered", governor_id: "127.0.0.1:3", heartbeat_interval: 0.01 });
  await started;
  await link.waitFor((m): m is ToServer => m.type === "heartbeat", "a heartbeat");
  link.deliver({ type: "shutdown" });
  await governor.finished;
});

Deno.test("governor messages: fetch_objects stores the objects it can get and names the others", async () => {
  await using dir = await tempDir();
  const { governor, link } = await registeredGovernor(dir.path);
  const copied: AssignedTask["inputs"][number] = {
    spec: { id: [1, 50], data_type: "blob" },
    size: 4,
    source: { kind: "inline", data: enc.encode("kept") },
  };
  // "local" but not here: it cannot be obtained.
  const missing: AssignedTask["inputs"][number] = {
    spec: { id: [1, 51], data_type: "blob" },
    size: 4,
    source: { kind: "local" },
  };
  link.deliver({ type: "fetch_objects", objects: [copied, missing] });
  const answer = await link.waitFor(
    (m): m is Extract<ToServer, { type: "objects_fetched" }> => m.type === "objects_fetched",
    "objects_fetched",
  );
  assertEquals(answer.objects, [[1, 50]]);
  assertEquals(answer.failed, [[1, 51]]);
  assert(governor.store.has([1, 50]));
  link.deliver({ type: "shutdown" });
  await governor.finished;
});

Deno.test("governor messages: cancel_tasks kills the running task and drops the queued one, reporting neither", async () => {
  await using dir = await tempDir();
  const { governor, link } = await registeredGovernor(dir.path);
  const sleeping = inlineTask([4, 10], "buildin/sleep", { seconds: 600 }, ["zz"], 2);
  const queued = inlineTask([4, 20], "buildin/concat", undefined, ["q"]);
  const kept = inlineTask([4, 30], "buildin/concat", undefined, ["k"]);
  link.deliver({ type: "assign_tasks", tasks: [sleeping.task, queued.task, kept.task] });
  await link.waitFor(startedOf([4, 10]), "the sleep's task_started");
  link.deliver({ type: "cancel_tasks", tasks: [[4, 10], [4, 20]] });
  // The sleep's cpus are free at once: the task not cancelled runs.
  await link.waitFor(finishedOf([4, 30]), "the remaining task");
  await governor.runner.idle();
  assertEquals(
    link.sent.filter(aboutSession(4)).map((m) => [m.type, (m as { task: Id }).task[1]]),
    [["task_started", 10], ["task_started", 30], ["task_finished", 30]],
  );
  link.deliver({ type: "shutdown" });
  await governor.finished;
});

Deno.test("governor messages: a task over its time limit is killed and reported failed, naming the limit", async () => {
  await using dir = await tempDir();
  const { governor, link } = await registeredGovernor(dir.path);
  const sleeping = inlineTask([5, 10], "buildin/sleep", { seconds: 600 }, ["zz"]);
  sleeping.task.spec.policy = { time_limit: 0.2 };
  sleeping.task.attempt = 2;
  link.deliver({ type: "assign_tasks", tasks: [sleeping.task] });
  const failed = await link.waitFor(finishedOf([5, 10]), "the sleep's failure");
  assertEquals(failed.type, "task_failed");
  assertStringIncludes(failed.info.error ?? "", "time limit of 0.2 s");
  assertEquals(failed.info.time_limit_exceeded, true);
  link.deliver({ type: "shutdown" });
  await governor.finished;
});

/** A `buildin/run` task printing on both streams, then marking itself started and sleeping. */
function printingProgram(id: Id, marker: string): AssignedTask {
  const script = `echo printed; echo note >&2; : > "$0"; exec sleep 600`;
  return {
    spec: {
      id,
      task_type: "buildin/run",
      config: { args: ["sh", "-c", script, marker], in_paths: [], out_paths: [] },
      inputs: [],
      outputs: [],
      resources: { cpus: 1 },
    },
    inputs: [],
    outputs: [],
  };
}

async function whenPresent(path: string): Promise<void> {
  // The program's own signal that it printed (no fixed wait).
  while (!await Deno.lstat(path).then(() => true, () => false)) {
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("governor messages: a cancelled task's output is reported (task_output), kept until its session closes", async () => {
  await using dir = await tempDir();
  const { governor, link, options } = await registeredGovernor(dir.path);
  const marker = join(dir.path, "printed");
  const task = printingProgram([6, 10], marker);
  task.attempt = 2;
  link.deliver({ type: "assign_tasks", tasks: [task] });
  await whenPresent(marker);
  link.deliver({ type: "cancel_tasks", tasks: [[6, 10]] });
  const reported = await link.waitFor(outputOf([6, 10]), "the task's output");
  assertEquals(reported.output, { stdout: "printed\n", stderr: "note\n" });
  assertEquals(reported.attempt, 2);
  await governor.runner.idle();
  await governor.runner.outputFiles!.settled();
  const kept = join(options.logDir!, "tasks", "6");
  assertEquals(await Deno.readTextFile(join(kept, "10.stdout")), "printed\n");
  // Neither finished nor failed: the server ended the task.
  assertEquals(link.sent.filter(finishedOf([6, 10])), []);
  link.deliver({ type: "close_session", session: 6 });
  await governor.runner.outputFiles!.settled();
  await assertRejects(() => Deno.lstat(kept), Deno.errors.NotFound);
  link.deliver({ type: "shutdown" });
  await governor.finished;
});

Deno.test("governor messages: a task stopped by its session's close reports its output; no file is left", async () => {
  await using dir = await tempDir();
  const { governor, link, options } = await registeredGovernor(dir.path);
  const marker = join(dir.path, "printed");
  link.deliver({ type: "assign_tasks", tasks: [printingProgram([7, 10], marker)] });
  await whenPresent(marker);
  link.deliver({ type: "close_session", session: 7 });
  const reported = await link.waitFor(outputOf([7, 10]), "the task's output");
  assertEquals([reported.output, reported.attempt], [
    { stdout: "printed\n", stderr: "note\n" },
    undefined,
  ]);
  await governor.runner.idle();
  await governor.runner.outputFiles!.settled();
  await assertRejects(() => Deno.lstat(join(options.logDir!, "tasks", "7")), Deno.errors.NotFound);
  link.deliver({ type: "shutdown" });
  await governor.finished;
});

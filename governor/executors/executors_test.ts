/**
 * Executors through a real governor (against a fake server): the TypeScript executor library
 * (executor/mod.ts) with the example executor and a test executor, the pool's reuse, caching,
 * killing, crashes and start failures.
 */
import { assert, assertEquals, assertStringIncludes, waitUntil } from "../test_assert.ts";
import { join } from "node:path";
import type {
  AssignedTask,
  RegisterMessage,
  TaskFailedMessage,
  TaskFinishedMessage,
  ToServer,
} from "../../common/messages.ts";
import type { DataType, JsonValue } from "../../common/attributes.ts";
import type { Id } from "../../common/ids.ts";
import { Governor } from "../governor.ts";
import { FakeGovernorConnection, FakeServer } from "../fake_server.ts";
import { dec, enc, tempDir } from "../test_util.ts";

const DENO_JSON = new URL("../../deno.json", import.meta.url).pathname;
const EXAMPLE = new URL("../../executor/example.ts", import.meta.url).pathname;
const TEST_EXECUTOR = new URL("./testdata/test_executor.ts", import.meta.url).pathname;
const denoRun = (script: string) =>
  JSON.stringify([Deno.execPath(), "run", "-A", "--no-check", "--config", DENO_JSON, script]);

interface In {
  id: Id;
  text?: string;
  type?: DataType;
  content_type?: string;
}

function task(
  id: Id,
  taskType: string,
  inputs: In[],
  outputs: (Id | [Id, DataType, string?])[],
  config?: JsonValue,
): AssignedTask {
  const outs = outputs.map((o) => (typeof o[0] === "number" ? [o, "blob"] : o) as [Id, DataType]);
  return {
    spec: {
      id,
      task_type: taskType,
      config,
      inputs: inputs.map((i) => ({ id: i.id })),
      outputs: outs.map(([o]) => o),
      resources: { cpus: 1 },
    },
    inputs: inputs.map((i) => ({
      spec: { id: i.id, data_type: i.type ?? "blob", content_type: i.content_type },
      size: i.text?.length ?? 0,
      source: i.text === undefined
        ? { kind: "local" as const }
        : { kind: "inline" as const, data: enc.encode(i.text) },
    })),
    outputs: outs.map(([o, t]) => ({ id: o, data_type: t })),
  };
}

const same = (a: Id, b: Id) => a[0] === b[0] && a[1] === b[1];
const doneOf = (id: Id) => (m: ToServer) =>
  (m.type === "task_finished" || m.type === "task_failed") && same(m.task, id);

async function withGovernor(
  config: string,
  body: (g: Governor, conn: FakeGovernorConnection, dir: string) => Promise<void>,
  cpus = 2,
): Promise<void> {
  await using dir = await tempDir();
  const server = new FakeServer();
  const configFile = join(dir.path, "governor.toml");
  await Deno.writeTextFile(configFile, config);
  const governor = new Governor(
    {
      serverHost: "127.0.0.1",
      serverPort: server.port,
      cpus,
      listenHost: "127.0.0.1",
      listenPort: 0,
      workDir: join(dir.path, "work"),
      logDir: join(dir.path, "logs"),
      configFile,
      deleteListTimeout: 0,
      monitoringInterval: 0,
    } as ConstructorParameters<typeof Governor>[0],
  );
  const started = governor.start();
  try {
    await server.register();
    await started;
    const conn = await server.connection();
    await body(governor, conn, dir.path);
  } finally {
    await governor.stop();
    await server.close();
  }
}

async function result(
  conn: FakeGovernorConnection,
  id: Id,
  timeoutMs = 20000,
): Promise<TaskFinishedMessage> {
  const m = await conn.waitFor(doneOf(id), `task ${id}`, timeoutMs);
  if (m.type === "task_failed") throw new Error(`task ${id} failed: ${m.info.error}`);
  return m as TaskFinishedMessage;
}

async function failure(conn: FakeGovernorConnection, id: Id): Promise<string> {
  const m = await conn.waitFor<TaskFailedMessage>(doneOf(id), `task ${id}`, 20000);
  assertEquals(m.type, "task_failed");
  return m.info.error!;
}

async function text(governor: Governor, id: Id): Promise<string> {
  return dec.decode(await governor.store.readBytes(governor.store.get(id)!));
}

Deno.test("executors: the example TypeScript executor runs its tasks", async () => {
  await withGovernor(`[executors.example1]\ncommand = ${denoRun(EXAMPLE)}\n`, async (g, conn) => {
    const reg = conn.received.find((m) => m.type === "register") as RegisterMessage;
    assertEquals(reg.executors.sort(), ["example1", "py"]);

    conn.send({
      type: "assign_tasks",
      tasks: [task([1, 10], "example1/hello", [{ id: [1, 11], text: "world" }], [[1, 12]])],
    });
    const hello = await result(conn, [1, 10]);
    assertEquals(hello.outputs[0]!.info, { content_type: "text" });
    assertEquals(await text(g, [1, 12]), "Hello world!");

    conn.send({
      type: "assign_tasks",
      tasks: [
        task([1, 20], "example1/stats", [{ id: [1, 21], text: "[1, 2, 3, 6]" }], [
          [[1, 22], "blob", "json"],
        ]),
        task([1, 30], "example1/tee", [{ id: [1, 31], text: "data" }], [[1, 32], [1, 33]]),
      ],
    });
    const stats = await result(conn, [1, 20]);
    assertEquals(JSON.parse(await text(g, [1, 22])), { count: 4, sum: 12, mean: 3 });
    assertEquals(stats.outputs[0]!.info, { content_type: "json" });
    assertEquals(stats.info.user, { count: 4 });
    assertEquals(stats.info.debug, "summed 4 numbers");
    await result(conn, [1, 30]);
    assertEquals(await text(g, [1, 32]), "data");
    assertEquals(await text(g, [1, 33]), "data");

    conn.send({
      type: "assign_tasks",
      tasks: [
        task([1, 40], "example1/fail", [{ id: [1, 41], text: "it went wrong" }], []),
        task([1, 42], "example1/nope", [], []),
        task([1, 44], "example1/hello", [], [[1, 45]]),
      ],
    });
    assertEquals(await failure(conn, [1, 40]), "it went wrong");
    assertStringIncludes(await failure(conn, [1, 42]), "has no task 'nope'");
    assertStringIncludes(await failure(conn, [1, 44]), "takes 1 inputs, got 0");
    // Failures leave the executor usable: still at most one process per running task.
    assert(g.executors.pools.get("example1")!.processes.length <= 2);
  });
});

Deno.test("executors: reuse, kept inputs, staged directories, clean working directory", async () => {
  const config = `[executors.t]\ncommand = ${denoRun(TEST_EXECUTOR)}\n`;
  await withGovernor(config, async (g, conn) => {
    const pids = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const id: Id = [1, 100 + 2 * i];
      const out: Id = [1, 101 + 2 * i];
      conn.send({ type: "assign_tasks", tasks: [task(id, "t/pid", [], [out])] });
      await result(conn, id);
      pids.add(await text(g, out));
    }
    assertEquals(pids.size, 1, "one executor process serves sequential tasks");

    // The kept input is parsed once per session, whatever the number of tasks.
    conn.send({
      type: "assign_tasks",
      tasks: [task([1, 200], "t/parse", [{ id: [1, 201], text: "fn" }], [[1, 202]])],
    });
    await result(conn, [1, 200]);
    for (let i = 0; i < 3; i++) {
      const id: Id = [1, 210 + 2 * i];
      conn.send({
        type: "assign_tasks",
        tasks: [task(id, "t/parse", [{ id: [1, 201] }], [[1, 211 + 2 * i]])],
      });
      await result(conn, id);
      assertEquals(await text(g, [1, 211 + 2 * i]), "fn:1");
    }

    conn.send({ type: "assign_tasks", tasks: [task([1, 300], "t/dir", [], [[[1, 301], "dir"]])] });
    const dir = await result(conn, [1, 300]);
    assertEquals(dir.outputs[0]!.size, 10);
    const path = g.store.get([1, 301])!.path!;
    assertEquals(await Deno.readTextFile(join(path, "sub/b.txt")), "bravo");
    assertEquals((await Deno.stat(join(path, "a.txt"))).mode! & 0o222, 0);

    for (const n of [0, 1]) {
      conn.send({ type: "assign_tasks", tasks: [task([2, 10 + n], "t/cwd", [], [[2, 20 + n]])] });
      await result(conn, [2, 10 + n]);
      assertEquals(await text(g, [2, 20 + n]), "[]");
    }
    // A declared directory output given as bytes is a task error.
    conn.send({ type: "assign_tasks", tasks: [task([2, 30], "t/pid", [], [[[2, 31], "dir"]])] });
    assertStringIncludes(await failure(conn, [2, 30]), "a directory cannot be bytes");
  }, 1);
});

Deno.test("executors: a closed session kills its running executor; the next task runs", async () => {
  const config = `[executors.t]\ncommand = ${denoRun(TEST_EXECUTOR)}\n`;
  await withGovernor(config, async (g, conn) => {
    conn.send({ type: "assign_tasks", tasks: [task([1, 10], "t/pid", [], [[1, 11]])] });
    await result(conn, [1, 10]);
    const pid = Number(await text(g, [1, 11]));
    conn.send({
      type: "assign_tasks",
      tasks: [task([1, 20], "t/sleep", [], [[1, 21]], { seconds: 60 })],
    });
    await conn.waitFor((m) => m.type === "task_started" && same(m.task, [1, 20]), "started");
    // The call has reached the executor once the pool lent it out.
    await waitUntil(() => g.executors.pools.get("t")!.idleCount === 0, "the call to the executor");
    conn.send({ type: "close_session", session: 1 });
    await waitUntil(() => !processAlive(pid), `executor ${pid} to be killed`);
    conn.send({ type: "assign_tasks", tasks: [task([2, 10], "t/pid", [], [[2, 11]])] });
    await result(conn, [2, 10]);
    assert(Number(await text(g, [2, 11])) !== pid);
    assert(!conn.received.some(doneOf([1, 20])), "a killed task reports nothing");
  }, 1);
});

Deno.test("executors: crashes and start failures fail the task with stdout and stderr", async () => {
  const config = [
    `[executors.t]\ncommand = ${denoRun(TEST_EXECUTOR)}`,
    `[executors.quits]\ncommand = "/bin/sh -c 'echo hello from stdout; echo oops >&2; exit 7'"`,
    `[executors.missing]\ncommand = "/nonexistent/rain-executor"`,
    `[executors.silent]\ncommand = "sleep 30"\nstart_timeout = 0.3`,
  ].join("\n") + "\n";
  await withGovernor(config, async (_g, conn) => {
    conn.send({
      type: "assign_tasks",
      tasks: [
        task([1, 10], "quits/x", [], [[1, 11]]),
        task([1, 12], "missing/x", [], [[1, 13]]),
      ],
    });
    const quits = await failure(conn, [1, 10]);
    assertStringIncludes(quits, "exited before registering (exit code 7)");
    assertStringIncludes(quits, "stdout (last lines):\nhello from stdout");
    assertStringIncludes(quits, "stderr (last lines):\noops");
    assertStringIncludes(await failure(conn, [1, 12]), "'/nonexistent/rain-executor' not found");

    conn.send({ type: "assign_tasks", tasks: [task([1, 20], "t/crash", [], [[1, 21]])] });
    const crash = await failure(conn, [1, 20]);
    assertStringIncludes(crash, "died while running the task (exit code 3)");
    assertStringIncludes(crash, "about to crash");
    assertStringIncludes(crash, "something bad happened");

    conn.send({ type: "assign_tasks", tasks: [task([1, 30], "silent/x", [], [[1, 31]])] });
    assertStringIncludes(await failure(conn, [1, 30]), "did not register within 0.3 s");

    // The governor carries on.
    conn.send({ type: "assign_tasks", tasks: [task([1, 40], "t/pid", [], [[1, 41]])] });
    await result(conn, [1, 40]);
  });
});

function processAlive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

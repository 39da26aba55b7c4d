/** Governor-level tests: a real governor against a fake server speaking the msgpack protocol. */
import { assert, assertEquals, assertRejects, assertStringIncludes } from "./test_assert.ts";
import { join } from "node:path";
import { unpackTar } from "modern-tar";
import type {
  AssignedTask,
  RegisterMessage,
  TaskFailedMessage,
  TaskFinishedMessage,
  ToServer,
} from "../common/messages.ts";
import type { DataType, JsonValue } from "../common/attributes.ts";
import type { Id } from "../common/ids.ts";
import { packTasks } from "../common/packed_tasks.ts";
import { Governor, runGovernor } from "./mod.ts";
import type { GovernorOptions } from "./options.ts";
import { FakeServer } from "./fake_server.ts";
import { dec, enc, tempDir } from "./test_util.ts";

type Source = AssignedTask["inputs"][number]["source"];
interface In {
  id: Id;
  type?: DataType;
  size?: number;
  source?: Source;
  content_type?: string;
}

function task(
  id: Id,
  taskType: string,
  config: JsonValue | undefined,
  inputs: In[],
  outputs: [Id, DataType][],
  cpus = 1,
): AssignedTask {
  return {
    spec: {
      id,
      task_type: taskType,
      config,
      inputs: inputs.map((i) => ({ id: i.id })),
      outputs: outputs.map(([o]) => o),
      resources: { cpus },
    },
    inputs: inputs.map((i) => ({
      spec: { id: i.id, data_type: i.type ?? "blob", content_type: i.content_type },
      size: i.size ?? 0,
      source: i.source ?? { kind: "local" },
    })),
    outputs: outputs.map(([o, t]) => ({ id: o, data_type: t })),
  };
}

const inline = (id: Id, text: string): In => ({
  id,
  size: text.length,
  source: { kind: "inline", data: enc.encode(text) },
});

const same = (a: Id, b: Id) => a[0] === b[0] && a[1] === b[1];
const finishedOf = (id: Id) => (m: ToServer) =>
  (m.type === "task_finished" || m.type === "task_failed") && same(m.task, id);

function startGovernor(
  server: FakeServer,
  dir: string,
  extra: Partial<GovernorOptions> = {},
) {
  const options: GovernorOptions = {
    serverHost: "127.0.0.1",
    serverPort: server.port,
    cpus: 2,
    listenHost: "127.0.0.1",
    listenPort: 0,
    workDir: join(dir, "work"),
    logDir: join(dir, "logs"),
    readyFile: join(dir, "ready"),
    deleteListTimeout: 0,
    ...extra,
  };
  const governor = new Governor(options);
  // Settles once registered and the ready file is written.
  const started = governor.start();
  const done = started.then(() => governor.finished);
  done.catch(() => {});
  return { options, done, governor, started };
}

async function fetchObject(governorId: string, id: Id): Promise<Response> {
  return await fetch(`http://${governorId}/objects/${id[0]}/${id[1]}`);
}

Deno.test("governor: register, run a chain of built-ins, delete, close a session, shut down", async () => {
  await using dir = await tempDir();
  const server = new FakeServer();
  try {
    const { options, done, governor, started: registered } = startGovernor(server, dir.path);
    const conn = await server.connection();
    const reg = await conn.waitFor<RegisterMessage>((m) => m.type === "register", "register");
    assertEquals(reg.cpus, 2);
    assertEquals(reg.executors, ["py"]);
    assertEquals(reg.pid, Deno.pid);
    assert(reg.listen_port > 0);
    assertEquals(reg.listen_host, "127.0.0.1");
    assertEquals(reg.packed_assignments, true);
    await assertRejects(() => Deno.stat(options.readyFile!), Deno.errors.NotFound);
    const gid = `127.0.0.1:${reg.listen_port}`;
    conn.send({ type: "registered", governor_id: gid });
    await registered;
    assertEquals(await Deno.readTextFile(options.readyFile!), "ready\n");

    // concat of two inline constants.
    conn.send({
      type: "assign_tasks",
      tasks: [task([1, 10], "buildin/concat", undefined, [
        inline([1, 11], "Hello "),
        inline([1, 12], "world"),
      ], [[[1, 13], "blob"]])],
    });
    const started = await conn.waitFor((m) => m.type === "task_started", "task_started");
    assert(started.type === "task_started" && !Number.isNaN(Date.parse(started.start_time)));
    const f1 = await conn.waitFor<TaskFinishedMessage>(finishedOf([1, 10]), "concat");
    assertEquals(f1.type, "task_finished");
    assertEquals(f1.outputs, [{ id: [1, 13], size: 11, info: {} }]);
    assertEquals(f1.info.governor, gid);
    assert(typeof f1.info.duration === "number" && f1.info.duration >= 0);
    assertEquals(f1.info.start_time, started.start_time);

    // sleep keeps the content type (sent packed, as the server does: the link unpacks it); then
    // make_directory, slice_directory (dir and blob).
    const sleep = packTasks([
      task([1, 20], "buildin/sleep", { seconds: 0.01 }, [{ id: [1, 13], content_type: "text" }], [
        [[1, 21], "blob"],
      ]),
    ]);
    assertEquals(sleep.unpacked, []);
    conn.send(sleep.packed);
    const f2 = await conn.waitFor<TaskFinishedMessage>(finishedOf([1, 20]), "sleep");
    assertEquals(f2.outputs, [{ id: [1, 21], size: 11, info: { content_type: "text" } }]);
    conn.send({
      type: "assign_tasks",
      tasks: [
        task(
          [1, 30],
          "buildin/make_directory",
          { paths: ["a/x.txt", "b.txt"] },
          [{ id: [1, 13] }, { id: [1, 21] }],
          [[[1, 31], "dir"]],
        ),
      ],
    });
    const f3 = await conn.waitFor<TaskFinishedMessage>(finishedOf([1, 30]), "make_directory");
    assertEquals(f3.outputs[0]!.size, 22);
    conn.send({
      type: "assign_tasks",
      tasks: [
        task([1, 40], "buildin/slice_directory", { path: "a/" }, [{ id: [1, 31], type: "dir" }], [
          [[1, 41], "dir"],
        ]),
        task(
          [1, 42],
          "buildin/slice_directory",
          { path: "b.txt" },
          [{ id: [1, 31], type: "dir" }],
          [
            [[1, 43], "blob"],
          ],
        ),
      ],
    });
    await conn.waitFor(finishedOf([1, 40]), "slice dir");
    const f5 = await conn.waitFor<TaskFinishedMessage>(finishedOf([1, 42]), "slice blob");
    assertEquals(f5.type, "task_finished");

    // Results over the data listener.
    const blob = await fetchObject(gid, [1, 43]);
    assertEquals(blob.headers.get("x-rain-data-type"), "blob");
    assertEquals(await blob.text(), "Hello world");
    const tar = await fetchObject(gid, [1, 41]);
    assertEquals(tar.headers.get("x-rain-data-type"), "dir");
    const entries = await unpackTar(new Uint8Array(await tar.arrayBuffer()));
    assertEquals(entries.map((e) => [e.header.name, e.data && dec.decode(e.data)]), [[
      "x.txt",
      "Hello world",
    ]]);

    // Failures are reported, named, and do not hurt the governor.
    conn.send({
      type: "assign_tasks",
      tasks: [
        task([1, 50], "buildin/open", { path: "/nonexistent/rain-file" }, [], [[[1, 51], "blob"]]),
        task([1, 52], "nope/", undefined, [], [[[1, 53], "blob"]]),
        task([1, 54], "buildin/concat", undefined, [], [[[1, 55], "blob"]], 3),
        task([1, 56], "buildin/nope", undefined, [], [[[1, 57], "blob"]]),
      ],
    });
    const e1 = await conn.waitFor<TaskFailedMessage>(finishedOf([1, 50]), "open failure");
    assertEquals(e1.type, "task_failed");
    assertStringIncludes(e1.info.error!, "'/nonexistent/rain-file'");
    const e2 = await conn.waitFor<TaskFailedMessage>(finishedOf([1, 52]), "py failure");
    assertStringIncludes(e2.info.error!, `executor 'nope' is not available on governor ${gid}`);
    const e3 = await conn.waitFor<TaskFailedMessage>(finishedOf([1, 54]), "cpus failure");
    assertStringIncludes(e3.info.error!, "needs 3 cpus");
    const e4 = await conn.waitFor<TaskFailedMessage>(finishedOf([1, 56]), "unknown built-in");
    assertStringIncludes(e4.info.error!, "unknown built-in task type 'buildin/nope'");

    // delete_objects with timeout 0: removed and reported at once.
    conn.send({ type: "delete_objects", objects: [[1, 13], [1, 11]] });
    const removed = await conn.waitFor((m) => m.type === "objects_removed", "objects_removed");
    assert(removed.type === "objects_removed");
    assertEquals(removed.objects, [[1, 13], [1, 11]]);
    assertEquals((await fetchObject(gid, [1, 13])).status, 404);
    assertEquals(await (await fetchObject(gid, [1, 43])).text(), "Hello world");

    // close_session: the running sleep is killed, queued tasks dropped, cpus freed at once.
    conn.send({
      type: "assign_tasks",
      tasks: [
        task([2, 10], "buildin/sleep", { seconds: 60 }, [inline([2, 11], "zz")], [
          [[2, 12], "blob"],
        ], 2),
        task([2, 20], "buildin/concat", undefined, [inline([2, 21], "q")], [[[2, 22], "blob"]]),
      ],
    });
    await conn.waitFor((m) => m.type === "task_started" && same(m.task, [2, 10]), "sleep start");
    conn.send(
      { type: "close_session", session: 2 },
      {
        type: "assign_tasks",
        tasks: [task([3, 10], "buildin/concat", undefined, [inline([3, 11], "s3")], [
          [[3, 12], "blob"],
        ])],
      },
    );
    const f6 = await conn.waitFor<TaskFinishedMessage>(finishedOf([3, 10]), "session 3 task");
    assertEquals(f6.type, "task_finished");
    // Anything the killed sleep could report is sent once the runner is idle; the reply to a
    // later message (deleting an object not held is reported at once) arrives after it.
    await governor.runner.idle();
    conn.send({ type: "delete_objects", objects: [[9, 1]] });
    await conn.waitFor(
      (m) => m.type === "objects_removed" && same(m.objects[0]!, [9, 1]),
      "marker objects_removed",
    );
    assertEquals(conn.received.filter((m) => "task" in m && m.task[0] === 2).length, 1);
    assertEquals((await fetchObject(gid, [2, 11])).status, 404);

    // Many trivial tasks in one frame are answered in few frames.
    const many: AssignedTask[] = [];
    for (let i = 0; i < 500; i++) {
      many.push(
        task([4, 1000 + 2 * i], "buildin/concat", undefined, [inline([4, 5000 + i], `${i}`)], [
          [[4, 1001 + 2 * i], "blob"],
        ]),
      );
    }
    const framesBefore = conn.frames;
    conn.send({ type: "assign_tasks", tasks: many });
    await conn.waitUntil(
      () =>
        conn.received.filter((m) => m.type === "task_finished" && m.task[0] === 4).length === 500,
      "500 tasks",
    );
    assert(conn.frames - framesBefore <= 10, `${conn.frames - framesBefore} frames for 500 tasks`);
    assertEquals(await (await fetchObject(gid, [4, 1001 + 2 * 499])).text(), "499");

    // Shutdown: the governor exits and cleans its work dir.
    conn.send({ type: "shutdown" });
    await done;
    await assertRejects(() => Deno.stat(options.workDir), Deno.errors.NotFound);
  } finally {
    await server.close();
  }
});

Deno.test("governor: two governors move data directly between them", async () => {
  await using dir = await tempDir();
  const server = new FakeServer();
  try {
    const a = startGovernor(server, join(dir.path, "a"));
    const { conn: ca, governorId: ga } = await server.register(0);
    const b = startGovernor(server, join(dir.path, "b"));
    const { conn: cb, governorId: gb } = await server.register(1);
    assert(ga !== gb);
    // A builds an 11 MiB blob from a file and a directory; B gets both from A and uses them.
    const file = join(dir.path, "big.bin");
    const data = new Uint8Array(11 * 1024 * 1024);
    for (let i = 0; i < data.length; i += 4096) data[i] = i & 0xff;
    await Deno.writeFile(file, data);
    const srcDir = join(dir.path, "tree");
    await Deno.mkdir(join(srcDir, "empty"), { recursive: true });
    await Deno.writeTextFile(join(srcDir, "f.txt"), "in a tree");
    ca.send({
      type: "assign_tasks",
      tasks: [
        task([1, 10], "buildin/open", { path: file }, [], [[[1, 11], "blob"]]),
        task([1, 12], "buildin/open_dir", { path: srcDir }, [], [[[1, 13], "dir"]]),
      ],
    });
    const fa = await ca.waitFor<TaskFinishedMessage>(finishedOf([1, 10]), "open");
    assertEquals(fa.outputs[0]!.size, data.length);
    const fd = await ca.waitFor<TaskFinishedMessage>(finishedOf([1, 12]), "open_dir");
    assertEquals(fd.outputs[0]!.size, 9);
    const out = join(dir.path, "exported.bin");
    const outDir = join(dir.path, "exported-tree");
    cb.send({
      type: "assign_tasks",
      tasks: [
        task([1, 20], "buildin/export", { path: out }, [{
          id: [1, 11],
          size: data.length,
          source: { kind: "governors", governors: [ga] },
        }], []),
        task([1, 21], "buildin/export", { path: outDir }, [{
          id: [1, 13],
          type: "dir",
          size: 9,
          source: { kind: "governors", governors: [ga] },
        }], []),
      ],
    });
    const fb = await cb.waitFor<TaskFinishedMessage>(finishedOf([1, 20]), "export blob");
    assertEquals(fb.type, "task_finished");
    assertEquals(fb.outputs, []);
    assertEquals(await Deno.readFile(out), data);
    const fbd = await cb.waitFor<TaskFinishedMessage>(finishedOf([1, 21]), "export dir");
    assertEquals(fbd.type, "task_finished");
    assertEquals(await Deno.readTextFile(join(outDir, "f.txt")), "in a tree");
    assert((await Deno.stat(join(outDir, "empty"))).isDirectory);
    // B now holds the inputs it fetched.
    const held = await fetchObject(gb, [1, 11]);
    assertEquals(held.headers.get("content-length"), String(data.length));
    await held.body!.cancel();
    ca.send({ type: "shutdown" });
    cb.send({ type: "shutdown" });
    await a.done;
    await b.done;
  } finally {
    await server.close();
  }
});

Deno.test("governor: an unreachable server is a one-line start error", async () => {
  await using dir = await tempDir();
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  const e = await assertRejects(
    () =>
      runGovernor({
        serverHost: "127.0.0.1",
        serverPort: port,
        cpus: 1,
        listenHost: "127.0.0.1",
        listenPort: 0,
        workDir: join(dir.path, "work"),
        logDir: join(dir.path, "logs"),
        readyFile: join(dir.path, "ready"),
        deleteListTimeout: 0,
      }),
    Error,
    `cannot connect to the server at ws://127.0.0.1:${port}/api/v1/governor`,
  );
  assert(!e.message.includes("\n"));
  await assertRejects(() => Deno.stat(join(dir.path, "ready")), Deno.errors.NotFound);
  await assertRejects(() => Deno.stat(join(dir.path, "work")), Deno.errors.NotFound);
});

Deno.test("governor: losing the server stops the governor and its tasks", async () => {
  await using dir = await tempDir();
  const server = new FakeServer();
  try {
    const g = startGovernor(server, dir.path, { deleteListTimeout: 5, reconnectTimeout: 0 });
    const { conn } = await server.register();
    conn.send({
      type: "assign_tasks",
      tasks: [task([1, 10], "buildin/sleep", { seconds: 60 }, [inline([1, 11], "x")], [
        [[1, 12], "blob"],
      ])],
    });
    await conn.waitFor((m) => m.type === "task_started", "task_started");
    const t0 = performance.now();
    conn.close();
    await assertRejects(() => g.done, Error, "lost connection to the server");
    // Far below the sleep's 60 s: the governor killed the task instead of waiting for it.
    assert(performance.now() - t0 < 30_000);
    await assertRejects(() => Deno.stat(g.options.workDir), Deno.errors.NotFound);
  } finally {
    await server.close();
  }
});

Deno.test("governor: delayed deletion, and revival by a newly assigned task", async () => {
  await using dir = await tempDir();
  const server = new FakeServer();
  try {
    const g = startGovernor(server, dir.path, { deleteListTimeout: 0.3 });
    const { conn, governorId } = await server.register();
    conn.send({
      type: "assign_tasks",
      tasks: [
        task([1, 10], "buildin/concat", undefined, [inline([1, 11], "keep")], [[[1, 12], "blob"]]),
        task([1, 13], "buildin/concat", undefined, [inline([1, 14], "drop")], [[[1, 15], "blob"]]),
      ],
    });
    await conn.waitFor(finishedOf([1, 10]), "t10");
    await conn.waitFor(finishedOf([1, 13]), "t13");
    const t0 = performance.now();
    conn.send({ type: "delete_objects", objects: [[1, 12], [1, 15]] });
    // Still served while on the delete list; a new task needing 1/12 revives it.
    assertEquals(await (await fetchObject(governorId, [1, 15])).text(), "drop");
    conn.send({
      type: "assign_tasks",
      tasks: [task([1, 20], "buildin/sleep", { seconds: 0 }, [{ id: [1, 12] }], [
        [[1, 21], "blob"],
      ])],
    });
    const f = await conn.waitFor<TaskFinishedMessage>(finishedOf([1, 20]), "t20");
    assertEquals(f.type, "task_finished");
    const removed = await conn.waitFor((m) => m.type === "objects_removed", "objects_removed");
    assert(performance.now() - t0 >= 250, "removed only after the timeout");
    assert(removed.type === "objects_removed");
    assertEquals(removed.objects, [[1, 15]]);
    // A removal of the revived 1/12 would be due before that of 1/21, deleted only now.
    conn.send({ type: "delete_objects", objects: [[1, 21]] });
    const marker = await conn.waitFor(
      (m) => m.type === "objects_removed" && m !== removed,
      "objects_removed of 1/21",
    );
    assert(marker.type === "objects_removed");
    assertEquals(marker.objects, [[1, 21]]);
    assertEquals(conn.received.filter((m) => m.type === "objects_removed").length, 2);
    assertEquals(await (await fetchObject(governorId, [1, 12])).text(), "keep");
    assertEquals((await fetchObject(governorId, [1, 15])).status, 404);
    conn.send({ type: "shutdown" });
    await g.done;
  } finally {
    await server.close();
  }
});

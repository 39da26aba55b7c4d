/**
 * The governor as a process: SIGTERM ends it at once, killing its programs and leaving its work
 * dir (the next governor on the work dir cleans it); an orderly stop (a `shutdown` message, the
 * end of the server connection) cleans up; the work dir is locked.
 */
import { assert, assertEquals, assertRejects, assertStringIncludes } from "./test_assert.ts";
import { join } from "node:path";
import type { AssignedTask } from "../common/messages.ts";
import { FakeServer } from "./fake_server.ts";
import { SIGTERM_EXIT_CODE } from "./mod.ts";
import { MEMORY_LIMIT } from "./object_store.ts";
import type { GovernorOptions } from "./options.ts";
import { tempDir } from "./test_util.ts";

const HELPER = new URL("./testdata/run_governor.ts", import.meta.url).pathname;
const CONFIG = new URL("../deno.json", import.meta.url).pathname;

function spawnGovernor(options: GovernorOptions): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-check", "--config", CONFIG, HELPER, JSON.stringify(options)],
    stdout: "null",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
}

function governorOptions(dir: string, server: FakeServer, name: string): GovernorOptions {
  return {
    serverHost: "127.0.0.1",
    serverPort: server.port,
    cpus: 1,
    listenHost: "127.0.0.1",
    listenPort: 0,
    workDir: join(dir, "work"),
    logDir: join(dir, `logs-${name}`),
    readyFile: join(dir, `ready-${name}`),
    deleteListTimeout: 5,
  };
}

/** A governor process that is SIGKILLed (if still running) and awaited when disposed. */
function governorProcess(options: GovernorOptions) {
  const child = spawnGovernor(options);
  const stderr = new Response(child.stderr).text();
  return {
    child,
    stderr,
    async [Symbol.asyncDispose]() {
      try {
        child.kill("SIGKILL");
      } catch {
        // already exited
      }
      await child.status;
      await stderr;
    },
  };
}

/** A `buildin/run` task: `sh -c script` with one large inline input placed at `big`. */
function programTask(script: string): AssignedTask {
  return {
    spec: {
      id: [1, 10],
      task_type: "buildin/run",
      config: { args: ["sh", "-c", script], in_paths: [{ path: "big" }], out_paths: [] },
      inputs: [{ id: [1, 11] }],
      outputs: [],
      resources: { cpus: 1 },
    },
    inputs: [{
      spec: { id: [1, 11], data_type: "blob" },
      size: MEMORY_LIMIT + 1,
      source: { kind: "inline", data: new Uint8Array(MEMORY_LIMIT + 1).fill(1) },
    }],
    outputs: [],
  };
}

/** Whether a process is gone (or a zombie nobody reaped yet). */
function dead(pid: number): boolean {
  try {
    return (Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1])!.startsWith("Z");
  } catch {
    return true;
  }
}

async function waitFor(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function exists(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}

Deno.test("process: SIGTERM exits at once, kills the program, leaves the work dir", async () => {
  await using dir = await tempDir();
  const server = new FakeServer();
  try {
    const first = governorOptions(dir.path, server, "first");
    const pidFile = join(dir.path, "sleep.pid");
    let sleepPid: number;
    {
      await using governor = governorProcess(first);
      const { conn } = await server.register(0);
      assertEquals(await readWhenPresent(first.readyFile!), "ready\n");
      conn.send({
        type: "assign_tasks",
        tasks: [
          programTask(`sleep 60 & echo $! > ${pidFile}.tmp; mv ${pidFile}.tmp ${pidFile}; wait`),
        ],
      });
      await conn.waitFor((m) => m.type === "task_started", "task_started");
      sleepPid = Number(await readWhenPresent(pidFile));
      assert(!dead(sleepPid));
      governor.child.kill("SIGTERM");
      const status = await governor.child.status;
      assertEquals(status.code, SIGTERM_EXIT_CODE);
      assertStringIncludes(await governor.stderr, "SIGTERM");
    }
    await waitFor(() => dead(sleepPid), "the program to die with the governor");
    // Everything is left: the stored input, the program's directory, the lock file.
    const stored = join(first.workDir, "data", "1", "11");
    assertEquals((await Deno.stat(stored)).size, MEMORY_LIMIT + 1);
    assert([...Deno.readDirSync(join(first.workDir, "tmp"))].length > 0, "program dir left");
    assert(await exists(join(first.workDir, "governor.pid")));

    // The next governor on the work dir removes the leftovers before it is ready.
    const second = { ...governorOptions(dir.path, server, "second"), workDir: first.workDir };
    await using governor = governorProcess(second);
    const { conn } = await server.register(1);
    assertEquals(await readWhenPresent(second.readyFile!), "ready\n");
    assertEquals(await exists(join(second.workDir, "data", "1")), false);
    assertEquals([...Deno.readDirSync(join(second.workDir, "tmp"))], []);
    // An orderly stop cleans up.
    conn.send({ type: "shutdown" });
    assertEquals((await governor.child.status).code, 0);
    await assertRejects(() => Deno.stat(second.workDir), Deno.errors.NotFound);
  } finally {
    await server.close();
  }
});

Deno.test("process: a busy governor whose server goes away stops and cleans its work dir", async () => {
  await using dir = await tempDir();
  const server = new FakeServer();
  try {
    // Exits at once rather than trying to reach the server again (RAIN_RECONNECT_TIMEOUT=0).
    const options = { ...governorOptions(dir.path, server, "only"), reconnectTimeout: 0 };
    await using governor = governorProcess(options);
    const { conn } = await server.register(0);
    assertEquals(await readWhenPresent(options.readyFile!), "ready\n");
    const pidFile = join(dir.path, "sleep.pid");
    conn.send({
      type: "assign_tasks",
      tasks: [
        programTask(`sleep 60 & echo $! > ${pidFile}.tmp; mv ${pidFile}.tmp ${pidFile}; wait`),
      ],
    });
    const sleepPid = Number(await readWhenPresent(pidFile));
    conn.close();
    assertEquals((await governor.child.status).code, 1);
    assertStringIncludes(await governor.stderr, "lost connection to the server");
    assert(dead(sleepPid), "the program was killed before the governor exited");
    await assertRejects(() => Deno.stat(options.workDir), Deno.errors.NotFound);
  } finally {
    await server.close();
  }
});

Deno.test("process: a work dir in use by a live governor is refused", async () => {
  await using dir = await tempDir();
  const server = new FakeServer();
  try {
    const options = governorOptions(dir.path, server, "first");
    await using governor = governorProcess(options);
    await server.register(0);
    assertEquals(await readWhenPresent(options.readyFile!), "ready\n");
    const out = await spawnGovernor({ ...options, readyFile: undefined }).output();
    assertEquals(out.code, 1);
    assertStringIncludes(
      new TextDecoder().decode(out.stderr),
      `work dir ${options.workDir} is in use by another governor (pid ${governor.child.pid})`,
    );
    assert(await exists(join(options.workDir, "data")), "the first governor's dir is intact");
  } finally {
    await server.close();
  }
});

/**
 * Starts a governor while the test holds its work dir's lock, as a sibling governor's reclaim
 * does while it looks at the dir (reclaim.ts): once the governor tries the lock, `meanwhile` runs,
 * the lock is released, and the governor must become ready. `deadPid`: the dir is first a dead
 * governor's. Resolves with the governor's pid and what its lock file then says.
 */
async function startPastSiblingLock(
  name: string,
  o: { deadPid?: number; meanwhile?: (workDir: string) => Promise<void> } = {},
): Promise<{ pid: number; lockText: string }> {
  await using dir = await tempDir();
  const server = new FakeServer();
  try {
    const options = governorOptions(dir.path, server, name);
    const lockPath = join(options.workDir, "governor.pid");
    await Deno.mkdir(join(options.workDir, "data"), { recursive: true });
    await Deno.writeTextFile(lockPath, o.deadPid === undefined ? "" : `${o.deadPid}\n`);
    const sibling = await Deno.open(lockPath, { read: true, write: true });
    await sibling.lock(true);
    await using governor = governorProcess(options);
    await waitFor(() => holdsOpen(governor.child.pid, lockPath), "the governor to try the lock");
    await o.meanwhile?.(options.workDir);
    sibling.close();
    await server.register(0);
    assertEquals(await readWhenPresent(options.readyFile!), "ready\n");
    return { pid: governor.child.pid, lockText: await Deno.readTextFile(lockPath) };
  } finally {
    await server.close();
  }
}

Deno.test("process: a governor waits for its lock while a sibling holds it for a moment", async () => {
  await startPastSiblingLock("patient");
});

Deno.test("process: a governor whose dir a sibling reclaimed while it waited starts in a new one", async () => {
  const { pid, lockText } = await startPastSiblingLock("reclaimed", {
    deadPid: 2 ** 30,
    meanwhile: (workDir) => Deno.remove(workDir, { recursive: true }), // the reclaim, lock held
  });
  assertEquals(lockText.trim(), String(pid));
});

/** True when process `pid` has `path` open. */
function holdsOpen(pid: number, path: string): boolean {
  try {
    for (const fd of Deno.readDirSync(`/proc/${pid}/fd`)) {
      try {
        if (Deno.readLinkSync(`/proc/${pid}/fd/${fd.name}`) === path) return true;
      } catch { /* closed meanwhile */ }
    }
  } catch { /* not started yet, or gone */ }
  return false;
}

Deno.test("process: an unreachable server exits 1 with a one-line error", async () => {
  await using dir = await tempDir();
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  const child = spawnGovernor({
    serverHost: "127.0.0.1",
    serverPort: port,
    cpus: 1,
    listenHost: "127.0.0.1",
    listenPort: 0,
    workDir: join(dir.path, "work"),
    logDir: join(dir.path, "logs"),
    deleteListTimeout: 0,
  });
  const out = await child.output();
  assertEquals(out.code, 1);
  const stderr = new TextDecoder().decode(out.stderr).trim();
  // The log's INFO lines (what resources were detected) come first; the error is one line.
  const errors = stderr.split("\n").filter((line) => !/^\S+ INFO /.test(line));
  assertEquals(errors.length, 1, stderr);
  assert(
    errors[0]!.startsWith(`rain governor: cannot connect to the server at ws://127.0.0.1:${port}`),
    stderr,
  );
});

async function readWhenPresent(path: string, timeoutMs = 10_000): Promise<string> {
  const deadline = performance.now() + timeoutMs;
  while (true) {
    try {
      return await Deno.readTextFile(path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound) || performance.now() > deadline) throw e;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

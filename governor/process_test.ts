/** The governor as a process: SIGTERM makes it exit promptly and clean up. */
import { assert, assertEquals, assertRejects } from "./test_assert.ts";
import { join } from "node:path";
import { FakeServer } from "./fake_server.ts";
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

Deno.test("process: SIGTERM stops a busy governor promptly and cleans its work dir", async () => {
  await using dir = await tempDir();
  const server = new FakeServer();
  const options: GovernorOptions = {
    serverHost: "127.0.0.1",
    serverPort: server.port,
    cpus: 1,
    listenHost: "127.0.0.1",
    listenPort: 0,
    workDir: join(dir.path, "work"),
    logDir: join(dir.path, "logs"),
    readyFile: join(dir.path, "ready"),
    deleteListTimeout: 5,
  };
  const child = spawnGovernor(options);
  try {
    const { conn } = await server.register();
    conn.send({
      type: "assign_tasks",
      tasks: [{
        spec: {
          id: [1, 10],
          task_type: "buildin/sleep",
          config: { seconds: 60 },
          inputs: [{ id: [1, 11] }],
          outputs: [[1, 12]],
          resources: { cpus: 1 },
        },
        inputs: [{
          spec: { id: [1, 11], data_type: "blob" },
          size: 1,
          source: { kind: "inline", data: new Uint8Array([1]) },
        }],
        outputs: [{ id: [1, 12], data_type: "blob" }],
      }],
    });
    await conn.waitFor((m) => m.type === "task_started", "task_started");
    // The ready file is written (atomically) right after registration, possibly while the first
    // task already runs: wait for it rather than assume it is there.
    assertEquals(await readWhenPresent(options.readyFile!), "ready\n");
    const t0 = performance.now();
    child.kill("SIGTERM");
    const status = await child.status;
    // Far below the sleep's 60 s: the running task was killed, not waited for.
    assert(performance.now() - t0 < 30_000, "exits promptly");
    assertEquals(status.code, 0);
    await assertRejects(() => Deno.stat(options.workDir), Deno.errors.NotFound);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // already exited
    }
    await child.stderr.cancel();
    await child.status;
    await server.close();
  }
});

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
  const text = new TextDecoder().decode(out.stderr).trim();
  assertEquals(text.split("\n").length, 1, text);
  assert(text.startsWith(`rain governor: cannot connect to the server at ws://127.0.0.1:${port}`));
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

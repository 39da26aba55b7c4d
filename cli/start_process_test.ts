/**
 * `rain start` with real background processes. The processes are stand-ins made with
 * `--runprefix` (a shell that writes its ready file, or dies, or hangs), so these tests do not
 * depend on the server and governor; the end-to-end run is in start_e2e_test.ts.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { captureIo } from "./io.ts";
import { parseStartArgs, runStart } from "./start.ts";
import { freePort, testContext } from "./test_util.ts";

function alive(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
}

async function waitGone(pid: number, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return !alive(pid);
}

/**
 * Runs `rain start --local-governors=<governors> --runprefix=<script>` where `script` is a shell
 * program run instead of each `rain server` / `rain governor`; it gets the would-be argv as
 * "$@" and writes its pid into pid files next to the ready file.
 */
async function start(script: string, governors = "1,1", env: Record<string, string> = {}) {
  const logDir = await Deno.makeTempDir({ prefix: "rain-start-test-" });
  const port = freePort();
  const cmd = parseStartArgs([
    `--local-governors=${governors}`,
    `--listen=127.0.0.1:${port}`,
    `--http-listen=127.0.0.1:${freePort()}`,
    `--logdir=${logDir}`,
    `--runprefix=sh -c '${script}' fake`,
  ], testContext({ cwd: "/", env }));
  if (cmd.help) throw new Error("help");
  const io = captureIo();
  const code = await runStart(cmd.options, ["rain"], testContext(), io);
  return { code, io, logDir };
}

/** Shell prelude: $ready = the --ready-file value; writes the pid file. */
const PRELUDE = "for a; do case $a in --ready-file=*) ready=${a#--ready-file=};; esac; done; " +
  "echo $$ > ${ready%/ready}/pid; ";

function pids(logDir: string, names: string[]): number[] {
  return names.map((n) => Number(Deno.readTextFileSync(join(logDir, n, "pid")).trim()));
}

Deno.test("rain start leaves ready processes running in their own session", async () => {
  const { code, io, logDir } = await start(PRELUDE + "echo ready > $ready; exec sleep 60");
  try {
    assert.equal(code, 0, io.stderr);
    assert.match(
      io.stdout,
      /^Rain started: server at 127\.0\.0\.1:\d+, dashboard at http:\/\/127\.0\.0\.1:\d+, 2 governors \(1, 1 cpus\); stop with: rain stop 127\.0\.0\.1:\d+\nCluster secret: .*\nDashboard \(the address holds the secret: do not share it\): http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+\n$/,
    );
    assert.equal(io.stderr, "");
    for (const pid of pids(logDir, ["server", "governor-0", "governor-1"])) {
      assert.ok(alive(pid), `pid ${pid} runs after start`);
      const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      assert.equal(Number(fields[2]), pid, "process group of its own");
      assert.equal(Number(fields[3]), pid, "session of its own");
    }
  } finally {
    for (const pid of pids(logDir, ["server", "governor-0", "governor-1"])) {
      try {
        Deno.kill(-pid, "SIGKILL");
      } catch { /* gone */ }
    }
    await Deno.remove(logDir, { recursive: true });
  }
});

Deno.test("rain start reports a process that dies and stops the others", async () => {
  // Governor 1 dies after printing something; the server and governor 0 are ready and wait.
  const script = PRELUDE +
    'case $ready in */governor-1/*) echo "boom: cannot work" >&2; exit 3;; esac; ' +
    "echo ready > $ready; exec sleep 60";
  const { code, io, logDir } = await start(script);
  try {
    assert.equal(code, 1);
    assert.equal(io.stdout, "");
    assert.match(io.stderr, /rain: governor 1 \(pid \d+\) exited during start \(exit code 3\)/);
    assert.match(io.stderr, /governor-1\/governor\.log:\n {4}boom: cannot work\n/);
    assert.match(io.stderr, /stopping what was started: server \(pid \d+\), governor 0/);
    for (const pid of pids(logDir, ["server", "governor-0"])) {
      assert.ok(await waitGone(pid), `pid ${pid} was stopped`);
    }
  } finally {
    await Deno.remove(logDir, { recursive: true });
  }
});

Deno.test("rain start gives up after RAIN_START_TIMEOUT and kills what hangs", async () => {
  const { code, io, logDir } = await start(
    PRELUDE + 'echo "still starting"; trap "" TERM; sleep 60 & wait',
    "1",
    { RAIN_START_TIMEOUT: "0.5" },
  );
  try {
    assert.equal(code, 1);
    assert.match(io.stderr, /rain: server \(pid \d+\) was not ready within 0.5 s/);
    assert.match(io.stderr, /server\.log:\n {4}still starting/);
    const [server] = pids(logDir, ["server"]);
    assert.ok(await waitGone(server!, 20_000), "SIGKILL after the grace period");
  } finally {
    await Deno.remove(logDir, { recursive: true });
  }
});

Deno.test("rain start refuses when the port already answers", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  try {
    const cmd = parseStartArgs(["--simple", `--listen=127.0.0.1:${port}`], testContext());
    if (cmd.help) throw new Error("help");
    const io = captureIo();
    assert.equal(await runStart(cmd.options, ["false"], testContext(), io), 1);
    assert.match(io.stderr, new RegExp(`127.0.0.1:${port} already answers`));
  } finally {
    l.close();
  }
});

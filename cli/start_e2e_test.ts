/**
 * End to end: `./rain start` brings up a real server and governors in the background, they serve
 * a client, and `./rain stop` takes everything down. Uses free loopback ports and a temporary
 * log directory; every process started is stopped (also when an assertion fails).
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "./test_util.ts";
import { secretsDir } from "../common/secret.ts";

const RAIN = join(dirname(dirname(fileURLToPath(import.meta.url))), "rain");

async function rain(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(RAIN, {
    args,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

function pidsUnder(logDir: string): number[] {
  // Processes whose command line names our log directory (the ones rain start launched).
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const cmd = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`);
      if (cmd.includes(logDir)) pids.push(Number(entry.name));
    } catch { /* gone */ }
  }
  return pids;
}

function secretOf(port: number): string {
  return Deno.readTextFileSync(`${secretsDir()}/127.0.0.1_${port}`).trim();
}

Deno.test("rain start --local-governors=[1,1], a client sees both governors, rain stop", async () => {
  const logDir = await Deno.makeTempDir({ prefix: "rain-e2e-" });
  const port = freePort();
  const http = freePort();
  try {
    const started = await rain([
      "start",
      "--local-governors=[1,1]",
      `--listen=127.0.0.1:${port}`,
      `--http-listen=127.0.0.1:${http}`,
      `--logdir=${logDir}`,
      `--workdir=${join(logDir, "work")}`,
    ]);
    assert.equal(started.code, 0, started.stderr);
    assert.equal(
      started.stdout,
      `Rain started: server at 127.0.0.1:${port}, dashboard at http://127.0.0.1:${http}, ` +
        `2 governors (1, 1 cpus); stop with: rain stop 127.0.0.1:${port}\n` +
        `Cluster secret: clients of this user on this machine find it in ` +
        `${secretsDir()}/127.0.0.1_${port}; elsewhere give it as RAIN_SECRET ` +
        `(see docs/security.md)\n` +
        `Dashboard (the address holds the secret: do not share it): ` +
        `http://127.0.0.1:${http}/?token=${secretOf(port)}\n`,
    );
    // The secret is required, and published for this user; it is on no command line.
    const secret = secretOf(port);
    assert.equal(Deno.statSync(`${secretsDir()}/127.0.0.1_${port}`).mode! & 0o777, 0o600);
    const refused = await fetch(`http://127.0.0.1:${port}/api/v1/server_info`);
    assert.equal(refused.status, 401);
    await refused.body?.cancel();
    for (const pid of pidsUnder(logDir)) {
      assert.ok(!Deno.readTextFileSync(`/proc/${pid}/cmdline`).includes(secret));
    }
    // Ready means registered: both governors are listed at once.
    const info = await (await fetch(`http://127.0.0.1:${port}/api/v1/server_info`, {
      headers: { authorization: `Bearer ${secret}` },
    })).json();
    assert.equal(info.governors.length, 2);
    assert.deepEqual(
      info.governors.map((g: { resources: { cpus: number } }) => g.resources.cpus),
      [1, 1],
    );
    assert.ok(Deno.statSync(join(logDir, "server", "server.log")).isFile);
    assert.ok(Deno.statSync(join(logDir, "governor-1", "governor.log")).isFile);
    assert.equal(pidsUnder(logDir).length, 3);

    const again = await rain(["start", "--simple", `--listen=127.0.0.1:${port}`]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already answers/);

    const stopped = await rain(["stop", `127.0.0.1:${port}`]);
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.match(
      stopped.stdout,
      new RegExp(`^Rain stopped: server at 127\\.0\\.0\\.1:${port} and 2 governors \\(`),
    );
    const deadline = Date.now() + 20_000;
    while (pidsUnder(logDir).length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(pidsUnder(logDir), [], "server and governors exited");
    assert.throws(() => Deno.statSync(`${secretsDir()}/127.0.0.1_${port}`), "secret withdrawn");

    const nothing = await rain(["stop", `127.0.0.1:${port}`]);
    assert.equal(nothing.code, 1);
    assert.match(nothing.stderr, /^rain: no Rain server answers at 127\.0\.0\.1:\d+/);
  } finally {
    for (const pid of pidsUnder(logDir)) {
      try {
        Deno.kill(-pid, "SIGKILL");
      } catch { /* not a group leader or gone */ }
      try {
        Deno.kill(pid, "SIGKILL");
      } catch { /* gone */ }
    }
    await Deno.remove(logDir, { recursive: true }).catch(() => {});
  }
});

/** Client: addresses, connecting (secret, errors), server info, sessions, disconnects. */
import assert from "node:assert/strict";
import { Client, RainError, VERSION } from "./mod.ts";
import { parseAddress } from "./client.ts";
import { freePort, TestCluster, withTempDir } from "./test_util.ts";

const REPO = new URL("..", import.meta.url).pathname;

Deno.test("parseAddress: host[:port], IPv6 in brackets, objects; bad ports throw", () => {
  assert.deepEqual(parseAddress(), { host: "localhost", port: 7210 });
  assert.deepEqual(parseAddress("10.0.0.1"), { host: "10.0.0.1", port: 7210 });
  assert.deepEqual(parseAddress("example.org:1234"), {
    host: "example.org",
    port: 1234,
  });
  assert.deepEqual(parseAddress("[::1]:99"), { host: "::1", port: 99 });
  assert.deepEqual(parseAddress("::1"), { host: "::1", port: 7210 });
  assert.deepEqual(parseAddress({ host: "h" }), { host: "h", port: 7210 });
  for (const bad of ["h:0", "h:x", "h:70000", "h:"]) {
    assert.throws(() => parseAddress(bad), RainError, bad);
  }
});

Deno.test("the package version is the repository's VERSION", () => {
  assert.equal(VERSION, Deno.readTextFileSync(`${REPO}/VERSION`).trim());
});

Deno.test("connecting where no server listens is a Connection error", async () => {
  const port = freePort();
  await assert.rejects(
    Client.connect(`127.0.0.1:${port}`, { secret: "x".repeat(20) }),
    (e) => {
      assert.ok(e instanceof RainError);
      assert.equal(e.kind, "Connection");
      assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
      return true;
    },
  );
});

Deno.test("client against a real cluster", async (t) => {
  await using cluster = await TestCluster.start({ governors: [2, 1] });

  await t.step("connect: id, server version, server info", async () => {
    await using client = await Client.connect(cluster.address, {
      secret: cluster.secret(),
    });
    assert.ok(client.id >= 1);
    assert.equal(client.serverVersion, VERSION);
    assert.ok(client.connected);
    const info = await client.serverInfo();
    assert.deepEqual(info.governors.map((g) => g.resources.cpus).sort(), [
      1,
      2,
    ]);
    for (const g of info.governors) {
      assert.match(g.governor_id, /^127\.0\.0\.1:\d+$/);
    }
    assert.match(String(client), /^<Client 127\.0\.0\.1:\d+ id=\d+>$/);
  });

  await t.step("a wrong secret is Unauthorized", async () => {
    await assert.rejects(
      Client.connect(cluster.address, { secret: "wrong-secret-0123456789" }),
      (e) => e instanceof RainError && e.kind === "Unauthorized",
    );
  });

  await t.step(
    "the secret is found in the file the server published (RAIN_SECRETS_DIR)",
    async () => {
      const saved = Deno.env.get("RAIN_SECRETS_DIR");
      const savedSecret = Deno.env.get("RAIN_SECRET");
      Deno.env.set("RAIN_SECRETS_DIR", cluster.secretsDir);
      Deno.env.delete("RAIN_SECRET");
      try {
        await using client = await Client.connect(`127.0.0.1:${cluster.port}`);
        assert.equal((await client.serverInfo()).governors.length, 2);
        // RAIN_SECRET wins over the file.
        Deno.env.set("RAIN_SECRET", "wrong-secret-0123456789");
        await assert.rejects(
          Client.connect(cluster.address),
          (e) => e instanceof RainError && e.kind === "Unauthorized",
        );
      } finally {
        if (saved === undefined) Deno.env.delete("RAIN_SECRETS_DIR");
        else Deno.env.set("RAIN_SECRETS_DIR", saved);
        if (savedSecret === undefined) Deno.env.delete("RAIN_SECRET");
        else Deno.env.set("RAIN_SECRET", savedSecret);
      }
    },
  );

  await t.step(
    "least permissions: --allow-net to the server and --allow-env=RAIN_SECRET",
    async () => {
      await withTempDir(async (dir) => {
        const script = `${dir}/least.ts`;
        await Deno.writeTextFile(
          script,
          `import { Client } from ${JSON.stringify(new URL("./mod.ts", import.meta.url).href)};
        await using client = await Client.connect(Deno.args[0]);
        await using session = await client.newSession();
        const task = session.concat([session.blob("least "), session.blob("privilege")]);
        task.output.keep();
        await session.submit();
        console.log((await task.output.fetch()).text());`,
        );
        const out = await new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "--no-check",
            "--no-prompt",
            `--allow-net=${cluster.address}`,
            "--allow-env=RAIN_SECRET",
            script,
            cluster.address,
          ],
          env: { RAIN_SECRET: cluster.secret() },
          stdout: "piped",
          stderr: "piped",
        }).output();
        assert.equal(
          new TextDecoder().decode(out.stdout),
          "least privilege\n",
          new TextDecoder().decode(out.stderr),
        );
      });
    },
  );

  await t.step(
    "closing the client closes its sessions; a closed client cannot call",
    async () => {
      const client = await Client.connect(cluster.address, {
        secret: cluster.secret(),
      });
      const a = await client.newSession({ name: "a" });
      const b = await client.newSession();
      assert.equal(a.name, "a");
      assert.equal(b.name, "Unnamed Session");
      assert.notEqual(a.id, b.id);
      await client.close();
      assert.equal(a.active, false);
      assert.equal(b.active, false);
      assert.equal(client.connected, false);
      await assert.rejects(client.newSession(), (e) => e instanceof RainError);
    },
  );

  await t.step("update() of tasks from several sessions", async () => {
    await using client = await Client.connect(cluster.address, {
      secret: cluster.secret(),
    });
    await using s1 = await client.newSession();
    await using s2 = await client.newSession();
    const t1 = s1.concat([s1.blob("a")]);
    const t2 = s2.concat([s2.blob("b")]);
    await s1.submit();
    await s2.submit();
    await s1.waitAll();
    await s2.waitAll();
    await client.update([t1, t2, t1.output]);
    assert.equal(t1.state, "finished");
    assert.equal(t2.state, "finished");
    assert.ok(t1.info?.governor);
    assert.equal(t1.output.info?.size, 1);
  });

  await t.step(
    "a program that exits without closing its client: the server drops its sessions",
    async () => {
      // The lifeline does not keep the process alive, and its end closes the client's sessions
      // (their running tasks are killed, the governor's cpus freed).
      const script = `
      import { Client } from ${JSON.stringify(new URL("./mod.ts", import.meta.url).href)};
      const client = await Client.connect(Deno.args[0], { secret: Deno.args[1] });
      const session = await client.newSession({ name: "left open" });
      const task = session.sleep(session.blob("x"), 600, { name: "forever" });
      await session.submit();
      while (task.state !== "running") {
        await task.update();
        await new Promise((r) => setTimeout(r, 20));
      }
      console.log("running");
    `;
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["eval", "--no-check", script, cluster.address, cluster.secret()],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(
        new TextDecoder().decode(out.stdout).trim(),
        "running",
        new TextDecoder().decode(out.stderr),
      );
      assert.ok(out.success);
      await using client = await Client.connect(cluster.address, {
        secret: cluster.secret(),
      });
      const deadline = Date.now() + 15_000;
      let busy = -1;
      while (Date.now() < deadline) {
        const info = await client.serverInfo();
        busy = info.governors.reduce((n, g) => n + g.tasks.length, 0);
        if (busy === 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(busy, 0, "the sleeping task was stopped");
    },
  );
});

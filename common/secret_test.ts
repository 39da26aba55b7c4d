import assert from "node:assert/strict";
import {
  authHeaders,
  findSecret,
  generateSecret,
  publishSecret,
  readSecretFile,
  readSecretLine,
  secretCandidates,
  secretKey,
  secretsEqual,
} from "./secret.ts";

Deno.test("generated secrets are long, random and header-safe", () => {
  const a = generateSecret();
  const b = generateSecret();
  assert.notEqual(a, b);
  assert.match(a, /^[A-Za-z0-9_-]{43}$/);
  assert.deepEqual(authHeaders(a), { authorization: `Bearer ${a}` });
  assert.deepEqual(authHeaders(undefined), {});
});

Deno.test("secrets compare equal only when equal (any lengths)", () => {
  assert.ok(secretsEqual("abc", "abc"));
  assert.ok(!secretsEqual("abc", "abd"));
  assert.ok(!secretsEqual("abc", "abcd"));
  assert.ok(!secretsEqual("", "abc"));
});

Deno.test("secret file names are keyed by the listen address", () => {
  assert.equal(secretKey("127.0.0.1", 7210), "127.0.0.1_7210");
  // Listening everywhere: this machine's name (machines sharing a home do not collide).
  assert.equal(secretKey("0.0.0.0", 7210), `${Deno.hostname().toLowerCase()}_7210`);
  assert.equal(secretKey("::", 7210), `${Deno.hostname().toLowerCase()}_7210`);
  assert.equal(secretKey("[::1]", 1), "::1_1");
  assert.equal(secretKey("Node1", 2), "node1_2");
});

Deno.test("publish, find by any local name, withdraw", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rain-secrets-" });
  const env = (name: string) => name === "RAIN_SECRETS_DIR" ? `${dir}/secrets` : undefined;
  try {
    const secret = generateSecret();
    const published = await publishSecret("0.0.0.0", 17777, secret, env);
    const here = `${Deno.hostname().toLowerCase()}_17777`;
    assert.equal(published.path, `${dir}/secrets/${here}`);
    assert.equal((await Deno.stat(published.path)).mode! & 0o777, 0o600);
    assert.equal((await Deno.stat(`${dir}/secrets`)).mode! & 0o777, 0o700);
    // Listening everywhere: found through loopback names, not for another port or a remote host.
    assert.equal(await findSecret("localhost", 17777, env), secret);
    assert.equal(await findSecret("127.0.0.1", 17777, env), secret);
    assert.equal(await findSecret("127.0.0.1", 17778, env), undefined);
    assert.ok(!(await secretCandidates("192.0.2.7", 17777)).includes(here));
    // $RAIN_SECRET comes first.
    const withEnv = (name: string) => name === "RAIN_SECRET" ? "from-the-env-0123456" : env(name);
    assert.equal(await findSecret("127.0.0.1", 17777, withEnv), "from-the-env-0123456");
    await published.unpublish();
    assert.equal(await findSecret("127.0.0.1", 17777, env), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a secret left by a server that died is removed by the next one", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rain-secrets-" });
  const env = (name: string) => name === "RAIN_SECRETS_DIR" ? dir : undefined;
  try {
    const dead = new Deno.Command("true").spawn();
    await dead.status;
    const host = Deno.hostname();
    await Deno.writeTextFile(`${dir}/127.0.0.1_1`, "old-secret-of-a-dead-server\n");
    await Deno.writeTextFile(`${dir}/127.0.0.1_1.owner`, `${host} ${dead.pid}\n`);
    await Deno.writeTextFile(`${dir}/127.0.0.1_2`, "secret-of-a-live-server-1\n");
    await Deno.writeTextFile(`${dir}/127.0.0.1_2.owner`, `${host} ${Deno.pid}\n`);
    await Deno.writeTextFile(`${dir}/127.0.0.1_3`, "secret-of-another-machine\n");
    await Deno.writeTextFile(`${dir}/127.0.0.1_3.owner`, `elsewhere ${dead.pid}\n`);
    const p = await publishSecret("127.0.0.1", 4, generateSecret(), env);
    const names = (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
    assert.deepEqual(names, [
      "127.0.0.1_2",
      "127.0.0.1_2.owner",
      "127.0.0.1_3",
      "127.0.0.1_3.owner",
      "127.0.0.1_4",
      "127.0.0.1_4.owner",
    ]);
    await p.unpublish();
    assert.ok(!(await Array.fromAsync(Deno.readDir(dir))).some((e) => e.name.includes("_4")));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("secret files must be private and hold a usable secret", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rain-secret-file-" });
  try {
    const path = `${dir}/secret`;
    await Deno.writeTextFile(path, "a-long-enough-secret-1234\nignored\n", { mode: 0o600 });
    assert.equal(await readSecretFile(path), "a-long-enough-secret-1234");
    await Deno.chmod(path, 0o644);
    await assert.rejects(
      readSecretFile(path),
      /accessible by other users \(mode 0644\).*chmod 600/,
    );
    await Deno.writeTextFile(`${dir}/short`, "short\n", { mode: 0o600 });
    await assert.rejects(readSecretFile(`${dir}/short`), /too short/);
    await assert.rejects(readSecretFile(`${dir}/none`), /cannot read secret file/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the secret line of stdin", async () => {
  const stream = (text: string) => new Blob([text]).stream();
  assert.equal(await readSecretLine(stream("abcdefghijklmnopq\nrest")), "abcdefghijklmnopq");
  await assert.rejects(readSecretLine(stream("")), /no secret on stdin/);
  await assert.rejects(readSecretLine(stream("x y z w v u t s r q\n")), /printable ASCII/);
});

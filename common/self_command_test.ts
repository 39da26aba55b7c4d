import assert from "node:assert/strict";
import { selfCommand, selfCommandFor, selfForm, V8_FLAGS } from "./self_command.ts";

const DENO = "/repo/node_modules/.deno/deno@2.9.6/node_modules/deno/deno";
const files = (...paths: string[]) => (p: string) => paths.includes(p);

Deno.test("from source: deno run -A --no-check with the repository's deno.json", () => {
  const info = {
    execPath: DENO,
    mainModule: "file:///repo/main.ts",
    standalone: false,
    isFile: files(DENO, "/repo/deno.json"),
  };
  assert.equal(selfForm(info), "source");
  assert.deepEqual(selfCommandFor(info), [
    DENO,
    "run",
    "-A",
    "--unstable-worker-options",
    `--v8-flags=${V8_FLAGS}`,
    "--no-check",
    "--quiet",
    "--config",
    "/repo/deno.json",
    "/repo/main.ts",
  ]);
  // no deno.json next to main.ts: rely on discovery
  assert.deepEqual(selfCommandFor({ ...info, isFile: files(DENO) }).slice(-2), [
    "--quiet",
    "/repo/main.ts",
  ]);
  assert.equal(
    selfCommandFor({ ...info, isFile: files(DENO, "/repo/deno.jsonc") })[8],
    "/repo/deno.jsonc",
  );
});

Deno.test("bundled: deno run -A dist/rain.js without any config", () => {
  const info = {
    execPath: "/usr/bin/deno",
    mainModule: "file:///opt/rain/dist/rain.js",
    standalone: false,
    isFile: files("/usr/bin/deno", "/opt/rain/dist/deno.json"),
  };
  assert.equal(selfForm(info), "bundle");
  assert.deepEqual(selfCommandFor(info), [
    "/usr/bin/deno",
    "run",
    "-A",
    "--unstable-worker-options",
    `--v8-flags=${V8_FLAGS}`,
    "--no-config",
    "--quiet",
    "/opt/rain/dist/rain.js",
  ]);
});

Deno.test("compiled: the executable alone", () => {
  const info = {
    execPath: "/usr/local/bin/rain",
    mainModule: "file:///tmp/deno-compile-rain/main.ts",
    standalone: true,
    isFile: files(),
  };
  assert.equal(selfForm(info), "compiled");
  assert.deepEqual(selfCommandFor(info), ["/usr/local/bin/rain"]);
  // a runtime without Deno.build.standalone is recognised by its virtual directory
  assert.deepEqual(selfCommandFor({ ...info, standalone: undefined }), ["/usr/local/bin/rain"]);
});

Deno.test("main module loaded by URL", () => {
  const info = {
    execPath: "/usr/bin/deno",
    mainModule: "https://example.org/rain/main.ts",
    isFile: files("/usr/bin/deno"),
  };
  assert.equal(selfForm(info), "remote");
  assert.deepEqual(selfCommandFor(info), [
    "/usr/bin/deno",
    "run",
    "-A",
    "--unstable-worker-options",
    `--v8-flags=${V8_FLAGS}`,
    "https://example.org/rain/main.ts",
  ]);
});

Deno.test("a deleted running binary is replaced by node_modules/.bin/deno, else PATH", () => {
  const gone = `${DENO} (deleted)`;
  const source = { execPath: gone, mainModule: "file:///repo/main.ts", isFile: files() };
  assert.equal(selfCommandFor(source)[0], "deno");
  const launcher = "/repo/node_modules/.bin/deno";
  assert.equal(selfCommandFor({ ...source, isFile: files(launcher) })[0], launcher);
  const bundle = { ...source, mainModule: "file:///repo/dist/rain.js", isFile: files(launcher) };
  assert.equal(selfCommandFor(bundle)[0], launcher);
  const remote = { ...source, mainModule: "https://example.org/main.ts" };
  assert.equal(selfCommandFor(remote)[0], "deno");
});

Deno.test("selfCommand of this test process runs deno on this file", () => {
  const cmd = selfCommand();
  assert.equal(cmd[0], Deno.execPath());
  assert.ok(cmd.at(-1)!.endsWith("self_command_test.ts"));
});

Deno.test("the ./rain launcher and tools/compile.ts pass the same V8 flags", () => {
  const root = new URL("..", import.meta.url);
  const launcher = Deno.readTextFileSync(new URL("rain", root));
  assert.match(launcher, new RegExp(`exec "\\$deno" run .*--v8-flags=${V8_FLAGS} `));
  const compile = Deno.readTextFileSync(new URL("tools/compile.ts", root));
  assert.match(compile, /`--v8-flags=\$\{V8_FLAGS\}`/);
});

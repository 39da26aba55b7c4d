import { assert, assertEquals, assertRejects } from "./test_assert.ts";
import { join } from "node:path";
import { BUILTINS } from "./builtins/mod.ts";
import { MEMORY_LIMIT } from "./object_store.ts";
import type { GovernorOptions, PermissionLists } from "./options.ts";
import { GovernorPermissions, mergeLists, permissionsFromToml } from "./permissions.ts";
import {
  describeTree,
  enc,
  makeContext,
  makeSampleTree,
  makeTask,
  newId,
  tempDir,
  tempStore,
} from "./test_util.ts";
import type { TaskFn } from "./task_context.ts";
import type { ObjectStore, StoredObject } from "./object_store.ts";

function options(workDir: string, permissions?: PermissionLists, configFile?: string) {
  return {
    serverHost: "127.0.0.1",
    serverPort: 1,
    cpus: 1,
    listenHost: "127.0.0.1",
    listenPort: 0,
    workDir,
    logDir: workDir,
    deleteListTimeout: 0,
    permissions,
    configFile,
  } as GovernorOptions;
}

async function restricted(workDir: string, lists: PermissionLists) {
  const p = new GovernorPermissions(options(workDir, lists));
  await p.start();
  const fns = p.wrap(BUILTINS);
  return {
    fns,
    [Symbol.dispose]: () => p.close(),
  };
}

function call(
  fns: Map<string, TaskFn>,
  store: ObjectStore,
  type: string,
  config: Record<string, unknown>,
  inputs: StoredObject[],
  outputs: ("blob" | "dir")[],
) {
  const task = makeTask(`buildin/${type}`, config as never, inputs, outputs);
  return Promise.resolve(fns.get(type)!(makeContext(store, task, inputs)));
}

Deno.test("Load and LoadDir read only allowed paths; the message names the path", async () => {
  await using t = await tempStore();
  await using allowed = await tempDir();
  await using other = await tempDir();
  await Deno.writeTextFile(join(allowed.path, "small"), "hello");
  const big = new Uint8Array(MEMORY_LIMIT + 5).fill(7);
  await Deno.writeFile(join(allowed.path, "big"), big);
  await Deno.mkdir(join(allowed.path, "dir"));
  await makeSampleTree(join(allowed.path, "dir"));
  await Deno.writeTextFile(join(other.path, "secret"), "do not read");
  // A link inside the allowed directory pointing out of it does not open the way.
  await Deno.symlink(join(other.path, "secret"), join(allowed.path, "escape"));
  using p = await restricted(t.workDir, { read: [allowed.path] });

  const [small] = await call(p.fns, t.store, "open", { path: join(allowed.path, "small") }, [], [
    "blob",
  ]);
  assertEquals(small!.data, enc.encode("hello"));
  const [large] = await call(p.fns, t.store, "open", { path: join(allowed.path, "big") }, [], [
    "blob",
  ]);
  assertEquals(await Deno.readFile(large!.path!), big);
  const [dir] = await call(p.fns, t.store, "open_dir", { path: join(allowed.path, "dir") }, [], [
    "dir",
  ]);
  assertEquals(
    await describeTree(dir!.path!),
    await describeTree(join(allowed.path, "dir")),
  );

  const outside = join(other.path, "secret");
  await assertRejects(
    () => call(p.fns, t.store, "open", { path: outside }, [], ["blob"]),
    Error,
    `cannot open '${outside}': read access to '${outside}' is not allowed by this governor's ` +
      `permissions (allowed: ${allowed.path}, the work dir ${t.workDir})`,
  );
  await assertRejects(
    () => call(p.fns, t.store, "open", { path: join(allowed.path, "escape") }, [], ["blob"]),
    Error,
    `read access to '${outside}' is not allowed`,
  );
  await assertRejects(
    () => call(p.fns, t.store, "open_dir", { path: other.path }, [], ["dir"]),
    Error,
    `cannot open '${other.path}': read access to '${other.path}' is not allowed`,
  );
  // Ordinary errors keep their messages.
  await assertRejects(
    () => call(p.fns, t.store, "open", { path: join(allowed.path, "nope") }, [], ["blob"]),
    Error,
    `cannot open '${join(allowed.path, "nope")}': no such file or directory`,
  );
  await assertRejects(
    () => call(p.fns, t.store, "open", { path: join(allowed.path, "dir") }, [], ["blob"]),
    Error,
    "is a directory",
  );
});

Deno.test("Store writes only where allowed", async () => {
  await using t = await tempStore();
  await using out = await tempDir();
  await using other = await tempDir();
  using p = await restricted(t.workDir, { write: [out.path] });
  const small = t.store.putMemory(newId(), enc.encode("small"));
  const big = await t.store.putBlob(newId(), new Uint8Array(MEMORY_LIMIT + 3).fill(1));
  await call(p.fns, t.store, "export", { path: join(out.path, "a") }, [small], []);
  assertEquals(await Deno.readTextFile(join(out.path, "a")), "small");
  await call(p.fns, t.store, "export", { path: join(out.path, "b") }, [big], []);
  assertEquals((await Deno.stat(join(out.path, "b"))).size, MEMORY_LIMIT + 3);
  const denied = join(other.path, "x");
  await assertRejects(
    () => call(p.fns, t.store, "export", { path: denied }, [small], []),
    Error,
    `cannot export to '${denied}': write access to '${denied}' is not allowed by this ` +
      `governor's permissions (allowed: ${out.path}, the work dir ${t.workDir})`,
  );
  // A link in the allowed directory pointing out of it is refused too.
  await Deno.symlink(other.path, join(out.path, "link"));
  await assertRejects(
    () => call(p.fns, t.store, "export", { path: join(out.path, "link", "y") }, [small], []),
    Error,
    `write access to '${join(other.path, "y")}' is not allowed`,
  );
  assert((await Array.fromAsync(Deno.readDir(other.path))).length === 0, "nothing written");
  // A directory (with a symlink in it) is copied like cp -rT.
  await using src = await tempDir();
  await makeSampleTree(src.path);
  const [tree] = await call(p.fns, t.store, "open_dir", { path: src.path }, [], ["dir"]);
  await call(p.fns, t.store, "export", { path: join(out.path, "tree") }, [tree!], []);
  assertEquals(await describeTree(join(out.path, "tree")), await describeTree(src.path));
  await assertRejects(
    () => call(p.fns, t.store, "export", { path: join(other.path, "tree") }, [tree!], []),
    Error,
    `write access to '${join(other.path, "tree")}' is not allowed`,
  );
});

Deno.test("Execute runs only allowed programs, checked by Deno", async () => {
  if (!BUILTINS.has("run")) return; // buildin/run not built into this tree
  await using t = await tempStore();
  using p = await restricted(t.workDir, { run: ["cat"] });
  const input = t.store.putMemory(newId(), enc.encode("through cat"));
  const config = (args: string[]) => ({
    args,
    in_paths: [{ path: "+in", write: false }],
    out_paths: ["+out"],
  });
  const [out] = await call(p.fns, t.store, "run", config(["cat"]), [input], ["blob"]);
  assertEquals(out!.data, enc.encode("through cat"));
  await assertRejects(
    () => call(p.fns, t.store, "run", config(["tail"]), [input], ["blob"]),
    Error,
    "running 'tail' is not allowed by this governor's permissions (allowed: cat)",
  );
});

Deno.test("no lists: unrestricted, no sandbox (Rain 0.4)", async () => {
  await using t = await tempStore();
  const p = new GovernorPermissions(options(t.workDir));
  await p.start();
  assertEquals(p.sandbox, undefined);
  const [o] = await call(p.wrap(BUILTINS), t.store, "open", { path: "/etc/hostname" }, [], [
    "blob",
  ]);
  assert(o!.size > 0);
  p.close();
});

Deno.test("[permissions] of the config: relative to the config, merged with the flags", async () => {
  await using d = await tempDir();
  const config = join(d.path, "gov.toml");
  await Deno.writeTextFile(config, '[permissions]\nread = ["data", "/abs"]\nrun = ["python3"]\n');
  assertEquals(
    permissionsFromToml(
      { permissions: { read: ["data", "/abs"], run: ["python3", "./bin/x"] } },
      config,
    ),
    { read: [join(d.path, "data"), "/abs"], run: ["python3", join(d.path, "bin/x")] },
  );
  assertEquals(mergeLists({ read: ["/a"] }, { read: ["/b", "/a"], write: [] }), {
    read: ["/a", "/b"],
    write: [],
  });
  const p = new GovernorPermissions(options(d.path, { read: ["/flag"] }, config));
  await p.start();
  assertEquals(p.lists, { read: [join(d.path, "data"), "/abs", "/flag"], run: ["python3"] });
  p.close();
  let error = "";
  try {
    permissionsFromToml({ permissions: { exec: [] } }, config);
  } catch (e) {
    error = (e as Error).message;
  }
  assertEquals(error, `${config}: [permissions]: unknown key 'exec' (known: read, write, run)`);
});

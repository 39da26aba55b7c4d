import { assert, assertEquals, assertRejects, assertStringIncludes } from "../test_assert.ts";
import { join } from "node:path";
import type { DataType, JsonValue } from "../../common/attributes.ts";
import { MEMORY_LIMIT, type ObjectStore, type StoredObject } from "../object_store.ts";
import { packDirectory } from "../tar.ts";
import {
  dec,
  describeTree,
  enc,
  makeContext,
  makeSampleTree,
  makeTask,
  newId,
  tempDir,
  tempStore,
  treeModes,
} from "../test_util.ts";
import { run } from "./run.ts";
import { placeInputs } from "./run_inputs.ts";
import { collectOutputs } from "./run_outputs.ts";
import { STDERR_TAIL } from "./run_program.ts";
import { pooledWorkDirs, workDirsRemoved } from "./work_dirs.ts";

interface RunSpec {
  args: string[];
  inputs?: [StoredObject, string, boolean?][];
  outputs?: [string, DataType, string?][];
  signal?: AbortSignal;
}

/** Runs a buildin/run task directly (no governor); returns the stored outputs. */
function runTask(store: ObjectStore, spec: RunSpec): Promise<StoredObject[]> {
  const inputs = (spec.inputs ?? []).map(([obj]) => obj);
  const config = {
    args: spec.args,
    in_paths: (spec.inputs ?? []).map(([, path, write]) => ({ path, write: write === true })),
    out_paths: (spec.outputs ?? []).map(([path]) => path),
  };
  const task = makeTask(
    "buildin/run",
    config,
    inputs,
    (spec.outputs ?? []).map(([, type]) => type),
  );
  (spec.outputs ?? []).forEach(([path, , contentType], i) => {
    task.outputs[i]!.label = path;
    if (contentType) task.outputs[i]!.content_type = contentType;
  });
  return Promise.resolve(run(makeContext(store, task, inputs, spec.signal)));
}

async function text(store: ObjectStore, obj: StoredObject): Promise<string> {
  return dec.decode(await store.readBytes(obj));
}

/**
 * What tasks left under the store's temp dir once their working directories are removed: only
 * the empty directories kept for reuse may remain.
 */
async function leftovers(store: ObjectStore): Promise<string[]> {
  await workDirsRemoved(store);
  const pooled = pooledWorkDirs(store);
  const left = [...Deno.readDirSync(store.tmpDir)].map((e) => join(store.tmpDir, e.name));
  for (const dir of pooled) assertEquals([...Deno.readDirSync(dir)], [], `${dir} is empty`);
  return left.filter((p) => !pooled.includes(p));
}

Deno.test("run: stdout, stdin and an output file; content type from the output spec", async () => {
  await using t = await tempStore();
  const data = t.store.putMemory(newId(), enc.encode("It is\nrainy day\n"));
  const [out, copy] = await runTask(t.store, {
    args: ["tee", "output1"],
    inputs: [[data, "+in"]],
    outputs: [["+out", "blob", "text"], ["output1", "blob"]],
  });
  assertEquals(await text(t.store, out!), "It is\nrainy day\n");
  assertEquals(out!.contentType, "text");
  assertEquals(await text(t.store, copy!), "It is\nrainy day\n");
  assertEquals(copy!.contentType, undefined);
  assertEquals(await leftovers(t.store), []);
});

Deno.test("run: inputs are read-only hard links to the store, or writable copies", async () => {
  await using t = await tempStore();
  const big = await t.store.putBlob(newId(), new Uint8Array(MEMORY_LIMIT + 10).fill(66));
  const small = t.store.putMemory(newId(), enc.encode("small"));
  const storeInode = (await Deno.stat(big.path!)).ino;
  const [report] = await runTask(t.store, {
    args: [
      "sh",
      "-c",
      "stat -c '%n %a %i %F' big sub/small; echo more >> mine; cat mine; " +
      "test -L big && echo symlink; true",
    ],
    inputs: [[big, "big"], [small, "sub/small"], [small, "mine", true]],
    outputs: [["+out", "blob"]],
  });
  const lines = (await text(t.store, report!)).trim().split("\n");
  assertEquals(lines[0], `big 444 ${storeInode} regular file`);
  assert(lines[1]!.startsWith("sub/small 444 "), lines[1]);
  assertEquals(lines.slice(2), ["smallmore"]); // the copy was writable; no symlink line
  assertEquals(await text(t.store, small), "small", "the stored object is unchanged");
  assertEquals(await leftovers(t.store), []);
});

Deno.test("run: an input directory is a real, read-only directory of hard links", async () => {
  await using t = await tempStore();
  await using src = await tempDir();
  await makeSampleTree(src.path);
  const dir = await t.store.putStream(newId(), "dir", packDirectory(src.path));
  const [report, copy] = await runTask(t.store, {
    args: [
      "sh",
      "-c",
      "test -L d || echo real; stat -c '%a' d d/sub; stat -c '%h' d/a.txt; " +
      "echo changed > w/a.txt; mkdir w/new",
    ],
    inputs: [[dir, "d"], [dir, "w", true]],
    outputs: [["+out", "blob"], ["w", "dir"]],
  });
  assertEquals((await text(t.store, report!)).split("\n").slice(0, 4), ["real", "555", "555", "2"]);
  const tree = await describeTree(copy!.path!);
  assert(tree.includes("a.txt file changed\n"), tree.join("|"));
  assert(tree.includes("new/ dir"));
  assertEquals(await Deno.readTextFile(join(dir.path!, "a.txt")), "alpha", "store unchanged");
  const modes = await treeModes(copy!.path!);
  assertEquals(modes.get("a.txt"), 0o444);
  assertEquals(modes.get("new"), 0o555);
  assertEquals(await leftovers(t.store), []);
});

Deno.test("run: outputs — nested paths, directories, empty, large and via a symlink", async () => {
  await using t = await tempStore();
  const big = MEMORY_LIMIT * 3 + 7;
  const outs = await runTask(t.store, {
    args: [
      "sh",
      "-c",
      "mkdir -p mydir/deep && echo a > mydir/a && : > mydir/deep/empty && : > empty && " +
      `head -c ${big} /dev/zero > big && echo target > t && ln -s t link && ` +
      `head -c ${big} /dev/zero`,
    ],
    outputs: [
      ["+out", "blob"],
      ["mydir/a", "blob"],
      ["mydir", "dir"],
      ["empty", "blob"],
      ["big", "blob"],
      ["link", "blob"],
    ],
  });
  const [stdout, nested, dir, empty, bigFile, link] = outs;
  assertEquals([stdout!.size, stdout!.data, stdout!.path !== undefined], [big, undefined, true]);
  assertEquals(await text(t.store, nested!), "a\n");
  assertEquals(await describeTree(dir!.path!), ["a file a\n", "deep/ dir", "deep/empty file "]);
  assertEquals([empty!.size, await text(t.store, empty!)], [0, ""]);
  assertEquals([bigFile!.size, bigFile!.data], [big, undefined]);
  assertEquals(((await Deno.stat(bigFile!.path!)).mode ?? 0) & 0o777, 0o444);
  assertEquals(await text(t.store, link!), "target\n");
  assertEquals(await leftovers(t.store), []);
});

Deno.test("run: outputs inside a read-only input directory are hard links to its files", async () => {
  await using t = await tempStore();
  await using src = await tempDir();
  await makeSampleTree(src.path);
  const bigData = new Uint8Array(MEMORY_LIMIT * 2).fill(7);
  await Deno.writeFile(join(src.path, "sub/big.bin"), bigData);
  const dir = await t.store.putStream(newId(), "dir", packDirectory(src.path));
  const [file, big, sub, whole] = await runTask(t.store, {
    args: ["true"],
    inputs: [[dir, "d"]],
    outputs: [["d/a.txt", "blob"], ["d/sub/big.bin", "blob"], ["d/sub", "dir"], ["d", "dir"]],
  });
  assertEquals(await text(t.store, file!), "alpha");
  assertEquals([big!.size, big!.data], [bigData.length, undefined]);
  const inode = async (path: string) => (await Deno.stat(path)).ino;
  const storedBig = await inode(join(dir.path!, "sub/big.bin"));
  assertEquals(await inode(big!.path!), storedBig, "the big file is a link, not a copy");
  assertEquals(await inode(join(sub!.path!, "big.bin")), storedBig);
  assertEquals(await describeTree(whole!.path!), await describeTree(dir.path!));
  assertEquals(await describeTree(dir.path!), await describeTree(src.path), "input unchanged");
  assertEquals(((await Deno.stat(sub!.path!)).mode ?? 0) & 0o777, 0o555);
  assertEquals(await leftovers(t.store), []);
});

Deno.test("run: taking outputs from a read-only input directory leaves it in place", async () => {
  await using t = await tempStore();
  await using src = await tempDir();
  await makeSampleTree(src.path);
  const dir = await t.store.putStream(newId(), "dir", packDirectory(src.path));
  const [a, sub] = [newId(), newId()];
  const workDir = join(t.workDir, "work");
  await Deno.mkdir(workDir);
  await placeInputs(workDir, [{ path: "d", write: false }], [dir], ["d"]);
  const before = await describeTree(join(workDir, "d"));
  const [file, tree] = await collectOutputs(
    t.store,
    workDir,
    ["d/a.txt", "d/sub"],
    [{ id: a, data_type: "blob" }, { id: sub, data_type: "dir" }],
    undefined,
    ["d"],
  );
  assertEquals(await text(t.store, file!), "alpha");
  assertEquals(await describeTree(tree!.path!), ["b.txt file bravo!", "empty/ dir"]);
  // Nothing was renamed out of the input (a non-root governor could not: its dirs are 0555).
  assertEquals(await describeTree(join(workDir, "d")), before);
});

Deno.test("run: failures name what went wrong and leave nothing behind", async () => {
  await using t = await tempStore();
  const cases: [RunSpec, string][] = [
    [{ args: ["no-such-program-rain"] }, "program 'no-such-program-rain' not found"],
    [
      { args: ["sh", "-c", "echo doomed >&2; exit 3"] },
      "program exited with code 3: sh -c 'echo doomed >&2; exit 3'\nstderr:\ndoomed",
    ],
    [{ args: ["sh", "-c", "kill -SEGV $$"] }, "was killed by signal SIGSEGV"],
    [
      { args: ["true"], outputs: [["+out", "blob"], ["result.txt", "blob"]] },
      "output 'result.txt' was not created by the program",
    ],
    [{ args: ["mkdir", "x"], outputs: [["x", "blob"]] }, "output 'x' is a directory, but a file"],
    [{ args: ["touch", "x"], outputs: [["x", "dir"]] }, "output 'x' is a file, but a directory"],
    [{ args: ["true"], outputs: [["../x", "blob"]] }, "path '../x' must not contain '..'"],
    [{ args: ["true"], outputs: [["/etc/x", "blob"]] }, "path '/etc/x' must be relative"],
    [
      { args: ["sh", "-c", "ln -s /tmp away"], outputs: [["away/x", "blob"]] },
      "path 'away/x' leads out of the working directory",
    ],
  ];
  for (const [spec, message] of cases) {
    await assertRejects(() => runTask(t.store, spec), Error, message);
    assertEquals(await leftovers(t.store), [], message);
  }
  assertEquals(t.store.count, 0, "no object stored by a failed task");
});

Deno.test("run: an input path escaping the working directory fails the task", async () => {
  await using t = await tempStore();
  const a = t.store.putMemory(newId(), enc.encode("a"));
  for (const [path, message] of [["../x", "must not contain '..'"], ["/abs", "must be relative"]]) {
    await assertRejects(
      () => runTask(t.store, { args: ["true"], inputs: [[a, path!]] }),
      Error,
      message,
    );
  }
  // Through a symlink inside an input directory.
  await using src = await tempDir();
  await Deno.symlink("/tmp", join(src.path, "out"));
  const dir = await t.store.putStream(newId(), "dir", packDirectory(src.path));
  await assertRejects(
    () => runTask(t.store, { args: ["true"], inputs: [[dir, "d"], [a, "d/out/x"]] }),
    Error,
    "path 'd/out/x' leads out of the working directory",
  );
  assertEquals(await leftovers(t.store), []);
});

Deno.test("run: a long stderr is cut to its tail", async () => {
  await using t = await tempStore();
  const e = await assertRejects(
    () =>
      runTask(t.store, {
        args: ["sh", "-c", "head -c 100000 /dev/zero | tr '\\0' x >&2; echo END >&2; exit 1"],
      }),
    Error,
    "END",
  );
  assert(e.message.length < STDERR_TAIL + 200, `message of ${e.message.length} chars`);
  assertStringIncludes(e.message, "stderr:\n...");
});

Deno.test("run: input content types are checked against the declared ones", async () => {
  await using t = await tempStore();
  const text = t.store.putMemory(newId(), enc.encode("x"), "text");
  const config: JsonValue = {
    args: ["true"],
    in_paths: [{ path: "f", write: false, content_type: "json" }],
    out_paths: [],
  };
  const task = makeTask("buildin/run", config, [text], []);
  await assertRejects(
    () => Promise.resolve(run(makeContext(t.store, task, [text]))),
    Error,
    "has content type 'text', but 'json' is expected",
  );
  const latin = t.store.putMemory(newId(), enc.encode("x"), "text-latin2");
  const ok = makeTask(
    "buildin/run",
    {
      args: ["true"],
      in_paths: [{ path: "f", content_type: "text" }],
      out_paths: [],
    },
    [latin],
    [],
  );
  assertEquals(await run(makeContext(t.store, ok, [latin])), []);
});

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

Deno.test("run: abort kills the program and everything it started", async () => {
  await using t = await tempStore();
  await using dir = await tempDir();
  const pids = join(dir.path, "pids");
  const ac = new AbortController();
  const running = runTask(t.store, {
    args: ["sh", "-c", `sleep 100 & echo $! >> ${pids}; sleep 100 & echo $! >> ${pids}; wait`],
    outputs: [["+out", "blob"]],
    signal: ac.signal,
  });
  running.catch(() => {});
  const read = () =>
    Deno.readTextFile(pids).then((s) => s.trim().split("\n").map(Number), () => []);
  await waitFor(async () => (await read()).length === 2, "two sleeps");
  ac.abort(new Error("session closed"));
  await assertRejects(() => running, Error, "session closed");
  const started = await read();
  await waitFor(() => started.every(dead), "the sleeps to die");
  assertEquals(await leftovers(t.store), []);
});

Deno.test("run: a program is over when it exits; what it left running is killed", async () => {
  await using t = await tempStore();
  await using dir = await tempDir();
  const pidFile = join(dir.path, "pid");
  const [out] = await runTask(t.store, {
    args: ["sh", "-c", `sleep 100 & echo $! > ${pidFile}; echo done`],
    outputs: [["+out", "blob"]],
  });
  assertEquals(await text(t.store, out!), "done\n");
  const pid = Number(await Deno.readTextFile(pidFile));
  await waitFor(() => dead(pid), "the leftover sleep to die");
});

Deno.test("run: every program starts in an empty, writable directory of its own", async () => {
  await using t = await tempStore();
  const scripts = [
    "ls -A; touch junk; mkdir sub; echo x > sub/f",
    "ls -A; chmod 500 .",
    "ls -A",
    "ls -A; test -w . && echo writable",
    "ls -A; test -w . && echo writable",
  ];
  const seen: string[] = [];
  for (const script of scripts) {
    const [out] = await runTask(t.store, {
      args: ["sh", "-c", script],
      outputs: [["+out", "blob"]],
    });
    seen.push(await text(t.store, out!));
  }
  assertEquals(seen, ["", "", "", "writable\n", "writable\n"]);
  assertEquals(await leftovers(t.store), []);
});

Deno.test("run: a leftover holding the standard input does not keep the task", async () => {
  await using t = await tempStore();
  const big = await t.store.putBlob(newId(), new Uint8Array(4 * MEMORY_LIMIT));
  const [out] = await runTask(t.store, {
    args: ["sh", "-c", "exec 3<&0; sleep 100 <&3 >/dev/null 2>&1 & echo started"],
    inputs: [[big, "+in"]],
    outputs: [["+out", "blob"]],
  });
  assertEquals(await text(t.store, out!), "started\n");
});

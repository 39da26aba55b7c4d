/**
 * `execute` and `Program` (`buildin/run`): the config they build (the same as the Python
 * client's `Execute`), and programs run for real with inputs mapped to files and outputs taken
 * from files, stdout and directories.
 */
import assert from "node:assert/strict";
import {
  type Client,
  Input,
  InputDir,
  Output,
  OutputDir,
  Program,
  RainError,
  Session,
  TaskError,
} from "./mod.ts";
import { TestCluster } from "./test_util.ts";
import { shellSplit } from "./tasks.ts";

const REPO = new URL("..", import.meta.url).pathname;

Deno.test("shellSplit splits like a POSIX shell", () => {
  assert.deepEqual(shellSplit(`a 'b c' "d \\"e\\"" f\\ g`), [
    "a",
    "b c",
    'd "e"',
    "f g",
  ]);
  assert.deepEqual(shellSplit("  "), []);
  assert.throws(() => shellSplit("'open"), RainError);
});

/** The same Execute/Program calls in Python (offline session) and TypeScript. */
Deno.test("execute builds the same buildin/run tasks as the Python client", async () => {
  const python = `
import json
from rain.client import Session, Input, InputDir, Output, OutputDir, Program, blob, tasks
from rain.client.data import directory
s = Session(None, 1)
out = []
with s.bind_only():
    data = blob("x")
    d = tasks.MakeDirectory({"f": blob("y")})
    for t in [
        tasks.Execute("grep -n 'a b' file", stdout=True),
        tasks.Execute(["tee", Output("output1")], stdout="output2", stdin=data),
        tasks.Execute(["cat", Input("in", path="sub/file.txt", dataobj=data, write=True)],
                      stdout=Output("res", content_type="text")),
        tasks.Execute("sort x > y", shell=True, input_paths=[Input("x", dataobj=data)],
                      output_paths=["y", Output("log", path="log.txt")]),
        tasks.Execute(["ls", InputDir("d", dataobj=d), OutputDir("o")], cpus=2, name="lister"),
        tasks.Execute(["wc", Input("j", dataobj=data, content_type="text")], stdout=True),
        Program(["grep", "rain", Input("text", path="my_file")], stdout=True)(text=data),
    ]:
        out.append({"config": t.spec.config, "name": t.spec.name,
                    "inputs": [[i.id.id, i.label] for i in t.spec.inputs],
                    "outputs": [[o.id.id, o.label, o.content_type, o.data_type.value]
                                for o in t.outputs], "cpus": t.spec.resources["cpus"]})
print(json.dumps(out))
`;
  const run = await new Deno.Command("/usr/bin/python3", {
    args: ["-c", python],
    env: { PYTHONPATH: `${REPO}/client_py` },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(run.success, new TextDecoder().decode(run.stderr));
  const expected = JSON.parse(new TextDecoder().decode(run.stdout));

  const s = new Session(undefined, 1);
  const data = s.blob("x");
  const d = s.makeDirectory({ f: s.blob("y") });
  const tasks = [
    s.execute("grep -n 'a b' file", { stdout: true }),
    s.execute(["tee", new Output("output1")], {
      stdout: "output2",
      stdin: data,
    }),
    s.execute([
      "cat",
      new Input("in", { path: "sub/file.txt", dataObject: data, write: true }),
    ], {
      stdout: new Output("res", { contentType: "text" }),
    }),
    s.execute("sort x > y", {
      shell: true,
      inputPaths: [new Input("x", { dataObject: data })],
      outputPaths: ["y", new Output("log", { path: "log.txt" })],
    }),
    s.execute(
      ["ls", new InputDir("d", { dataObject: d }), new OutputDir("o")],
      {
        cpus: 2,
        name: "lister",
      },
    ),
    s.execute(
      ["wc", new Input("j", { dataObject: data, contentType: "text" })],
      { stdout: true },
    ),
    s.program(
      new Program(["grep", "rain", new Input("text", { path: "my_file" })], {
        stdout: true,
      }),
      { text: data },
    ),
  ];
  const actual = tasks.map((t) => ({
    config: t.spec.config,
    name: t.spec.name ?? null,
    inputs: t.spec.inputs.map((i) => [i.id[1], i.label ?? null]),
    outputs: t.outputs.toArray().map((o) => [
      o.id[1],
      o.label ?? null,
      o.spec.content_type ?? null,
      o.dataType,
    ]),
    cpus: t.spec.resources.cpus,
  }));
  assert.deepEqual(actual, expected);
});

Deno.test("execute: client-side errors", () => {
  const s = new Session(undefined, 1);
  const data = s.blob("x");
  const dir = s.makeDirectory({ f: data });
  assert.throws(() => s.execute([]), /program/);
  assert.throws(() => s.execute(["a", new Output("/abs")]), /must be relative/);
  assert.throws(() => s.execute(["a", new Output("../up")]), /\.\./);
  assert.throws(
    () => s.execute(["a", new Output("o"), new Output("o")]),
    /used twice/,
  );
  assert.throws(() => s.execute(["a"], { stdin: dir }), /stdin must be a blob/);
  assert.throws(
    () => s.execute(["a"], { stdout: new Output("x", { path: "p" }) }),
    /path/,
  );
  assert.throws(() => s.execute(["a", new Input("i")]), /no data object/);
  assert.throws(
    () =>
      s.execute([
        "a",
        new Input("j", { dataObject: data, contentType: "json" }),
      ]),
    /expects 'json'/,
  );
  assert.throws(() => new Program(["a", new Input()]), /needs a label/);
  assert.throws(
    () => new Program(["a", new Input("x", { dataObject: data })]),
    /without data/,
  );
  const p = new Program(["cat", new Input("x")]);
  assert.throws(() => s.program(p, {}), /no object for input 'x'/);
  assert.throws(
    () => s.program(p, { x: data, y: data }),
    /no input labelled 'y'/,
  );
});

/** The governor side of `buildin/run` is in the tree. */
const HAVE_RUN = Deno.readTextFileSync(new URL("../common/builtin_tasks.ts", import.meta.url))
  .includes("buildin/run");

Deno.test({ name: "execute against a real cluster", ignore: !HAVE_RUN }, async (t) => {
  await using cluster = await TestCluster.start({ governors: [2] });
  const client: Client = await cluster.client();

  await t.step(
    "grep with the input mapped to a random file, stdout as the output",
    async () => {
      await using session = await client.newSession();
      const data = session.blob("It is\nrainy day\n");
      const task = session.execute(["grep", "rain", data], { stdout: true });
      task.output.keep();
      await session.submit();
      assert.equal((await task.output.fetch()).text(), "rainy day\n");
      assert.equal(task.name, undefined); // unnamed unless asked, as in the Python client
      assert.equal(task.output.label, "stdout");
    },
  );

  await t.step(
    "two outputs (tee), stdin, Output in the arguments",
    async () => {
      await using session = await client.newSession();
      const task = session.execute(["tee", new Output("output1")], {
        stdout: "output2",
        stdin: session.blob("data\n"),
      }).keepOutputs();
      await session.submit();
      const [one, two] = await task.fetchOutputs();
      assert.equal(one!.text(), "data\n");
      assert.equal(two!.text(), "data\n");
      assert.deepEqual(task.outputs.labels, ["output2", "output1"]);
    },
  );

  await t.step(
    "shell, inputPaths, outputPaths with paths, writable input",
    async () => {
      await using session = await client.newSession();
      const data = session.blob("b\na\nc\n");
      const task = session.execute(
        "sort x > y && echo extra >> x && cat x > log.txt",
        {
          shell: true,
          inputPaths: [new Input("x", { dataObject: data, write: true })],
          outputPaths: [
            "y",
            new Output("log", { path: "log.txt", contentType: "text" }),
          ],
        },
      ).keepOutputs();
      await session.submit();
      assert.equal((await task.outputs.get("y").fetch()).text(), "a\nb\nc\n");
      const log = await task.outputs.get("log").fetch();
      assert.equal(log.text(), "b\na\nc\nextra\n");
      assert.equal(log.contentType, "text");
    },
  );

  await t.step("directories in and out", async () => {
    await using session = await client.newSession();
    const dir = session.makeDirectory({
      "a.txt": session.blob("A"),
      "s/b.txt": session.blob("B"),
    });
    const task = session.execute(
      [
        "cp",
        "-r",
        new InputDir("in", { dataObject: dir }),
        new OutputDir("out"),
      ],
    );
    const listing = session.execute(["ls", "-R", task.output], { stdout: true })
      .keepOutputs();
    const b = session.sliceDirectory(task.output, "s/b.txt").keepOutputs();
    await session.submit();
    assert.equal((await b.output.fetch()).text(), "B");
    assert.match((await listing.output.fetch()).text(), /a\.txt[\s\S]*b\.txt/);
  });

  await t.step("a Program used twice", async () => {
    await using session = await client.newSession();
    const grep = new Program([
      "grep",
      "rain",
      new Input("text", { path: "my_file" }),
    ], {
      stdout: true,
    });
    const t1 = session.program(grep, { text: session.blob("rain\nsun\n") })
      .keepOutputs();
    const t2 = grep.task(session, { text: session.blob("no\nrainy\n") })
      .keepOutputs();
    await session.submit();
    assert.equal((await t1.output.fetch()).text(), "rain\n");
    assert.equal((await t2.output.fetch()).text(), "rainy\n");
  });

  await t.step(
    "a failing program: exit code and stderr in the TaskError",
    async () => {
      await using session = await client.newSession();
      const task = session.execute("echo oops >&2; exit 3", {
        shell: true,
        stdout: true,
      });
      task.output.keep();
      await session.submit();
      await assert.rejects(task.output.fetch(), (e) => {
        assert.ok(e instanceof TaskError);
        assert.match(e.message, /3/);
        assert.match(e.message, /oops/);
        assert.match(e.message, /execute_test\.ts/);
        return true;
      });
    },
  );

  await t.step("a missing output fails the task naming it", async () => {
    await using session = await client.newSession();
    session.execute("true", { outputPaths: ["never-made"] });
    await session.submit();
    await assert.rejects(session.waitAll(), (e) => {
      assert.ok(e instanceof TaskError);
      assert.match(e.message, /never-made/);
      return true;
    });
  });
});

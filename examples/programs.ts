/**
 * Running external programs with the TypeScript client: `execute` with inputs mapped to files,
 * stdin and stdout, shell commands, outputs read from files and directories, and a `Program`
 * used as a factory of tasks.
 *
 * Start Rain first (`./rain start --simple`), then run
 * `node_modules/.bin/deno run -A examples/programs.ts [HOST[:PORT]]` (default localhost:7210).
 */
import { Client, Input, Output, OutputDir, Program } from "../client_ts/mod.ts";

const grep = new Program(["grep", "rain", new Input("text", { path: "my_file" })], {
  stdout: true,
});

await using client = await Client.connect(Deno.args[0] ?? "localhost:7210");
await using session = await client.newSession({ name: "programs" });

const data = session.blob("It is\nrainy day\n");

// `data` is mapped to a randomly named file whose name is the last argument.
const found = session.execute(["grep", "rain", data], { stdout: true }).keepOutputs();

// Two outputs: a file the program writes (named in the arguments) and its stdout.
const tee = session.execute(["tee", new Output("copy")], { stdin: data, stdout: "out" })
  .keepOutputs();

// A shell command with a writable input and a directory as its output.
const tree = session.execute("mkdir -p out/nested && cp text out/nested/ && echo more >> text", {
  shell: true,
  inputPaths: [new Input("text", { dataObject: data, write: true })],
  outputPaths: [new OutputDir("out")],
}).keepOutputs();

// The Program's input bound by its label.
const fromProgram = session.program(grep, { text: data }).keepOutputs();

await session.submit();
console.log("grep:", JSON.stringify((await found.output.fetch()).text()));
const [out, copy] = await tee.fetchOutputs();
if (!out || !copy) throw new Error("tee has two outputs");
console.log("tee:", out.text() === copy.text() ? "stdout and file agree" : "outputs differ");
const entries = await (await tree.output.fetch()).entries();
console.log("directory:", entries.map((e) => `${e.type} ${e.name}`).sort().join(", "));
console.log("program:", JSON.stringify((await fromProgram.output.fetch()).text()));

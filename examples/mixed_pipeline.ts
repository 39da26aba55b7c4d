/**
 * A mixed pipeline with the TypeScript client: built-in tasks, external programs and Python
 * code in one graph. A text is split into chunks by `split`, each chunk's words are counted by a
 * Python script, the counts are merged by another Python script, ranked by `sort | head`, and
 * the report is assembled with built-in tasks (a constant header, concat, makeDirectory).
 * (Python functions as tasks, `@remote`, are a feature of the Python client; here Python runs as
 * a program.)
 *
 * Start Rain first (`./rain start --simple`), then run
 * `node_modules/.bin/deno run -A examples/mixed_pipeline.ts [HOST[:PORT]]`.
 */
import { Client, Input, Program } from "../client_ts/mod.ts";

const TEXT = `Rain is a framework for distributed task pipelines.
A pipeline is a graph of tasks and data objects.
Tasks run on governors; the server schedules them.
Data objects are blobs or directories; tasks read and create them.
`;
const CHUNKS = 3;

const COUNT = `
import json, sys
counts = {}
for word in sys.stdin.read().lower().split():
    word = word.strip(".,;:")
    counts[word] = counts.get(word, 0) + 1
json.dump(counts, sys.stdout)
`;
const MERGE = `
import json, sys
total = {}
for path in sys.argv[1:]:
    with open(path) as f:
        for word, n in json.load(f).items():
            total[word] = total.get(word, 0) + n
sys.stdout.write("".join("{} {}\\n".format(n, w) for w, n in total.items()))
`;

// A reusable program: the Python word counter, its stdin bound at each use.
const countWords = new Program(["python3", "-c", COUNT], {
  stdin: new Input("chunk"),
  stdout: "counts",
  name: "count words",
});

await using client = await Client.connect(Deno.args[0] ?? "localhost:7210");
await using session = await client.newSession({ name: "mixed pipeline" });

const text = session.blob(TEXT, { label: "text" });

// A program with several outputs: `split` writes x00, x01, … in its working directory.
const chunks = session.execute(
  ["split", "-n", `l/${CHUNKS}`, "-d", text],
  { outputPaths: Array.from({ length: CHUNKS }, (_, i) => `x${String(i).padStart(2, "0")}`) },
).outputs.toArray();

// Python, one task per chunk, then one merging them (each input mapped to a file).
const partial = chunks.map((chunk) => session.program(countWords, { chunk }));
const merged = session.execute(["python3", "-c", MERGE, ...partial], {
  stdout: true,
  name: "merge counts",
});

// Programs again: the most frequent words first.
const ranked = session.execute("sort -k1,1nr -k2 | head -n 5", {
  shell: true,
  stdin: merged,
  stdout: true,
});

// Built-in tasks: a header joined with the ranking; a directory with the report and the input.
const report = session.concat([session.blob("Top words:\n"), ranked]).keepOutputs();
const bundle = session.makeDirectory({ "report.txt": report, "input/text.txt": text })
  .keepOutputs();

await session.submit();
console.log((await report.output.fetch()).text().trimEnd());
const files = (await (await bundle.output.fetch()).entries())
  .filter((e) => e.type === "file").map((e) => e.name).sort();
console.log("result directory:", files.join(", "));

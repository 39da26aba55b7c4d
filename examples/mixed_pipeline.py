"""A mixed pipeline: built-in tasks, external programs and Python tasks in one graph.

A text is split into chunks by a program (`split`), each chunk's words are counted by a Python
task, the counts are merged by another Python task, sorted by a program (`sort`), and the
report is assembled with built-in tasks (a constant header, Concat, MakeDirectory).

Start Rain first (`./rain start --simple`), then run
`/usr/bin/python3 examples/mixed_pipeline.py`. Optional arguments: HOST PORT of the server
(default localhost 7210).
"""
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "client_py"))

from rain.client import Client, Input, Output, blob, remote, tasks  # noqa: E402

TEXT = """Rain is a framework for distributed task pipelines.
A pipeline is a graph of tasks and data objects.
Tasks run on governors; the server schedules them.
Data objects are blobs or directories; tasks read and create them.
"""
CHUNKS = 3


@remote(outputs=[Output(encode="json")])
def count_words(ctx, chunk):
    counts = {}
    for word in chunk.get_str().lower().split():
        word = word.strip(".,;:")
        counts[word] = counts.get(word, 0) + 1
    return counts


@remote()
def merge_counts(ctx, *partials):
    total = {}
    for partial in partials:
        for word, n in partial.load().items():
            total[word] = total.get(word, 0) + n
    ctx.debug("{} distinct words", len(total))
    return "".join("{} {}\n".format(n, word) for word, n in total.items())


host = sys.argv[1] if len(sys.argv) > 1 else "localhost"
port = int(sys.argv[2]) if len(sys.argv) > 2 else 7210

client = Client(host, port)

with client.new_session() as session:
    text = blob(TEXT, label="text")

    # A program with several outputs: `split` makes x00, x01, ... in its working directory.
    chunks = tasks.Execute(
        ["split", "-n", "l/{}".format(CHUNKS), "-d", Input("text", dataobj=text)],
        output_paths=["x{:02}".format(i) for i in range(CHUNKS)]).outputs

    # Python tasks: one per chunk, then one merging their (JSON) results.
    partial_counts = [count_words(chunk) for chunk in chunks]
    merged = merge_counts(*partial_counts)

    # A program on the Python task's output: the most frequent words first.
    ranked = tasks.Execute("sort -k1,1nr -k2 | head -n 5", shell=True, stdin=merged, stdout=True)

    # Built-in tasks: a constant header and the ranking joined; a directory with the report and
    # the original text.
    report = tasks.Concat((blob("Top words:\n"), ranked))
    bundle = tasks.MakeDirectory({"report.txt": report, "input/text.txt": text})
    report.output.keep()
    bundle.output.keep()

    session.submit()
    print(report.output.fetch().get_str(), end="")
    with tempfile.TemporaryDirectory() as out:
        bundle.output.fetch().write(os.path.join(out, "result"))
        files = sorted(os.path.relpath(os.path.join(d, f), os.path.join(out, "result"))
                       for d, _, names in os.walk(os.path.join(out, "result")) for f in names)
        print("result directory:", ", ".join(files))

client.close()

r"""Tasks of your own executor (docs/guide/executors.md, executors-typescript.md): a Task class
for the task type "example1/hello" of the example executor written with the TypeScript
executor library (executor/example.ts), and its other tasks.

Start Rain with the executor registered (from the repository root; the governor starts the
command given in its config, with absolute paths):

    printf '[executors.example1]\ncommand = ["%s", "run", "-A", "%s"]\n' \
        "$PWD/node_modules/.bin/deno" "$PWD/executor/example.ts" > /tmp/rain-executors.toml
    ./rain start --simple --governor-config /tmp/rain-executors.toml

then run `/usr/bin/python3 examples/own_executor.py`. Optional arguments: HOST PORT (default
localhost 7210).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "client_py"))

from rain.client import Client, Output, Task, TaskException, blob  # noqa: E402


class Hello(Task):
    """ Task takes one blob as input and puts b"Hello " before
        and "!" after the input. """

    TASK_TYPE = "example1/hello"

    def __init__(self, obj):
        # Define task with one input and one output
        super().__init__(inputs=(obj,), outputs=1)


class Stats(Task):
    """A JSON list of numbers in, {"count", "sum", "mean"} out."""

    TASK_TYPE = "example1/stats"

    def __init__(self, numbers):
        super().__init__(inputs=(numbers,), outputs=(Output("stats", content_type="json"),))


host = sys.argv[1] if len(sys.argv) > 1 else "localhost"
port = int(sys.argv[2]) if len(sys.argv) > 2 else 7210

client = Client(host, port)

with client.new_session() as session:
    a = blob("world")
    t = Hello(a)
    t.output.keep()
    s = Stats(blob([2, 4, 9], encode="json"))
    s.output.keep()
    session.submit()
    print(t.output.fetch().get_bytes())  # prints b'Hello world!'
    print(s.output.fetch().load())
    s.update()
    print("info.user:", s.info.user, "debug:", s.info.debug)

# A failing task of the executor fails its session with the executor's message.
with client.new_session() as session:
    Task(inputs=(blob("no luck today"),), outputs=0, task_type="example1/fail")
    session.submit()
    try:
        session.wait_all()
    except TaskException as error:
        # The first paragraph: which task failed where, and the executor's message.
        print("failed as expected:", " ".join(str(error).split("\n\n")[0].split("\n")))

client.close()

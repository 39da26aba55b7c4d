"""Python tasks (docs/guide/python-tasks.md): functions decorated with @remote run on the
governors; data objects arrive as data instances; several outputs; encoded outputs; the debug
stream and user attributes.

Start Rain first (`./rain start --simple`), then run `/usr/bin/python3 examples/python_tasks.py`.
Optional arguments: HOST PORT of the server (default localhost 7210).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "client_py"))

from rain.client import Client, Input, Output, blob, remote  # noqa: E402


@remote()
def hello(ctx, data1, data2):
    return data1 + data2.get_bytes()


@remote(outputs=("words", "lines"))
def count(ctx, text):
    content = text.get_str()
    return {"words": str(len(content.split())), "lines": str(len(content.splitlines()))}


@remote(inputs={"numbers": Input(load=True)}, outputs=[Output(encode="json")])
def stats(ctx, numbers):
    ctx.debug("got {} numbers", len(numbers))
    ctx.info.user["total"] = sum(numbers)
    return {"min": min(numbers), "max": max(numbers), "mean": sum(numbers) / len(numbers)}


host = sys.argv[1] if len(sys.argv) > 1 else "localhost"
port = int(sys.argv[2]) if len(sys.argv) > 2 else 7210

client = Client(host, port)

with client.new_session() as session:
    t = hello(b"Hello ", blob("Rain!"))
    t.output.keep()
    c = count(blob("It is\nrainy day\n"))
    c.keep_outputs()
    s = stats(blob([3, 1, 4, 1, 5], encode="json"))
    s.output.keep()
    session.submit()
    session.wait_all()
    print(t.output.fetch().get_bytes())  # Prints b'Hello Rain!'
    print("words", c.outputs["words"].fetch().get_str(),
          "lines", c.outputs["lines"].fetch().get_str())
    print("stats", s.output.fetch().load())
    s.update()
    print("user info", s.info.user, "debug:", s.info.debug)

client.close()

"""Tasks and data objects (docs/guide/tasks-and-objects.md): constants, Concat, fetching, task
chaining with Sleep, several outputs, waiting for tasks and objects, attributes.

Start Rain first (`./rain start --simple`), then run
`/usr/bin/python3 examples/tasks_and_objects.py`. Optional arguments: HOST PORT of the server
(default localhost 7210).
"""
import os
import sys

# Use the client of this repository without installing it.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "client_py"))

from rain.client import Client, Output, blob, tasks  # noqa: E402

host = sys.argv[1] if len(sys.argv) > 1 else "localhost"
port = int(sys.argv[2]) if len(sys.argv) > 2 else 7210

client = Client(host, port)

# Task definition and submission: the graph is built first, then submitted.
with client.new_session() as session:
    a = blob("Hello ")    # Create a definition of data object in the current session
    b = blob("world!")
    tasks.Concat([a, b])  # A task that concatenates its inputs
    session.submit()      # Send the graph to the server, where the computation runs
    session.wait_all()    # Wait until all submitted tasks are completed
    print("submitted and finished")

# Inter-task dependencies: an output of one task is the input of another.
with client.new_session() as session:
    a = blob("Hello ")
    b = blob("world!")
    t1 = tasks.Sleep(b, 0.5)   # Waits half a second, then returns 'b'
    t2 = tasks.Concat((a, t1))  # A task with one output stands for that output
    t2.output.keep()            # Keep the result so that it can be fetched
    session.submit()
    print(t2.output.fetch().get_bytes())  # b'Hello world!' (after about half a second)

# More outputs: 'cat data | tee output1 > output2'.
with client.new_session() as session:
    data = blob("Rain makes grain\n")
    t = tasks.Execute(["tee", Output("output1")], stdout="output2", stdin=data)
    t.keep_outputs()
    session.submit()
    output1, output2 = t.fetch_outputs()
    print(t.outputs["output1"].label, output1.get_str().strip(), output2.get_str().strip())

# Waiting for objects and tasks; attributes (spec and info).
with client.new_session() as session:
    a = blob("Hello world")
    t1 = tasks.Sleep(a, 0.2)
    t2 = tasks.Sleep(a, 0.4)
    t1.spec.user["step"] = "first"
    session.submit()
    t1.wait()            # Blocks until t1 is finished, independently of t2
    t2.output.wait()     # Waits until a data object is finished
    session.wait([t1, t2.output])
    t1.update()          # Downloads the current attributes
    print("t1", t1.state.name, "on a governor:", bool(t1.info.governor),
          "user spec:", t1.spec.user)

client.close()

"""Hello world of Rain (docs/guide/getting-started.md): concatenates two strings on a governor.

Start Rain first (`./rain start --simple`), then run `/usr/bin/python3 examples/hello.py`.
Optional arguments: HOST PORT of the server (default localhost 7210). Needs only Python's
standard library (cloudpickle is for Python tasks, @remote).
"""
import os
import sys

# Use the client of this repository without installing it.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "client_py"))

from rain.client import Client, blob, tasks  # noqa: E402

host = sys.argv[1] if len(sys.argv) > 1 else "localhost"
port = int(sys.argv[2]) if len(sys.argv) > 2 else 7210

# Connect to server
client = Client(host, port)

# Create a new session
with client.new_session() as session:

    # Create task (and two data objects)
    task = tasks.Concat((blob("Hello "), blob("world!"),))

    # Mark that the output should be kept after submit
    task.output.keep()

    # Submit all created tasks to server
    session.submit()

    # Wait for completion of task and fetch results and get it as bytes
    result = task.output.fetch().get_bytes()

    # Prints b'Hello world!'
    print(result)

"""Multiple submits (docs/guide/tasks-and-objects.md, "Submitting in steps"): a graph submitted in
steps, later steps using kept objects of earlier ones; then an iterative pipeline whose next
step depends on results fetched from the previous one.

Start Rain first (`./rain start --simple`), then run
`/usr/bin/python3 examples/multiple_submits.py`. Optional arguments: HOST PORT of the server
(default localhost 7210).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "client_py"))

from rain.client import Client, blob, tasks  # noqa: E402

host = sys.argv[1] if len(sys.argv) > 1 else "localhost"
port = int(sys.argv[2]) if len(sys.argv) > 2 else 7210

client = Client(host, port)

# Rain 0.4's user guide example: objects of earlier submits may be used when kept.
with client.new_session() as session:
    a = blob("Hello world")
    t1 = tasks.Sleep(a, 0.1)
    t1.output.keep()

    session.submit()  # First submit

    t2 = tasks.Sleep(t1.output, 0.1)

    session.submit()  # Second submit
    session.wait_all()  # Wait until everything is finished

    t3 = tasks.Sleep(t1.output, 0.1)
    t3.output.keep()

    session.submit()  # Third submit
    session.wait_all()  # Wait again until everything is finished
    print("third submit:", t3.output.fetch().get_bytes())

# Growing a result step by step: each round appends to the text of the previous round until
# it is long enough; what to submit next is decided from what was fetched.
with client.new_session() as session:
    text = blob("rain")
    text.keep()
    session.submit()
    rounds = 0
    while len(text.fetch().get_bytes()) < 20:
        longer = tasks.Concat((text, blob(" and rain")))
        longer.output.keep()
        session.submit()
        text.unkeep()  # the previous round is not needed any more
        text = longer.output
        rounds += 1
    print("after {} more submits: {}".format(rounds, text.fetch().get_str()))

client.close()

"""Pipelines with several task names, transfers between governors and a failure, for the dashboard
tests (tests/test_dashboard.py) and for looking at the dashboard by hand:

    PYTHONPATH=client_py /usr/bin/python3 tests/dashboard_pipeline.py HOST:PORT
"""

import sys

from rain.client import Client, TaskException, blob, remote, tasks

MISSING = "/nonexistent-rain-dashboard-test/input.csv"


def etl(client, width=8, name="etl pipeline"):
    """generate -> transform -> simulate -> reduce; returns the session id."""
    with client.new_session(name) as session:
        generated = [tasks.Sleep(blob("part {}\n".format(i) * 200), 0.15, name="generate")
                     for i in range(width)]
        transformed = [tasks.Concat(generated[i:i + 2], name="transform")
                       for i in range(0, width, 2)]
        simulated = [tasks.Sleep(t, 0.25, name="simulate") for t in transformed]
        result = tasks.Concat(simulated, name="reduce")
        result.output.keep()
        session.submit()
        session.wait_all()
        result.output.fetch()
        return session.session_id


def failing(client):
    """A session whose load-input task fails (its consumer never runs); returns the session id."""
    with client.new_session("failing pipeline") as session:
        tasks.Sleep(blob(b"x"), 0.1, name="prepare")
        loaded = tasks.Load(MISSING, name="load-input")
        tasks.Concat([loaded, blob(b"!")], name="use-input")
        session.submit()
        try:
            session.wait_all()
        except TaskException:
            pass
        return session.session_id


# An error line without a space to break it: the inspector must wrap it, not widen the page.
LONG_ERROR = "no-such-sample:" + "x" * 3000


@remote()
def analyse(ctx, count, label, data, options):
    raise ValueError(LONG_ERROR)


def python_failure(client):
    """A Python task with plain and data arguments that fails with a long error; returns
    (session id, task id)."""
    with client.new_session("python failure") as session:
        task = analyse(3, "sample-a", blob(b"raw data"), {"depth": [1, 2.5], "fast": True})
        session.submit()
        try:
            session.wait_all()
        except TaskException:
            pass
        return session.session_id, task.id[1]


def wide(client, width=50):
    """``width`` parallel tasks and their reduce: one layer too wide to draw task by task."""
    with client.new_session("wide pipeline") as session:
        parts = [tasks.Concat([blob(str(i).encode())], name="part") for i in range(width)]
        tasks.Concat(parts, name="merge")
        session.submit()
        session.wait_all()
        return session.session_id


def tiny(client, count=600):
    """Many tasks much shorter than a millisecond (the clocks' resolution)."""
    with client.new_session("tiny tasks") as session:
        for i in range(count):
            tasks.Concat([blob(b"a"), blob(b"b")], name="tiny")
        session.submit()
        session.wait_all()
        return session.session_id


def gated(client, gate, cpus, width, name="live pipeline"):
    """``width`` tasks that run until ``gate`` opens (``cpus`` of them start at once), each
    with a consumer; returns the open session."""
    session = client.new_session(name)
    with session.bind_only():
        for i in range(width):
            first = gate.task("wave-1-{}".format(i))
            tasks.Concat([first.output, blob(b"!")], name="wave-2")
    session.submit()
    return session


if __name__ == "__main__":
    host, port = sys.argv[1].rsplit(":", 1)
    c = Client(host, int(port))
    print("etl session", etl(c))
    print("failing session", failing(c))

"""Pipelines with several task names, transfers between governors and a failure, for the dashboard
tests (tests/test_dashboard.py) and for looking at the dashboard by hand:

    PYTHONPATH=client_py /usr/bin/python3 tests/dashboard_pipeline.py HOST:PORT
"""

import sys

from rain.client import Client, TaskException, blob, tasks

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
    """A session whose load-input task fails; returns the session id."""
    with client.new_session("failing pipeline") as session:
        tasks.Sleep(blob(b"x"), 0.1, name="prepare")
        tasks.Load(MISSING, name="load-input")
        session.submit()
        try:
            session.wait_all()
        except TaskException:
            pass
        return session.session_id


def slow(client, count=24, seconds=0.25, name="live pipeline"):
    """Many short sleeps (the live-update test watches them finish); returns the session."""
    session = client.new_session(name)
    with session.bind_only():
        for i in range(count):
            tasks.Sleep(blob(b"y"), seconds, name="step-a" if i % 2 else "step-b")
    session.submit()
    return session


if __name__ == "__main__":
    host, port = sys.argv[1].rsplit(":", 1)
    c = Client(host, int(port))
    print("etl session", etl(c))
    print("failing session", failing(c))

"""Executors other than `py`: the TypeScript example (executor/example.ts), a Python executor
written with rain.executor.serve, and executors dying with their governor."""

import os
import signal
import sys

import pytest

from rain.client import Output, Task, TaskException, blob
from rain_testing import CLIENT_PY, REPO, wait_until

DENO = os.path.join(REPO, "node_modules", "deno", "deno")
if not os.path.exists(DENO):
    DENO = os.path.join(REPO, "node_modules", ".bin", "deno")
EXAMPLE = [DENO, "run", "-A", "--no-check", "--config", os.path.join(REPO, "deno.json"),
           os.path.join(REPO, "executor", "example.ts")]
UPPER = "env PYTHONPATH={} {} {}".format(CLIENT_PY, sys.executable,
                                         os.path.join(REPO, "tests", "executors", "upper.py"))


class Hello(Task):
    """ Task takes one blob as input and puts b"Hello " before
        and "!" after the input. """

    TASK_TYPE = "example1/hello"

    def __init__(self, obj):
        super().__init__(inputs=(obj,), outputs=1)


class Stats(Task):
    TASK_TYPE = "example1/stats"

    def __init__(self, obj):
        super().__init__(inputs=(obj,), outputs=1)


@pytest.fixture(scope="module")
def executors_cluster():
    from rain_testing import RainCluster
    cluster = RainCluster((2, 2), executors={"example1": EXAMPLE, "upper": UPPER})
    yield cluster
    cluster.stop()


def test_typescript_example_executor(executors_cluster):
    client = executors_cluster.client()
    # "Writing Own Executors" / "Client API" of the user guide (plus keep(), needed to fetch).
    with client.new_session() as session:
        a = blob("Hello world")
        t = Hello(a)
        t.output.keep()
        s = Stats(blob([1, 2, 3], encode="json"))
        s.output.keep()
        session.submit()
        assert t.output.fetch().get_bytes() == b"Hello Hello world!"
        assert s.output.fetch().load() == {"count": 3, "sum": 6, "mean": 2}
        s.update()
        assert s.info.user == {"count": 3}
        assert s.info.debug == "summed 3 numbers"
    with client.new_session() as session:
        Task(inputs=[blob(b"boom")], outputs=0, task_type="example1/fail")
        session.submit()
        with pytest.raises(TaskException, match="boom"):
            session.wait_all()


def test_typescript_executor_tasks_see_their_resources_and_attempt(executors_cluster):
    client = executors_cluster.client()
    with client.new_session() as session:
        t = Task(inputs=[], outputs=[Output("given", content_type="json")],
                 task_type="example1/given", cpus=2)
        t.output.keep()
        session.submit()
        given = t.output.fetch().load()
    assert given["attempt"] == 1
    assert given["resources"]["cpus"] == 2


def test_python_executor_written_with_serve(executors_cluster):
    client = executors_cluster.client()
    with client.new_session() as session:
        u = Task(inputs=[blob("shout")], outputs=1, task_type="upper/upper")
        s = Task(inputs=[blob(b"abcdef")], outputs=2, task_type="upper/split", config={"at": 2})
        u.keep_outputs()
        s.keep_outputs()
        session.submit()
        assert u.output.fetch().get_bytes() == b"SHOUT"
        assert [o.fetch().get_bytes() for o in s.outputs] == [b"ab", b"cdef"]
        session.update([u, s])
        assert u.info.debug == "upper-casing 5 bytes"
        assert s.info.user == {"length": 6}
    with client.new_session() as session:
        Task(inputs=[], outputs=1, task_type="upper/lower")
        session.submit()
        with pytest.raises(TaskException, match="has no method 'lower'"):
            session.wait_all()


def test_executors_die_with_their_governor(rain_cluster):
    cluster = rain_cluster(governors=[2])
    client = cluster.client()
    marker = os.path.join(cluster.workspace, "pids")
    from rain.client import remote

    @remote()
    def record(ctx, path, wait):
        with open(path, "a") as f:
            f.write("{}\n".format(os.getpid()))
        import time
        time.sleep(wait)
        return b""

    session = client.new_session()
    with session.bind_only():
        record(marker, 0)  # an executor left idle
    session.submit()
    session.wait_all()
    with session.bind_only():
        record(marker, 120)  # one busy in a long task
        record(marker, 120)
    session.submit()
    assert wait_until(lambda: os.path.exists(marker) and len(open(marker).read().split()) >= 3)
    pids = {int(p) for p in open(marker).read().split()}
    assert all(_alive(p) for p in pids)
    os.killpg(cluster.governors[0].pid, signal.SIGKILL)
    assert wait_until(lambda: not any(_alive(p) for p in pids), timeout=10)


def _alive(pid):
    try:
        with open("/proc/{}/stat".format(pid)) as f:
            return f.read().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return False

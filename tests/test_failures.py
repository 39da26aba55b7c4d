"""Session failure semantics, closing, and client disconnects."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

from rain.client import RainException, SessionException, TaskException, blob, tasks
from rain_testing import subprocess_env
from rain_testing import Gate, wait_until

MISSING = "/nonexistent-rain-test-dir/missing-file"


def running_tasks(client):
    return {task for g in client.get_server_info()["governors"] for task in g["tasks"]}


def server_knows_failed(cluster, session):
    """Whether the server has marked ``session`` failed (its live status on the monitoring
    port), without the session's client hearing of it."""
    url = "http://127.0.0.1:{}/api/v1/status?session={}".format(
        cluster.http_port, session.session_id)
    with urllib.request.urlopen(url, timeout=30) as response:
        return any(s["failed"] for s in json.load(response)["sessions"])



def test_failed_task_explains_itself_and_fails_the_session(client):
    with client.new_session() as session:
        good = tasks.Concat([blob(b"a")])
        good.output.keep()
        load = tasks.Load(MISSING)  # the failing line
        session.submit()
        with pytest.raises(TaskException) as error:
            session.wait_all()
        text = str(error.value)
        assert MISSING in text  # the governor's message
        assert "{}/{}".format(*load.id) in text  # which task
        assert __file__ in text and "# the failing line" in text  # where it was created
        # Every later operation raises the same error again, until the session is closed.
        for again in (session.wait_all, lambda: session.wait([good]), good.output.fetch,
                      lambda: session.update([good]), lambda: session.unkeep([good.output]),
                      session.submit, good.wait, load.update):
            with pytest.raises(TaskException) as repeated:
                again()
            assert str(repeated.value) == text
    assert not session.active  # closing a failed session does not raise


def test_failure_reported_by_the_server_on_first_contact(client, cluster):
    with client.new_session() as session:
        tasks.Load(MISSING)
        kept = blob(b"x")
        kept.keep()
        session.submit()
        # The session fails on the server; its client does not know yet.
        assert wait_until(lambda: server_knows_failed(cluster, session), timeout=30)
        with pytest.raises(TaskException) as error:
            kept.fetch()
        assert MISSING in str(error.value) and __file__ in str(error.value)
        with pytest.raises(TaskException, match="cannot open '" + MISSING):
            session.submit()


def test_other_sessions_are_unaffected(client, cluster):
    other_client = cluster.client()
    failing = client.new_session()
    fine = client.new_session()
    foreign = other_client.new_session()
    with failing.bind_only():
        tasks.Load(MISSING)
    failing.submit()
    with pytest.raises(TaskException, match="cannot open '" + MISSING):
        failing.wait_all()
    for session in (fine, foreign):
        with session.bind_only():
            t = tasks.Concat([blob(b"still "), blob(b"working")])
            t.output.keep()
        session.submit()
        assert t.output.fetch().get_bytes() == b"still working"
    for session in (failing, fine, foreign):
        session.close()
    other_client.close()


def test_blocked_waiter_is_woken_and_running_tasks_stop(client, tmp_path):
    gate = Gate(tmp_path)
    with client.new_session() as session:
        long_task = tasks.Sleep(blob(b"x"), 30)
        long_task.output.keep()
        # Fails once the gate opens (after the waiters started): the export path cannot be
        # created.
        tasks.Store(gate.task("trigger"), MISSING)
        session.submit()
        assert wait_until(lambda: long_task.id in running_tasks(client))
        outcomes = []

        def blocked(operation):
            try:
                operation()
                outcomes.append("finished")
            except TaskException as error:
                outcomes.append(error)

        threads = [threading.Thread(target=blocked, args=(operation,))
                   for operation in (long_task.wait, long_task.output.fetch)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        gate.open()
        for thread in threads:
            thread.join(30)
            assert not thread.is_alive()
        assert time.monotonic() - started < 20  # woken by the failure, not the 30 s sleep
        assert len(outcomes) == 2
        for outcome in outcomes:
            assert isinstance(outcome, TaskException) and MISSING in str(outcome)
        # The failure stopped the session's other running task.
        assert wait_until(lambda: long_task.id not in running_tasks(client), timeout=30)


def test_session_closed_by_server_side_reasons_is_a_session_exception(client):
    session = client.new_session()
    with session.bind_only():
        t = tasks.Sleep(blob(b"x"), 0)
    session.submit()
    client._api.close_session(session.session_id)  # closed behind the session's back
    with pytest.raises(SessionException) as error:
        t.wait()
    assert not isinstance(error.value, TaskException)
    session.close()  # already closed on the server: no error


CHILD = r"""
import sys, time
from rain.client import Client, tasks, blob
client = Client("127.0.0.1", int(sys.argv[1]))
session = client.new_session("doomed")
with session.bind_only():
    t = tasks.Sleep(blob(b"x"), 60)
session.submit()
print(session.session_id, t.id.id, flush=True)
time.sleep(120)
"""


def test_killed_client_loses_its_sessions(client, cluster):
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(cluster.port)],
                             stdout=subprocess.PIPE, env=subprocess_env())
    try:
        line = child.stdout.readline().decode()
        session_id, task_id = map(int, line.split())
        assert wait_until(lambda: (session_id, task_id) in running_tasks(client))
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
        assert wait_until(lambda: not any(
            task[0] == session_id for task in running_tasks(client)), timeout=30)
        assert wait_until(lambda: not any(
            obj[0] == session_id
            for g in client.get_server_info()["governors"] for obj in g["objects"]), timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()


def test_closed_client_loses_its_sessions(client, cluster):
    leaving = cluster.client()
    session = leaving.new_session()
    with session.bind_only():
        t = tasks.Sleep(blob(b"x"), 60)
    session.submit()
    assert wait_until(lambda: t.id in running_tasks(client))
    leaving.close()
    assert not session.active
    assert wait_until(lambda: t.id not in running_tasks(client), timeout=30)
    with pytest.raises(RainException, match="is closed"):
        session.submit()

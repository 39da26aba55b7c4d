"""Client behaviours of Rain 0.4 that scripts rely on: task names, the 0.4 attribute names
``_session``/``_data``, the active-session stack as a plain push/pop, and Load/LoadDir/Store
with relative paths failing when they run."""

import json
import os
import tempfile
import urllib.error
import urllib.request

import pytest

from rain.client import (DataObject, RainException, Session, Task, TaskException, blob, pickled,
                         tasks)
from rain.client.session import get_active_session
from rain_testing import wait_until


# --- task names -------------------------------------------------------------------------------

def test_every_task_has_a_read_only_name():
    with Session(None, 1):
        source = blob(b"x")
        named = [tasks.Concat([source], name="c"), tasks.Sleep(source, 0, name="s"),
                 tasks.Load("/x", name="l"), tasks.LoadDir("/d", name="ld"),
                 tasks.Store(source, "/y", name="st"),
                 tasks.MakeDirectory({"a": source}, name="md"),
                 tasks.Execute("true", name="e"),
                 Task((source,), 1, task_type="my/type", name="t")]
        assert [t.name for t in named] == ["c", "s", "l", "ld", "st", "md", "e", "t"]
        assert all(t.name == t.spec.name for t in named)
        unnamed = [tasks.Concat([source]), tasks.Execute("sleep 1"),
                   tasks.Execute(["/usr/bin/env", "x"]), tasks.Execute("ls | wc", shell=True),
                   Task((), 1, task_type="my/type")]
        assert [t.name for t in unnamed] == [None] * 5
        with pytest.raises(AttributeError):
            named[0].name = "other"


def test_unnamed_tasks_are_grouped_by_task_type_on_the_server(cluster, client):
    with client.new_session() as session:
        first = tasks.Execute("true")
        second = tasks.Execute(["echo", "x"], stdout=True)
        named = tasks.Execute("true", name="named")
        session.submit()
        session.wait_all()
        assert (first.name, second.name, named.name) == (None, None, "named")
        sid = session.session_id

    def groups():
        url = "http://127.0.0.1:{}/api/v1/sessions/{}/task_groups".format(cluster.http_port, sid)
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return {g["name"]: g["count"] for g in json.load(response)}
        except urllib.error.HTTPError:
            return {}  # the session is not in the event log yet

    # The event log is queryable within a second of the events.
    assert wait_until(lambda: groups() == {"buildin/run": 2, "named": 1}), groups()


# --- the attribute names of Rain 0.4 ------------------------------------------------------------

def test_session_and_data_aliases_are_read_only():
    with Session(None, 1) as session:
        const = blob(b"bytes")
        t = tasks.Concat([const, pickled(1)])
        assert const._session is session and t._session is session
        assert t.output._session is session
        assert const._data == b"bytes" and const._data is const.data
        assert t.output._data is None
        for obj, attribute in ((const, "_session"), (const, "_data"), (t, "_session")):
            with pytest.raises(AttributeError):
                setattr(obj, attribute, None)


# --- the active-session stack -----------------------------------------------------------------

def test_with_nested_in_with_of_the_same_session_pops_only_its_entry():
    s = Session(None, 1)
    with s:
        with s:
            assert get_active_session() is s
        # The inner exit closed the session but left the outer entry on the stack.
        assert not s.active and get_active_session() is s
        with pytest.raises(RainException, match="closed"):
            blob(b"x")
    with pytest.raises(RainException, match="no active session"):
        get_active_session()


def test_with_nested_in_with_against_a_server(client):
    session = client.new_session()
    with session:
        with session:
            t = tasks.Concat([blob(b"a"), blob(b"b")])
            t.output.keep()
            session.submit()
            assert t.output.fetch().get_bytes() == b"ab"
        assert not session.active and get_active_session() is session
    with pytest.raises(RainException):
        get_active_session()


def test_bind_only_pops_only_its_entry():
    a = Session(None, 1)
    b = Session(None, 2)
    with a:
        with a.bind_only():
            assert get_active_session() is a
        assert get_active_session() is a and a.active
        with b.bind_only():
            with a.bind_only():
                assert get_active_session() is a
            assert get_active_session() is b
        assert get_active_session() is a
    assert not a.active and b.active
    b.close()


def test_close_leaves_the_stack_alone():
    outer = Session(None, 1)
    inner = Session(None, 2)
    with outer:
        with inner:
            inner.close()
            assert get_active_session() is inner
            with pytest.raises(RainException, match="closed"):
                blob(b"x")
            # Objects can still be made explicitly in another session.
            assert DataObject(session=outer).session is outer
        assert get_active_session() is outer
        with outer.bind_only():
            outer.close()
            assert get_active_session() is outer
        assert get_active_session() is outer
    with pytest.raises(RainException):
        get_active_session()


def test_an_error_in_the_block_wins_over_the_closed_session():
    s = Session(None, 1)
    with pytest.raises(ValueError, match="from the block"):
        with s:
            s.close()
            raise ValueError("from the block")
    with pytest.raises(RainException):
        get_active_session()


def test_the_default_session_is_active_below_the_stack():
    default = Session(None, 1)
    default.set_as_default()
    other = Session(None, 2)
    with other:
        other.close()
        assert get_active_session() is other
    assert get_active_session() is default
    default.close()
    with pytest.raises(RainException):
        get_active_session()


# --- relative paths on the governor ----------------------------------------------------------

@pytest.mark.parametrize("make,path", [
    (lambda: tasks.Load("rain-relative/in.txt"), "rain-relative/in.txt"),
    (lambda: tasks.LoadDir("rain-relative-dir"), "rain-relative-dir"),
    (lambda: tasks.Store(blob(b"x"), "rain-relative-out.txt"), "rain-relative-out.txt"),
])
def test_relative_paths_fail_when_the_task_runs(client, make, path):
    with client.new_session() as session:
        t = make()
        assert t.spec.config == {"path": path}
        session.submit()  # accepted: the check is the governor's
        with pytest.raises(TaskException, match="path '{}' must be absolute".format(path)):
            t.wait()
        # The error says where the task was created, too.
        with pytest.raises(TaskException, match="test_compat_client.py"):
            session.wait_all()


def test_absolute_paths_still_work(client):
    with tempfile.TemporaryDirectory() as tmp:
        source = os.path.join(tmp, "in.txt")
        with open(source, "wb") as f:
            f.write(b"contents")
        with client.new_session() as session:
            load = tasks.Load(source)
            store = tasks.Store(load, os.path.join(tmp, "out.txt"))
            session.submit()
            store.wait()
        with open(os.path.join(tmp, "out.txt"), "rb") as f:
            assert f.read() == b"contents"


def test_tasks_and_objects_take_attributes_of_the_users_own():
    """Rain 0.4 scripts hang their own attributes on tasks and objects (e.g. the results they
    fetched): the slotted classes still allow it."""
    with Session(None, 1):
        task = tasks.Concat([blob(b"a"), blob(b"b")])
        task.results = ["fetched"]
        task.output.note = "mine"
        assert task.results == ["fetched"] and task.output.note == "mine"

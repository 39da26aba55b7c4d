"""Client behaviour against a real cluster: the user guide's examples, waits, fetches, states,
infos, several sessions and clients."""

import datetime
import threading
import time

import pytest

from rain.client import Output, RainException, Task, blob, pickled, tasks
from rain.client.rpc.common import DataObjectState, TaskState
from rain.common import ID, DataType
from rain_testing import Gate, max_cpus_in_use, wait_until


def test_hello_world(client):
    with client.new_session() as session:
        task = tasks.Concat((blob("Hello "), blob("world!"),))
        task.output.keep()
        session.submit()
        result = task.output.fetch().get_bytes()
        assert result == b"Hello world!"


def test_graph_then_wait_all(client):
    with client.new_session() as session:
        a = blob("Hello ")
        b = blob("world!")
        t = tasks.Concat([a, b])
        session.submit()
        session.wait_all()
        assert t.state == TaskState.finished


def test_fetch_waits_for_the_result(client):
    with client.new_session() as session:
        a = blob("Hello ")
        b = blob("world!")
        t1 = tasks.Sleep(b, 1.0)
        t2 = tasks.Concat((a, t1))
        t2.output.keep()
        started = time.monotonic()
        session.submit()
        result = t2.output.fetch()
        assert result.get_bytes() == b"Hello world!"
        assert time.monotonic() - started >= 0.9


def test_builtin_tasks_example(client, tmp_path):
    source = tmp_path / "data"
    source.write_bytes(b"file data, ")
    target = tmp_path / "result"
    with client.new_session() as session:
        data1 = tasks.Load(str(source))
        data2 = blob("constant data")
        merge = tasks.Concat((data1, data2))
        result = tasks.Sleep(merge, 1.0)
        tasks.Store(result, str(target))
        session.submit()
        session.wait_all()
    assert target.read_bytes() == b"file data, constant data"


def test_wait_for_tasks_and_objects(client, tmp_path):
    gate = Gate(tmp_path)
    with client.new_session() as session:
        a = blob("Hello world")
        t1 = tasks.Sleep(a, 0.5)
        t2 = gate.task("t2")  # runs until the gate opens
        session.submit()
        t1.wait()
        # t1.wait() did not wait for t2: t2 cannot end before the gate opens.
        assert wait_until(lambda: gate.started("t2"))
        assert t2.id in _running_tasks(client)
        assert t1.state == TaskState.finished
        assert t2.state == TaskState.notAssigned  # nobody asked yet
        gate.open()
        t2.output.wait()  # an object need not be kept to be waited for
        assert t2.output.state == DataObjectState.finished
        session.wait([t1, t2.output])
        with pytest.raises(TypeError, match="cannot wait for 'not a task'"):
            session.wait([t1, "not a task"])


def test_wait_all_returns_at_once_without_tasks(client):
    with client.new_session() as session:
        session.wait_all()  # nothing submitted: would block forever if it waited for a task
        blob(b"a constant only")
        session.submit()
        session.wait_all()
        assert session.active


def test_wait_some(client, tmp_path):
    gate = Gate(tmp_path)
    with client.new_session() as session:
        quick = tasks.Sleep(blob(b"q"), 0.1)
        slow = gate.task("slow")  # runs until the gate opens
        session.submit()
        finished_tasks, finished_objects = session.wait_some([quick, slow, slow.output])
        assert finished_tasks == [quick] and finished_objects == []
        assert quick.state == TaskState.finished
        gate.open()
        finished_tasks, finished_objects = session.wait_some([slow.output])
        assert finished_tasks == [] and finished_objects == [slow.output]


def test_multiple_submits(client):
    with client.new_session() as session:
        a = blob("Hello world")
        t1 = tasks.Sleep(a, 0.2)
        t1.output.keep()
        session.submit()
        t2 = tasks.Sleep(t1.output, 0.2)
        session.submit()
        session.wait_all()
        t3 = tasks.Sleep(t1.output, 0.2)
        t3.output.keep()
        session.submit()
        session.wait_all()
        assert t3.output.fetch().get_bytes() == b"Hello world"
        assert t2.state == TaskState.finished
        tasks.Concat([t2.output])  # not kept: cannot be used again
        with pytest.raises(RainException, match="from an earlier submit that is not kept"):
            session.submit()


def test_fetch_of_a_client_constant(client):
    with client.new_session() as session:
        constant = blob(b"constant bytes")
        constant.keep()
        json_constant = blob([1, 2, 3], encode="json")
        json_constant.keep()
        session.submit()
        assert constant.fetch().get_bytes() == b"constant bytes"
        assert constant.fetch().get_bytes() == b"constant bytes"  # again
        instance = json_constant.fetch()
        assert instance.content_type == "json" and instance.load() == [1, 2, 3]


def test_content_types_survive_tasks(client):
    with client.new_session() as session:
        t = tasks.Sleep(pickled({"x": [1, 2]}), 0)
        t.output.keep()
        text = tasks.Concat([blob("žluťoučký ", content_type="text"), blob("kůň")])
        text.output.keep()
        session.submit()
        fetched = t.output.fetch()
        assert fetched.content_type == "pickle" and fetched.load() == {"x": [1, 2]}
        assert text.output.fetch().get_str() == "žluťoučký kůň"


def test_states_and_infos(client, cluster):
    with client.new_session() as session:
        source = blob(b"12345")
        t = tasks.Sleep(source, 0.3, name="the sleep")
        t.output.keep()
        assert t.state is None and t.output.state is None
        session.submit()
        assert t.state == TaskState.notAssigned and t.info is None
        assert t.output.info is None
        session.wait_all()
        assert t.state == TaskState.finished and t.info is None  # no update yet
        t.update()
        assert t.state == TaskState.finished
        info = t.info
        assert info.error == ""
        assert info.governor in cluster.governor_ids(client)
        assert 0.25 <= info.duration < 60  # seconds (not ms), at least the 0.3 s slept
        start = datetime.datetime.fromisoformat(info.start_time.replace("Z", "+00:00"))
        assert abs((datetime.datetime.now(datetime.timezone.utc) - start).total_seconds()) < 60
        t.output.update()
        assert t.output.state == DataObjectState.finished
        assert t.output.info.size == 5
        fetched = t.output.fetch()
        assert fetched.info.size == 5 and fetched.spec.id == t.output.id
        assert fetched.data_type == DataType.BLOB


def test_running_state_is_reported(client):
    with client.new_session() as session:
        t = tasks.Sleep(blob(b"x"), 60)  # killed when the session closes

        def running():
            session.update([t])
            return t.state == TaskState.running

        session.submit()
        assert wait_until(running, timeout=30)
        assert t.info.start_time


def test_unkeep(client):
    with client.new_session() as session:
        t = tasks.Sleep(blob(b"data"), 0)
        t.keep_outputs()
        session.submit()
        assert [d.get_bytes() for d in t.fetch_outputs()] == [b"data"]
        t.output.unkeep()
        assert not t.output.is_kept()
        with pytest.raises(RainException, match="cannot fetch .*: it is not kept"):
            t.output.fetch()
        with pytest.raises(RainException, match="cannot unkeep .*: it is not kept"):
            t.output.unkeep()

        def removed():
            t.output.update()
            return t.output.state == DataObjectState.removed

        assert wait_until(removed, timeout=30)


def test_update_through_the_client(client):
    s1 = client.new_session()
    s2 = client.new_session()
    with s1.bind_only():
        t1 = tasks.Sleep(blob(b"1"), 0)
    with s2.bind_only():
        t2 = tasks.Sleep(blob(b"2"), 0)
        t2.output.keep()
    s1.submit()
    s2.submit()
    s1.wait_all()
    s2.wait_all()
    client.update([t1, t2, t2.output])
    assert t1.info.governor and t2.info.governor
    assert t2.output.state == DataObjectState.finished
    s1.close()
    s2.close()


def test_sessions_are_independent(client, cluster):
    other_client = cluster.client()
    sessions = [client.new_session(), client.new_session(), other_client.new_session()]
    assert len({s.session_id for s in sessions}) == 3
    outputs = []
    for index, session in enumerate(sessions):
        with session.bind_only():
            t = tasks.Concat([blob(b"session "), blob(str(index))])
            assert t.id == ID(session.session_id, 12)
            t.output.keep()
            outputs.append(t.output)
        session.submit()
    for index, (session, output) in enumerate(zip(sessions, outputs)):
        assert output.fetch().get_bytes() == b"session %d" % index
        session.close()
    other_client.close()


def test_waits_from_several_threads(client, tmp_path):
    gate = Gate(tmp_path)
    with client.new_session() as session:
        slow = gate.task("slow")  # runs until the gate opens
        quick = tasks.Sleep(blob(b"q"), 0.1)
        session.submit()
        finished = []
        waiter = threading.Thread(target=lambda: (slow.wait(), finished.append("slow")))
        waiter.start()
        quick.wait()
        finished.append("quick")
        gate.open()
        waiter.join(30)
        assert finished == ["quick", "slow"]


def test_default_session(client):
    session = client.new_session(default=True)
    t = tasks.Concat([blob(b"in the "), blob(b"default session")])
    t.output.keep()
    session.submit()
    assert t.output.fetch().get_bytes() == b"in the default session"
    session.close()


def test_closed_session_refuses_work(client):
    session = client.new_session()
    with session:
        blob(b"x")
    with pytest.raises(RainException, match="is closed"):
        with session:
            pass
    with pytest.raises(RainException, match="is closed"):
        session.submit()


def test_closing_a_session_stops_its_tasks(client):
    session = client.new_session()
    with session.bind_only():
        t = tasks.Sleep(blob(b"x"), 30, cpus=2)
    session.submit()
    assert wait_until(lambda: t.id in _running_tasks(client))
    session.close()
    assert wait_until(lambda: t.id not in _running_tasks(client), timeout=30)
    # Its cpus are free at once: a 2-cpu task of another session runs right away, far sooner
    # than the killed sleep's 30 s.
    with client.new_session() as other:
        quick = tasks.Sleep(blob(b"y"), 0, cpus=2)
        other.submit()
        started = time.monotonic()
        quick.wait()
        assert time.monotonic() - started < 15


def test_server_info(client, cluster, tmp_path):
    info = client.get_server_info()
    assert set(info) == {"governors"}
    assert len(info["governors"]) == cluster.governor_count == 2
    for governor in info["governors"]:
        assert set(governor) >= {"governor_id", "tasks", "objects", "objects_to_delete",
                                 "resources"}
        host, port = governor["governor_id"].rsplit(":", 1)
        assert host == "127.0.0.1" and int(port) > 0
        assert governor["resources"]["cpus"] == 2
        assert set(governor["resources"]) <= {"cpus", "memory", "gpus", "gpu_kind", "custom"}
    gate = Gate(tmp_path)
    with client.new_session() as session:
        t = gate.task("t")  # runs until the gate opens
        t.output.keep()
        session.submit()
        assert wait_until(lambda: t.id in _running_tasks(client))
        holder = [g for g in client.get_server_info()["governors"] if t.id in g["tasks"]]
        assert len(holder) == 1
        assert all(isinstance(i, ID) for i in holder[0]["tasks"])
        gate.open()
        t.wait()
        holder = [g for g in client.get_server_info()["governors"]
                  if t.output.id in g["objects"]]
        assert holder and t.id not in holder[0]["tasks"]


def test_user_task_with_unknown_executor_fails_cleanly(client):
    class Hello(Task):
        TASK_TYPE = "example1/hello"

        def __init__(self, obj):
            super().__init__(inputs=(obj,), outputs=[Output("greeting")])

    with client.new_session() as session:
        t = Hello(blob("Hello world"))
        session.submit()
        with pytest.raises(RainException, match="executor 'example1' is not available"):
            t.wait()


def _running_tasks(client):
    return [task for g in client.get_server_info()["governors"] for task in g["tasks"]]



def test_wait_on_a_finished_object_that_was_removed(client):
    with client.new_session() as session:
        t = tasks.Sleep(blob(b"x"), 0)  # output not kept: removed once finished
        session.submit()
        session.wait_all()
        t.output.update()
        assert t.output.state in (DataObjectState.finished, DataObjectState.removed)
        t.output.wait()  # finished before it was removed: done
        assert t.output.state == DataObjectState.finished


def test_kept_constant_reused_across_submits(client):
    with client.new_session() as session:
        constant = blob(b"shared ")
        constant.keep()
        first = tasks.Concat([constant, blob(b"one")])
        first.output.keep()
        session.submit()
        second = tasks.Concat([constant, blob(b"two")])
        second.output.keep()
        session.submit()
        assert first.output.fetch().get_bytes() == b"shared one"
        assert second.output.fetch().get_bytes() == b"shared two"


def test_closing_a_session_frees_its_objects(client):
    session = client.new_session()
    with session.bind_only():
        t = tasks.Sleep(blob(b"x"), 0)
        t.output.keep()
    session.submit()
    t.wait()

    def stored_objects():
        return {obj for g in client.get_server_info()["governors"] for obj in g["objects"]
                if obj.session_id == session.session_id}

    assert t.output.id in stored_objects()
    session.close()
    assert wait_until(lambda: not stored_objects(), timeout=30)


def test_cpus_are_never_oversubscribed(client, tmp_path):
    # 2 governors of 2 cpus: four 1-cpu tasks run at once, four 2-cpu tasks two at a time.
    for cpus, at_once in ((1, 4), (2, 2)):
        gate = Gate(tmp_path / str(cpus))
        with client.new_session() as session:
            ts = [gate.task("t{}".format(i), cpus=cpus) for i in range(4)]
            session.submit()
            # While the gate is closed none ends: `at_once` tasks are running together.
            assert wait_until(lambda: gate.started_count() >= at_once, timeout=30)
            gate.open()
            session.wait_all()
            session.update(ts)
        assert all(t.state == TaskState.finished for t in ts)
        # From the reported start times and durations: never more than 2 cpus of a governor.
        assert max_cpus_in_use([(t, cpus) for t in ts]) == 2, cpus

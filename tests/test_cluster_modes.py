"""Server and governor modes for testing: RAIN_TEST_MODE placement hints and delayed deletion
(RAIN_DELETE_LIST_TIMEOUT), each on a private cluster."""

import time

from rain.client import blob, tasks
from rain_testing import wait_until



def test_testing_hint_places_consumers(rain_cluster):
    cluster = rain_cluster(governors=[2, 2, 2], server_env={"RAIN_TEST_MODE": "1"})
    client = cluster.client()
    governors = cluster.governor_ids(client)
    assert len(governors) == 3
    with client.new_session() as session:
        consumers = []
        for round_ in range(2):
            for governor in governors:
                obj = blob(b"pretend to be big")
                obj.spec.user["_testing"] = {"governors": [governor], "size": 100 << 20}
                consumers.append((governor, tasks.Sleep(obj, 0)))
        session.submit()
        session.wait_all()
        session.update([t for _, t in consumers])
        for governor, task in consumers:
            assert task.info.governor == governor
        # Two hinted inputs (submitted when all cpus are free): the task goes where more of
        # its input bytes are.
        small, large = blob(b"s"), blob(b"l")
        small.spec.user["_testing"] = {"governors": [governors[0]], "size": 1 << 20}
        large.spec.user["_testing"] = {"governors": [governors[2]], "size": 50 << 20}
        both = tasks.Concat([small, large])
        session.submit()
        both.wait()
        both.update()
        assert both.info.governor == governors[2]


def test_delayed_deletion_is_visible(rain_cluster):
    cluster = rain_cluster(governors=[1], governor_env={"RAIN_DELETE_LIST_TIMEOUT": "3"})
    client = cluster.client()
    with client.new_session() as session:
        first = tasks.Sleep(blob(b"data"), 0)
        second = tasks.Sleep(first, 0)
        second.output.keep()
        # Before the governor can put the intermediate object on its delete list.
        submitted = time.monotonic()
        session.submit()
        session.wait_all()
        intermediate = first.output.id

        def governor():
            (g,) = client.get_server_info()["governors"]
            return g

        # No longer needed: on the delete list, still stored...
        assert wait_until(lambda: intermediate in governor()["objects_to_delete"], timeout=3)
        assert intermediate in governor()["objects"]
        # ... and removed after the timeout (3 s from the listing, which followed `submitted`).
        assert wait_until(lambda: intermediate not in governor()["objects"], timeout=30)
        assert time.monotonic() - submitted >= 2.9
        assert intermediate not in governor()["objects_to_delete"]
        assert second.output.id in governor()["objects"]


def test_zero_delete_timeout_deletes_at_once(rain_cluster):
    cluster = rain_cluster(governors=[1], governor_env={"RAIN_DELETE_LIST_TIMEOUT": "0"})
    client = cluster.client()
    with client.new_session() as session:
        first = tasks.Sleep(blob(b"data"), 0)
        second = tasks.Sleep(first, 0)
        second.output.keep()
        session.submit()
        session.wait_all()
        assert wait_until(lambda: all(
            first.output.id not in g["objects"]
            for g in client.get_server_info()["governors"]), timeout=3)

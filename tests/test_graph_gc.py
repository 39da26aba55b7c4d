"""A graph being built stays out of the cyclic GC's scans until submit or close (graph_gc.py)."""

import gc
import weakref

import pytest

from offline_helpers import recording_session
from rain.client import blob, tasks
from rain.client.graph_gc import FREEZE_EVERY


@pytest.fixture(autouse=True)
def no_freeze_left():
    assert gc.get_freeze_count() == 0
    yield
    gc.unfreeze()


def build(count):
    return [tasks.Concat((blob(b"a"), blob(b"b"))) for _ in range(count)]


def test_a_big_graph_is_frozen_while_built_and_thawed_by_submit():
    session = recording_session()
    with session.bind_only():
        build(FREEZE_EVERY // 3 - 1)
        assert gc.get_freeze_count() == 0  # fewer creations than FREEZE_EVERY
        graph = build(FREEZE_EVERY)
        assert gc.get_freeze_count() > 0
        session.submit()
        assert gc.get_freeze_count() == 0
        build(FREEZE_EVERY)
        assert gc.get_freeze_count() > 0
    session.close()
    assert gc.get_freeze_count() == 0
    # Submitted as built: what was frozen is the same graph.
    assert len(session.client._api.submits[0][1]["tasks"]) == FREEZE_EVERY // 3 - 1 + len(graph)


def test_a_dropped_graph_is_collected_once_its_session_is_closed():
    session = recording_session()
    with session.bind_only():
        first = weakref.ref(build(FREEZE_EVERY)[0])
    assert gc.get_freeze_count() > 0
    gc.collect()
    assert first() is not None  # frozen (and still in the session's unsubmitted list)
    session.close()
    del session
    gc.collect()  # a task and its output refer to each other: only the cyclic GC frees them
    assert first() is None


def test_nothing_is_frozen_with_rain_gc_freeze_0(monkeypatch):
    monkeypatch.setenv("RAIN_GC_FREEZE", "0")
    session = recording_session()
    with session.bind_only():
        build(FREEZE_EVERY)
        assert gc.get_freeze_count() == 0
    session.close()


def test_nothing_is_frozen_while_the_gc_is_disabled():
    session = recording_session()
    gc.disable()
    try:
        with session.bind_only():
            build(FREEZE_EVERY)
            assert gc.get_freeze_count() == 0
    finally:
        gc.enable()
        session.close()


def test_a_freeze_made_by_someone_else_is_left_alone():
    keep = [object() for _ in range(10)]
    gc.freeze()
    theirs = gc.get_freeze_count()
    session = recording_session()
    with session.bind_only():
        build(FREEZE_EVERY)
    session.close()
    assert gc.get_freeze_count() == theirs
    del keep


def test_two_sessions_building_at_once_unfreeze_when_the_last_one_is_done():
    first, second = recording_session(1), recording_session(2)
    with first.bind_only():
        build(FREEZE_EVERY)
    with second.bind_only():
        build(FREEZE_EVERY)
    first.close()
    assert gc.get_freeze_count() > 0  # the second still builds
    second.close()
    assert gc.get_freeze_count() == 0

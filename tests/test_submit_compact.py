"""The compact submit encoding (application/x-rain-submit+msgpack, docs/protocol.md): the client's
MessagePack encoder, the frames it writes, graphs submitted that way, and the server's answers to
invalid graphs and malformed bodies."""

import json
import struct
import urllib.request
from array import array

import pytest

from rain.client import RainException, blob, tasks
from rain.client.rpc.compact import COMPACT_SUBMIT_CONTENT_TYPE, FRAME_ITEMS, encode_submit
from rain.client.rpc.msgpack import packb, unpackb
from rain.client.session import Session
from rain_testing import wait_until
from test_submit_validation import invalid_graphs


# --- the MessagePack encoder ----------------------------------------------------------------

@pytest.mark.parametrize("value, encoded", [
    (None, b"\xc0"), (True, b"\xc3"), (False, b"\xc2"),
    (0, b"\x00"), (127, b"\x7f"), (128, b"\xcf" + (128).to_bytes(8, "big")), (-1, b"\xff"),
    (-32, b"\xe0"), (-33, b"\xd3" + (-33).to_bytes(8, "big", signed=True)),
    (1.5, b"\xcb" + struct.pack(">d", 1.5)),
    ("", b"\xa0"), ("abc", b"\xa3abc"), ("x" * 32, b"\xd9\x20" + b"x" * 32),
    (b"\x01\x02", b"\xc4\x02\x01\x02"), (b"y" * 300, b"\xc5\x01\x2c" + b"y" * 300),
    ([1, 2], b"\x92\x01\x02"), (list(range(16)), b"\xdc\x00\x10" + bytes(range(16))),
    ({"a": 1}, b"\x81\xa1a\x01"),
])
def test_msgpack_encodes_as_the_spec_says(value, encoded):
    assert packb(value) == encoded
    assert unpackb(encoded) == value


def test_msgpack_round_trips_nested_values_and_refuses_what_json_cannot_say():
    value = {"tasks": 3, "ids": b"\x00" * 70000, "strings": ["é", "b" * 70000],
             "nested": {"list": [None, -2**40, 2**63, 0.25, {"k": []}]}}
    assert unpackb(packb(value)) == value
    with pytest.raises(RainException, match="map keys must be str"):
        packb({1: "x"})
    with pytest.raises(RainException, match="cannot encode set"):
        packb({"x": {1}})


# --- the frames the client writes -----------------------------------------------------------

def frames_of(body):
    """The decoded frames of a compact body, and the constants' bytes after them."""
    frames, at = [], 0
    while True:
        (length,) = struct.unpack(">I", body[at:at + 4])
        at += 4
        if length == 0:
            return frames, body[at:]
        frames.append(unpackb(body[at:at + length]))
        at += length


def u32(values):
    return array("I", values).tobytes()


def test_a_graph_is_columns_of_ids_with_its_irregular_fields_aside():
    with Session(None, 1) as session:
        a, b = blob(b"one"), blob(b"two", label="second", content_type="text")
        concat = tasks.Concat((a, b), name="joined")
        concat.output.keep()
        sleep = tasks.Sleep(concat, 0.5)
        sleep.spec.user["tag"] = "x"  # a spec asked for is what is submitted
        length, chunks = encode_submit(session._unsubmitted_tasks, session._unsubmitted_objects)
    body = b"".join(chunks)
    assert len(body) == length
    (objects, task_frame), data = frames_of(body)
    assert data == b"onetwo"
    assert objects["objects"] == 4 and objects["ids"] == u32([10, 11, 13, 15])
    assert objects["flags"] == bytes([4, 4, 2, 0])  # 4: client data, 2: keep
    assert objects["strings"] == ["const", "second"]
    assert objects["labels"] == u32([1, 2, 0, 0])
    assert objects["sizes"] == array("d", [3, 3]).tobytes()
    assert json.loads(objects["extra"]) == [[1, {"content_type": "text"}]]
    assert task_frame["tasks"] == 2 and task_frame["ids"] == u32([12, 14])
    assert task_frame["strings"] == ["buildin/concat", "buildin/sleep"]
    assert task_frame["types"] == u32([0, 1])
    assert task_frame["input_counts"] == u32([2, 1]) and task_frame["inputs"] == u32([10, 11, 13])
    assert task_frame["output_counts"] == u32([1, 1]) and task_frame["outputs"] == u32([13, 15])
    assert json.loads(task_frame["extra"]) == [
        [0, {"name": "joined"}], [1, {"config": {"seconds": 0.5}, "user": {"tag": "x"}}]]


def test_a_concat_of_two_constants_costs_under_100_bytes():
    n = 2 * FRAME_ITEMS  # several frames of each kind
    with Session(None, 1) as session:
        for _ in range(n):
            tasks.Concat((blob(b"a"), blob(b"b")))
        length, chunks = encode_submit(session._unsubmitted_tasks, session._unsubmitted_objects)
        frames, data = frames_of(b"".join(chunks))
    assert length / n <= 100, length / n
    assert [f.get("objects", 0) for f in frames if "objects" in f] == [FRAME_ITEMS] * 6
    assert sum(f["tasks"] for f in frames if "tasks" in f) == n
    assert data == b"ab" * n


# --- graphs submitted compactly -------------------------------------------------------------

def test_a_mixed_graph_submitted_compactly_runs(client):
    with client.new_session() as session:
        assert session._sends_compact()
        text = blob("hello", label="greeting")
        many = [tasks.Concat((blob(b"%d," % i), text)) for i in range(FRAME_ITEMS // 2)]
        last = tasks.Sleep(many[-1], 0, name="nap")
        last.spec.user["tag"] = "x"
        last.output.keep()
        joined = tasks.Concat([m.output for m in many[:3]])
        joined.output.keep()
        session.submit()
        assert joined.output.fetch().get_bytes() == b"0,hello1,hello2,hello"
        assert last.output.fetch().get_bytes() == b"%d,hello" % (FRAME_ITEMS // 2 - 1)
        last.update()
        assert last.info is not None and not last.info.error
        # Objects of an earlier compact submit are inputs of a later one.
        again = tasks.Concat((joined.output, text))
        again.output.keep()
        session.submit()
        assert again.output.fetch().get_bytes() == b"0,hello1,hello2,hellohello"


def compact_body(tasks_json, objects_json, data):
    """A compact body from JSON header entries, written without rpc/compact.py."""
    labels = {None: 0}
    object_extra = []
    for i, o in enumerate(objects_json):
        extra = {k: v for k, v in o["spec"].items() if k in ("content_type", "user")}
        if o["spec"].get("data_type") == "dir":
            extra["data_type"] = "dir"
        if extra:
            object_extra.append([i, extra])
    objects = {
        "objects": len(objects_json),
        "ids": u32([o["spec"]["id"][1] for o in objects_json]),
        "flags": bytes([2 * bool(o.get("keep")) | 4 * ("data_size" in o) for o in objects_json]),
        "labels": u32([labels.setdefault(o["spec"].get("label"), len(labels))
                       for o in objects_json]),
        "strings": list(labels)[1:],
        "sizes": array("d", [o["data_size"] for o in objects_json if "data_size" in o]).tobytes(),
        "extra": json.dumps(object_extra),
    }
    types = {}
    task_frame = {
        "tasks": len(tasks_json),
        "ids": u32([t["id"][1] for t in tasks_json]),
        "types": u32([types.setdefault(t["task_type"], len(types)) for t in tasks_json]),
        "input_counts": u32([len(t["inputs"]) for t in tasks_json]),
        "inputs": u32([i["id"][1] for t in tasks_json for i in t["inputs"]]),
        "output_counts": u32([len(t["outputs"]) for t in tasks_json]),
        "outputs": u32([o[1] for t in tasks_json for o in t["outputs"]]),
        # Only what the columns cannot say: most of these tasks are read from columns alone.
        "extra": json.dumps([[i, extra] for i, extra in enumerate(
            {k: t[k] for k in ("config", "resources") if k in t and t[k] != {"cpus": 1}}
            for t in tasks_json) if extra]),
    }
    task_frame["strings"] = list(types)
    return frame(objects) + frame(task_frame) + END + b"".join(data)


def frame(value):
    data = packb(value)
    return struct.pack(">I", len(data)) + data


END = struct.pack(">I", 0)


def send(session, body):
    session.client._api.submit_body(session.session_id, COMPACT_SUBMIT_CONTENT_TYPE, len(body),
                                    [body])


# Compact bodies carry ids within the session only: a foreign session's id cannot be said.
_CASES = [c for c in invalid_graphs(1) if c[0] != "id of another session"]


@pytest.mark.parametrize("case", range(len(_CASES)), ids=[c[0] for c in _CASES])
def test_invalid_graphs_get_the_same_error_in_both_encodings(client, case):
    with client.new_session() as session:
        sid = session.session_id
        name, tasks_json, objects, _ = [c for c in invalid_graphs(sid)
                                        if c[0] != "id of another session"][case]
        entries = [o[0] if isinstance(o, tuple) else o for o in objects]
        data = [o[1] for o in objects if isinstance(o, tuple)]
        with pytest.raises(RainException) as json_error:
            session.client._api.submit(sid, tasks_json, entries, data)
        with pytest.raises(RainException) as compact_error:
            send(session, compact_body(tasks_json, entries, data))
        assert compact_error.value.kind == "InvalidGraph", name
        assert str(compact_error.value) == str(json_error.value), name


def valid_objects_frame(**change):
    value = {"objects": 1, "ids": u32([10]), "flags": bytes([4]), "labels": u32([0]),
             "sizes": array("d", [1]).tobytes()}
    value.update(change)
    return frame(value)


CONCAT = {"tasks": 1, "ids": u32([11]), "types": u32([0]), "strings": ["buildin/concat"],
          "input_counts": u32([1]), "inputs": u32([10]), "output_counts": u32([1]),
          "outputs": u32([12])}
OUTPUT = frame({"objects": 1, "ids": u32([12]), "flags": bytes([0]), "labels": u32([0])})

MALFORMED = [
    ("ends inside a frame length", b"\x00\x00", "frame 0 is not valid: body ended early"),
    ("ends inside a frame", struct.pack(">I", 50) + b"\x81", "frame 0 is not valid"),
    ("no end of frames", valid_objects_frame(), "frame 1 is not valid: body ended early"),
    ("not MessagePack", struct.pack(">I", 1) + b"\xc1" + END, "frame 0: not valid MessagePack"),
    ("not a map", frame([1, 2]) + END, "frame 0: must be a MessagePack map"),
    ("neither objects nor tasks", frame({"x": 1}) + END, "must have 'objects' or 'tasks'"),
    ("a short column", valid_objects_frame(ids=b"\x0a\x00") + END,
     "'ids' has 2 bytes, expected 4"),
    ("a column of the wrong type", valid_objects_frame(labels=[0]) + END,
     "'labels' must be binary"),
    ("a label beyond the strings", valid_objects_frame(labels=u32([3])) + END + b"x",
     "label index 3 is beyond 'strings'"),
    ("extra that is not JSON", valid_objects_frame(extra="{") + END + b"x",
     "'extra' is not valid JSON"),
    ("extra at a position beyond the frame", valid_objects_frame(extra="[[5, {}]]") + END,
     "'extra' entries must be \\[position < 1"),
    ("an unknown extra field", valid_objects_frame(extra='[[0, {"id": [1, 99]}]]') + END,
     "'extra' field \"id\" is not one of"),
    ("objects after tasks", valid_objects_frame() + OUTPUT + frame(CONCAT)
     + valid_objects_frame(ids=u32([13])) + END, "frame 3: objects after tasks"),
    ("a task type beyond the strings", valid_objects_frame() + OUTPUT
     + frame(dict(CONCAT, types=u32([1]))) + END + b"x", "task type index 1 is beyond"),
    ("inputs shorter than their counts", valid_objects_frame() + OUTPUT
     + frame(dict(CONCAT, input_counts=u32([2]))) + END + b"x", "'inputs' has 4 bytes, expected 8"),
    ("data missing", valid_objects_frame() + END, "body ended before the data of object"),
    ("data beyond what is declared", valid_objects_frame() + OUTPUT + frame(CONCAT) + END + b"xy",
     "longer than the data its header declares"),
]


@pytest.mark.parametrize("case", MALFORMED, ids=[c[0] for c in MALFORMED])
def test_malformed_compact_bodies_are_refused_and_change_nothing(client, case):
    name, body, message = case
    with client.new_session() as session:
        with pytest.raises(RainException, match=message) as error:
            send(session, body)
        assert error.value.kind == "BadRequest", name
        # Nothing was applied: the same ids are free for a valid compact submit.
        good = valid_objects_frame() + OUTPUT + frame(CONCAT) + END + b"z"
        send(session, good)
        assert session.client._api.wait(session.session_id, [11], [], "all") == ([11], [])


def test_the_event_log_records_a_compact_submit_with_every_spec_field(cluster, client):
    with client.new_session() as session:
        task = tasks.Concat((blob(b"a"), blob(b"b")), name="logged", max_retries=2)
        task.spec.resources["memory"] = 1 << 20
        session.submit()
        session.wait_all()
        sid = session.session_id

    def logged():
        request = urllib.request.Request(
            "http://127.0.0.1:{}/events".format(cluster.http_port), method="POST",
            data=json.dumps({"session": {"value": sid, "mode": "="},
                             "event_types": [{"value": "ClientSubmit", "mode": "="}]}).encode(),
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)

    # The log is written in batches: the row is there within a second or so.
    assert wait_until(lambda: logged())
    (row,) = logged()
    (spec,) = row["event"]["tasks"]
    assert spec["name"] == "logged" and spec["task_type"] == "buildin/concat"
    assert spec["policy"] == {"max_retries": 2}
    assert spec["resources"] == {"cpus": 1, "memory": 1 << 20}
    assert [i["id"][1] for i in spec["inputs"]] == [task.inputs[0].id.id, task.inputs[1].id.id]
    assert [(o.get("label"), o.get("data_size")) for o in row["event"]["dataobjs"]] == [
        ("const", 1), ("const", 1), (None, None)]

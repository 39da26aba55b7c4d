"""A submit body is framed exactly: header length, JSON header, then every constant's bytes."""

import json
import struct

from rain.client import blob, tasks
from rain.client.rpc.framing import frame_submit
from rain.client.session import Session


class FramingApi:
    """Frames the submit exactly as the real API does and keeps the body."""

    def __init__(self):
        self.body = b""

    def submit(self, session_id, task_json, object_json, constants):
        length, chunks = frame_submit({"tasks": task_json, "objects": object_json}, constants)
        self.body = b"".join(chunks)
        assert len(self.body) == length

    def close_session(self, session_id):
        pass


class FramingClient:
    def __init__(self):
        self._api = FramingApi()


def test_submit_body_is_header_then_constants_in_order():
    session = Session(FramingClient(), 1)
    with session.bind_only():
        for i in range(100):
            tasks.Concat((blob(b"part %d" % i), blob(b"xyz")))
        session.submit()
    body = session.client._api.body
    (header_length,) = struct.unpack(">I", body[:4])
    header = json.loads(body[4:4 + header_length])
    data = body[4 + header_length:]
    assert len(header["tasks"]) == 100
    constants = [o for o in header["objects"] if "data_size" in o]
    assert len(constants) == 200
    assert sum(o["data_size"] for o in constants) == len(data)
    expected = b"".join(b"part %dxyz" % i for i in range(100))
    assert data == expected

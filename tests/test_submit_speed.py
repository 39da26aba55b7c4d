"""A big submit (100,000 tasks, 200,000 constants) must serialize in well under 2 seconds."""

import time

from rain.client import blob, tasks
from rain.client.rpc.framing import frame_submit
from rain.client.session import Session


class FramingApi:
    """Frames the submit exactly as the real API does, and consumes the body."""

    def __init__(self):
        self.body_bytes = 0

    def submit(self, session_id, task_json, object_json, constants):
        length, chunks = frame_submit({"tasks": task_json, "objects": object_json}, constants)
        for chunk in chunks:
            self.body_bytes += len(chunk)
        assert self.body_bytes == length

    def close_session(self, session_id):
        pass


class FramingClient:
    def __init__(self):
        self._api = FramingApi()


def test_big_submit_serializes_fast():
    session = Session(FramingClient(), 1)
    with session.bind_only():
        for i in range(100000):
            tasks.Concat((blob(b"part %d" % i), blob(b"xyz")))
        started = time.process_time()
        session.submit()
        elapsed = time.process_time() - started
    assert session.client._api.body_bytes > 200000 * 3
    assert elapsed < 2.0, "serializing the submit took {:.2f} s".format(elapsed)

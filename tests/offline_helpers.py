"""A stand-in for the server API that records submits, for tests without a server."""

import json
import struct

from rain.client.rpc.framing import frame_submit
from rain.client.session import Session


class RecordingApi:
    def __init__(self):
        self.submits = []

    def submit(self, session_id, tasks, objects, constants):
        length, chunks = frame_submit({"tasks": tasks, "objects": objects}, constants)
        body = b"".join(chunks)
        assert len(body) == length
        (header_length,) = struct.unpack(">I", body[:4])
        header = json.loads(body[4:4 + header_length])
        self.submits.append((session_id, header, body[4 + header_length:]))

    def close_session(self, session_id):
        pass


class RecordingClient:
    def __init__(self):
        self._api = RecordingApi()


def recording_session(session_id=7):
    """A session whose submits are recorded in ``session.client._api.submits``."""
    return Session(RecordingClient(), session_id)

"""Python client cost of a big submit (no server): graph building and body serialization.

Prints figures; asserts nothing. Usage: bench/client_submit.py [--scale 1.0] (100,000 tasks at 1)
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "client_py"))

from rain.client import blob, tasks  # noqa: E402
from rain.client.rpc.framing import frame_submit  # noqa: E402
from rain.client.session import Session  # noqa: E402


class CountingApi:
    def __init__(self):
        self.body_bytes = 0

    def submit(self, session_id, task_json, object_json, constants):
        _, chunks = frame_submit({"tasks": task_json, "objects": object_json}, constants)
        self.body_bytes = sum(len(c) for c in chunks)

    def close_session(self, session_id):
        pass


class CountingClient:
    def __init__(self):
        self._api = CountingApi()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    n = int(100_000 * parser.parse_args().scale)
    session = Session(CountingClient(), 1)
    with session.bind_only():
        start = time.perf_counter()
        for i in range(n):
            tasks.Concat((blob(b"a"), blob(b"b")))
        built = time.perf_counter()
        session.submit()
        done = time.perf_counter()
    body = session.client._api.body_bytes
    print(f"client: {n} Concat tasks built in {built - start:.2f} s "
          f"({n / (built - start):,.0f} tasks/s); submit serialized in {done - built:.2f} s "
          f"({n / (done - built):,.0f} tasks/s, body {body / 2**20:.1f} MiB)")


if __name__ == "__main__":
    main()

"""Python client cost of a big submit (no server): graph building and body serialization, in the
compact encoding (what Session.submit sends) and in JSON (RAIN_SUBMIT_ENCODING=json).

Prints figures (wall time, and the process's CPU time, which other load on the machine disturbs
less); asserts nothing. Usage: bench/client_submit.py [--scale 1.0] (100,000 tasks at 1)
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "client_py"))

from rain.client import blob, tasks  # noqa: E402
from rain.client.rpc.framing import SUBMIT_CONTENT_TYPE, frame_submit  # noqa: E402
from rain.client.session import Session  # noqa: E402


class CountingApi:
    def __init__(self):
        self.body_bytes = 0

    def submit(self, session_id, task_json, object_json, constants):
        length, chunks = frame_submit({"tasks": task_json, "objects": object_json}, constants)
        self.submit_body(session_id, SUBMIT_CONTENT_TYPE, length, chunks)

    def submit_body(self, session_id, content_type, length, chunks):
        self.body_bytes = sum(len(c) for c in chunks)

    def submit_encoded(self, session_id, content_type, encode):
        """What Session.submit calls for the compact encoding (the real API's method)."""
        length, chunks = encode()
        self.submit_body(session_id, content_type, length, chunks)

    def close_session(self, session_id):
        pass


class CountingClient:
    def __init__(self):
        self._api = CountingApi()


def run(n, encoding):
    os.environ["RAIN_SUBMIT_ENCODING"] = encoding
    session = Session(CountingClient(), 1)
    with session.bind_only():
        start, cpu_start = time.perf_counter(), time.process_time()
        for i in range(n):
            tasks.Concat((blob(b"a"), blob(b"b")))
        built, cpu_built = time.perf_counter(), time.process_time()
        session.submit()
        done, cpu_done = time.perf_counter(), time.process_time()
    body = session.client._api.body_bytes
    print(f"client: {n} Concat tasks built in {built - start:.2f} s "
          f"({n / (built - start):,.0f} tasks/s, {(cpu_built - cpu_start) / n * 1e6:.1f} µs CPU "
          f"per task); {encoding} submit body in {done - built:.2f} s "
          f"({(cpu_done - cpu_built) / n * 1e6:.1f} µs CPU per task, {body / n:.0f} bytes "
          "per task)")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    n = int(100_000 * parser.parse_args().scale)
    run(n, "compact")
    run(n, "json")


if __name__ == "__main__":
    main()

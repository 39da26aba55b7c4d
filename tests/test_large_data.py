"""Large objects through submit, a task, and fetch."""

import hashlib
import os
import time

from rain.client import blob, tasks

MIB = 1 << 20


def test_50_mib_blob_through_concat_and_fetch(client):
    big = os.urandom(50 * MIB)
    with client.new_session() as session:
        constant = blob(big)
        constant.keep()
        joined = tasks.Concat([constant, blob(b"--end")])
        joined.output.keep()
        started = time.monotonic()
        session.submit()
        result = joined.output.fetch().get_bytes()
        assert len(result) == len(big) + 5
        assert hashlib.sha256(result).digest() == hashlib.sha256(big + b"--end").digest()
        assert constant.fetch().get_bytes() == big
        joined.output.update()
        assert joined.output.info.size == len(big) + 5
        assert time.monotonic() - started < 60


def test_many_small_constants(client):
    with client.new_session() as session:
        parts = [blob(b"%d," % i) for i in range(5000)]
        joined = tasks.Concat(parts)
        joined.output.keep()
        session.submit()
        assert joined.output.fetch().get_bytes() == b"".join(b"%d," % i for i in range(5000))

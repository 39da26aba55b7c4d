"""`rain server --log-retention DAYS|SIZE`: closed sessions older than DAYS leave events.db
when the server starts and then periodically; an open session never does."""

import json
import os
import sqlite3
import time
import urllib.request

from rain.client import Client, blob, tasks
from rain_testing import RAIN_BIN, Process, free_port, wait_until

DAY = 86400


def _start_server(workspace, logdir, name, args=(), env=None):
    port, http_port = free_port(), free_port()
    ready = os.path.join(workspace, name + ".ready")
    process = Process(name, [
        RAIN_BIN, "server", "--listen", "127.0.0.1:{}".format(port),
        "--http-listen", "127.0.0.1:{}".format(http_port), "--logdir", logdir,
        "--ready-file", ready, *args], os.path.join(workspace, name + ".out"),
        dict(os.environ, **(env or {})))
    assert wait_until(lambda: os.path.exists(ready) or not process.alive(), timeout=30)
    assert process.alive(), process.describe()
    return process, port, http_port


def _sessions_in_log(logdir):
    db = sqlite3.connect(os.path.join(logdir, "events.db"), timeout=30)
    try:
        return {s for (s,) in db.execute(
            "SELECT DISTINCT session FROM events WHERE session IS NOT NULL")}
    finally:
        db.close()


def _closed_in_log(logdir, session):
    """The log has the session's SessionClosed row."""
    db = sqlite3.connect(os.path.join(logdir, "events.db"), timeout=30)
    try:
        return db.execute("SELECT COUNT(*) FROM events WHERE session = ? AND event_type = "
                          "'SessionClosed'", (session,)).fetchone()[0] > 0
    finally:
        db.close()


def _age(logdir, session, days):
    """Moves every event of ``session`` ``days`` days into the past."""
    db = sqlite3.connect(os.path.join(logdir, "events.db"), timeout=30)
    try:
        past = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() - days * DAY))
        with db:
            db.execute("UPDATE events SET timestamp = ? WHERE session = ?", (past, session))
    finally:
        db.close()


def _listed_sessions(http_port):
    with urllib.request.urlopen(
            "http://127.0.0.1:{}/api/v1/sessions".format(http_port), timeout=30) as response:
        return {s["session"] for s in json.load(response)}


def _closed_session(client, name, work=False):
    with client.new_session(name) as session:
        if work:
            tasks.Concat((blob(b"a"), blob(b"b")))
            session.submit()
            session.wait_all()
    return session.session_id


def test_old_closed_sessions_are_dropped_at_start(tmp_path):
    logdir = str(tmp_path / "logs")
    first, port, _ = _start_server(str(tmp_path), logdir, "first")
    try:
        client = Client("127.0.0.1", port)
        old, recent = _closed_session(client, "old"), _closed_session(client, "recent")
        client.close()
    finally:
        first.stop()
    _age(logdir, old, 40)
    _age(logdir, recent, 20)
    second, _, http_port = _start_server(str(tmp_path), logdir, "second",
                                         ["--log-retention", "30d"])
    try:
        assert old not in _sessions_in_log(logdir)
        assert recent in _sessions_in_log(logdir)
        assert _listed_sessions(http_port) >= {recent}
        assert old not in _listed_sessions(http_port)
    finally:
        second.stop()
    assert "--log-retention: dropped 1 closed session(s)" in second.describe()


def test_periodic_retention_never_drops_an_open_session(rain_cluster):
    cluster = rain_cluster(governors=[1], server_args=["--log-retention", "30"],
                           server_env={"RAIN_LOG_RETENTION_INTERVAL": "0.2"})
    logdir, http_port = cluster.path("server-logs"), cluster.http_port
    client = cluster.client()
    with client.new_session("open") as still_open:
        first = tasks.Concat((blob(b"a"), blob(b"b")))
        first.output.keep()
        still_open.submit()
        still_open.wait_all()
        closed = _closed_session(client, "closed", work=True)
        # Aged once its last row (SessionClosed) is written: a row written after the aging would
        # carry today's time (the log is written in batches).
        assert wait_until(lambda: _closed_in_log(logdir, closed), timeout=30)
        _age(logdir, still_open.session_id, 40)
        _age(logdir, closed, 40)
        assert wait_until(lambda: closed not in _sessions_in_log(logdir), timeout=30)
        assert still_open.session_id in _sessions_in_log(logdir)
        assert closed not in _listed_sessions(http_port)
        # The open session goes on working.
        second = tasks.Concat((first.output, blob(b"c")))
        second.output.keep()
        still_open.submit()
        assert second.output.fetch().get_bytes() == b"abc"


def test_bad_retention_is_a_usage_error(tmp_path):
    import subprocess
    result = subprocess.run([RAIN_BIN, "server", "--log-retention", "soon"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "neither a number of days" in result.stderr, result.stderr

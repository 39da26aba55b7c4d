"""Issue 13: a server killed (SIGKILL) and started again over the same log dir loses no
accepted work and re-runs nothing finished; governors and clients reattach.

Each pipeline mixes built-in tasks, programs and Python tasks over two governors; tasks that
must be running at the crash wait on a file the test creates (never on time). Every program
and Python task appends a line to a file of its own when it runs, so runs are counted from
what happened, and the event log is read too.
"""

import json
import os
import signal
import sqlite3
import stat
import subprocess
import threading

import pytest

from rain.client import RainException, blob, remote, tasks
from rain.client import session as rain_session
from rain.client.rpc import api as rpc_api
from rain_testing import RAIN_BIN, REPO, free_port, wait_until

# Stdin is copied to stdout once the gate file exists; the run is recorded, start and end.
GATE = ('echo run >> "$1"; touch "$2"; i=0; while [ ! -e "$3" ] && [ $i -lt 6000 ]; '
        'do sleep 0.01; i=$((i + 1)); done; cat; touch "$4"')
# A program that records its run and upper-cases its stdin.
UPPER = 'echo run >> "$1"; tr a-z A-Z'


@remote()
def reverse(ctx, data, marks):
    with open(marks.get_str(), "a") as f:
        f.write("run\n")
    return data.get_bytes()[::-1]


def runs(path):
    """How many times the task recording into ``path`` ran."""
    try:
        with open(path) as f:
            return len(f.read().split())
    except FileNotFoundError:
        return 0


class Pipeline:
    """Constants → Concat → a program and a Python task on each of two branches (finished
    before the crash) → one gate per branch (2 cpus each: one per governor, running at the
    crash) → Concat → a Python task and a program (after the crash)."""

    def __init__(self, session, directory):
        self.dir = str(directory)
        os.makedirs(self.dir, exist_ok=True)
        self.gate_file = os.path.join(self.dir, "open")
        self.marks = {}
        self.before = []
        self.gates = []
        branches = []
        for b in range(2):
            text = blob((("branch %d of the pipeline. " % b) * 2000).encode())
            joined = tasks.Concat([text, blob(b" end\n")])
            upper = tasks.Execute(["sh", "-c", UPPER, "upper", self._mark("upper%d" % b)],
                                  stdin=joined, stdout=True)
            backwards = reverse(upper, blob(self._mark("reverse%d" % b).encode()))
            gate = tasks.Execute(
                ["sh", "-c", GATE, "gate", self._mark("gate%d" % b), self._path("gate%d" % b),
                 self.gate_file, self._path("gate%d.done" % b)],
                stdin=backwards, stdout=True, cpus=2)
            self.before += [joined, upper, backwards]
            self.gates.append(gate)
            upper.output.keep()
            branches.append(gate)
        merged = tasks.Concat([g.output for g in branches])
        back = reverse(merged, blob(self._mark("reverse-final").encode()))
        self.final = tasks.Execute(["sh", "-c", UPPER, "upper", self._mark("upper-final")],
                                   stdin=back, stdout=True)
        self.final.output.keep()
        self.kept = [t.output for t in self.before if t.output.is_kept()] + [self.final.output]
        self.all = self.before + self.gates + [merged, back, self.final]
        session.submit()

    def _path(self, name):
        return os.path.join(self.dir, name)

    def _mark(self, name):
        self.marks[name] = self._path(name + ".runs")
        return self.marks[name]

    def open_gates(self):
        with open(self.gate_file, "w"):
            pass

    def gates_started(self):
        return all(os.path.exists(self._path("gate%d" % b)) for b in range(2))

    def gates_done(self):
        return all(os.path.exists(self._path("gate%d.done" % b)) for b in range(2))

    def results(self):
        return [obj.fetch().get_bytes() for obj in self.kept]


def expected_results(cluster, tmp_path):
    """The pipeline's results without any crash."""
    client = cluster.client()
    with client.new_session("reference") as session:
        pipeline = Pipeline(session, tmp_path / "reference")
        pipeline.open_gates()
        session.wait_all()
        return pipeline.results()


def events_of(cluster, session_id, event_type):
    """Events of a session from the event log, read from events.db (flushed at stop, or
    written within 200 ms while running)."""
    db = sqlite3.connect(cluster.path("server-logs", "events.db"))
    try:
        rows = db.execute("SELECT event FROM events WHERE event_type = ? AND session = ?",
                          (event_type, session_id)).fetchall()
    finally:
        db.close()
    return [json.loads(r[0]) for r in rows]


def started_counts(cluster, session_id):
    counts = {}
    for e in events_of(cluster, session_id, "TaskStarted"):
        key = tuple(e["task"])
        counts[key] = counts.get(key, 0) + 1
    return counts


def test_sigkill_mid_pipeline_restart_completes_without_rerunning_finished_work(
        rain_cluster, tmp_path):
    cluster = rain_cluster(governors=[2, 2])
    expected = expected_results(cluster, tmp_path)
    secret_file = cluster.path("server-logs", "secret")
    secret = open(secret_file).read()
    assert stat.S_IMODE(os.stat(secret_file).st_mode) == 0o600

    client = cluster.client()
    session = client.new_session("crashing")
    with session.bind_only():
        pipeline = Pipeline(session, tmp_path / "crashing")
    session.wait(pipeline.before)
    assert wait_until(pipeline.gates_started, 30), cluster.logs()
    # The event log is written in batches: what happened so far is in it before the crash.
    sid = session.session_id
    assert wait_until(lambda: len(events_of(cluster, sid, "TaskFinished")) == len(
        pipeline.before) and len(events_of(cluster, sid, "TaskStarted")) == len(
        pipeline.before) + 2, 10)
    # A wait_all blocked in another thread across the crash simply continues.
    outcome = {}

    def wait_all():
        try:
            session.wait_all()
            outcome["done"] = True
        except BaseException as e:  # reported by the assertion below
            outcome["error"] = e

    waiter = threading.Thread(target=wait_all)
    waiter.start()
    cluster.kill_server()
    # The gates finish while there is no server: their results reach the next one.
    pipeline.open_gates()
    assert wait_until(pipeline.gates_done, 30)
    cluster.restart_server()
    waiter.join(60)
    assert outcome == {"done": True}, (outcome, cluster.logs())
    assert pipeline.results() == expected
    assert open(secret_file).read() == secret
    for name, path in pipeline.marks.items():
        assert runs(path) == 1, (name, runs(path), cluster.logs())
    session.close()
    client.close()
    cluster.server.stop()  # flushes the event log
    counts = started_counts(cluster, sid)
    assert max(counts.values()) == 1, counts
    finished = {tuple(e["task"]) for e in events_of(cluster, sid, "TaskFinished")}
    assert {tuple(t.id) for t in pipeline.all} - finished == set(), cluster.logs()


@pytest.mark.parametrize("encoding", ["compact", "json"])
def test_crash_during_a_submit_applies_it_once(rain_cluster, tmp_path, monkeypatch, encoding):
    """The body is encoded anew for each attempt (the same bytes): the first attempt's stream
    kills and restarts the server after its first chunk, the second goes through."""
    cluster = rain_cluster(governors=[2, 2])
    client = cluster.client()
    session = client.new_session("submit crash")
    monkeypatch.setenv("RAIN_SUBMIT_ENCODING", encoding)
    module, name = (rain_session, "encode_submit") if encoding == "compact" else \
        (rpc_api, "frame_submit")
    real_encode = getattr(module, name)
    calls = []

    def crashing_encode(*args):
        length, chunks = real_encode(*args)
        calls.append(length)
        if len(calls) > 1:
            return length, chunks

        def first_chunk_then_crash():
            iterator = iter(chunks)
            yield next(iterator)
            cluster.kill_server()
            cluster.restart_server()
            yield from iterator
        return length, first_chunk_then_crash()

    monkeypatch.setattr(module, name, crashing_encode)
    with session.bind_only():
        big = blob(b"x" * (3 << 20))  # a spooled constant: a body of several chunks
        parts = [tasks.Concat([big, blob(b"#%d" % i)]) for i in range(4)]
        for p in parts:
            p.output.keep()
        session.submit()
    assert len(calls) == 2
    session.wait_all()
    for i, p in enumerate(parts):
        assert p.output.fetch().get_bytes() == b"x" * (3 << 20) + b"#%d" % i
    session.close()


def test_resent_submit_body_is_applied_once(rain_cluster):
    cluster = rain_cluster(governors=[2, 2])
    client = cluster.client()
    session = client.new_session("resent")
    transport = client._api.transport
    sent = []
    real_request = transport.stream

    def recording_stream(method, path, body=None, headers=None):
        if path.endswith("/submit"):
            body = b"".join(bytes(c) for c in body)
            sent.append((path, body, headers))
        return real_request(method, path, body, headers)

    transport.stream = recording_stream
    with session.bind_only():
        task = tasks.Concat([blob(b"once"), blob(b" only")])
        task.output.keep()
        session.submit()
    transport.stream = real_request
    path, body, headers = sent[0]
    transport.read_body(transport.stream("POST", path, body, headers))  # accepted, not applied
    session.wait_all()
    assert task.output.fetch().get_bytes() == b"once only"
    status = transport.call("GET", "/status?session={}".format(session.session_id))
    [mine] = [s for s in status["sessions"] if s["session_id"] == session.session_id]
    assert mine["tasks_submitted"] == 1
    session.close()


def test_crash_while_a_fetch_streams_refetches(rain_cluster, tmp_path, monkeypatch):
    cluster = rain_cluster(governors=[2, 2])
    client = cluster.client()
    session = client.new_session("fetch crash")
    size = 24 << 20
    with session.bind_only():
        data = bytes(range(256)) * (size // 256)
        task = tasks.Concat([blob(data[:size // 2]), blob(data[size // 2:])])
        task.output.keep()
        session.submit()
    session.wait_all()
    real_read_into = rpc_api._read_into
    crashed = []

    def crashing_read_into(response, target, header):
        if not crashed:
            crashed.append(True)
            response.readinto(target[:1 << 20])  # the stream has begun
            cluster.kill_server()
            cluster.restart_server()
        return real_read_into(response, target, header)

    monkeypatch.setattr(rpc_api, "_read_into", crashing_read_into)
    assert task.output.fetch().get_bytes() == data
    assert crashed == [True]
    session.close()


def test_restart_after_a_governor_died_meanwhile(rain_cluster, tmp_path):
    cluster = rain_cluster(governors=[2, 2], server_args=["--heartbeat-timeout", "2"])
    expected = expected_results(cluster, tmp_path)
    client = cluster.client()
    session = client.new_session("governor died too")
    with session.bind_only():
        pipeline = Pipeline(session, tmp_path / "crashing")
    session.wait(pipeline.before)
    assert wait_until(pipeline.gates_started, 30), cluster.logs()
    cluster.kill_server()
    victim = cluster.governors[0]
    victim.stop()  # its running gate and its objects are gone with it
    pipeline.open_gates()
    cluster.restart_server()
    session.wait_all()
    assert pipeline.results() == expected
    session.close()


def test_fresh_discards_the_old_sessions(rain_cluster, tmp_path):
    cluster = rain_cluster(governors=[2])
    client = cluster.client()
    session = client.new_session("forgotten")
    with session.bind_only():
        task = tasks.Concat([blob(b"a"), blob(b"b")])
        task.output.keep()
        session.submit()
    session.wait_all()
    cluster.kill_server()
    cluster.restart_server(["--fresh"])
    with pytest.raises(RainException, match="does not exist|closed"):
        session.wait_all()
    # The governor reattached and was told to drop the forgotten session's data.
    fresh = cluster.client()
    assert wait_until(lambda: all(not g["objects"] for g in fresh.get_server_info()[
        "governors"]), 10)
    with fresh.new_session("new") as s:
        t = tasks.Concat([blob(b"c"), blob(b"d")])
        t.output.keep()
        s.submit()
        assert t.output.fetch().get_bytes() == b"cd"


def _server(tmp_path, logdir, *extra):
    port, http_port = free_port(), free_port()
    return subprocess.run(
        [RAIN_BIN, "server", "--listen", "127.0.0.1:%d" % port,
         "--http-listen", "127.0.0.1:%d" % http_port, "--logdir", str(logdir),
         "--insecure"] + list(extra),
        cwd=REPO, capture_output=True, text=True, timeout=60)


def test_a_journal_of_another_format_is_refused(tmp_path):
    logdir = tmp_path / "logs"
    (logdir / "journal").mkdir(parents=True)
    (logdir / "journal" / "FORMAT").write_text("rain-journal 0\n")
    result = _server(tmp_path, logdir)
    assert result.returncode == 1
    assert "holds a journal of format 'rain-journal 0'" in result.stderr
    assert "--fresh" in result.stderr


def test_an_older_log_dir_with_open_sessions_is_refused(tmp_path):
    logdir = tmp_path / "logs"
    logdir.mkdir()
    db = sqlite3.connect(str(logdir / "events.db"))
    db.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, timestamp TEXT, event_type TEXT, "
               "session INTEGER, event TEXT)")
    db.execute("INSERT INTO events (timestamp, event_type, session, event) VALUES "
               "('2026-01-01T00:00:00Z', 'SessionNew', 1, '{}')")
    db.commit()
    db.close()
    result = _server(tmp_path, logdir)
    assert result.returncode == 1
    assert "written by an older Rain" in result.stderr and "--fresh" in result.stderr


def test_a_governor_declared_lost_that_comes_back_keeps_its_data(rain_cluster, tmp_path):
    """Issue 12: a governor stopped (SIGSTOP) past the heartbeat timeout is declared lost; when
    it runs again it registers anew with what it holds, and the server takes its objects
    instead of recomputing them (here no other governor could: the producer needs 2 cpus)."""
    cluster = rain_cluster(governors=[2, 1], server_args=["--heartbeat-timeout", "1"])
    client = cluster.client()
    marks = str(tmp_path / "producer.runs")
    with client.new_session("comes back") as session:
        producer = tasks.Execute(["sh", "-c", UPPER, "upper", marks], stdin=blob(b"kept data"),
                                 stdout=True, cpus=2)
        producer.output.keep()
        session.submit()
        session.wait_all()
        producer.update()
        victim_id = producer.info.governor
        [victim] = [g for g in cluster.governors if "--cpus" in g.args and
                    g.args[g.args.index("--cpus") + 1] == "2"]

        def registered():
            return {g["governor_id"] for g in client.get_server_info()["governors"]}

        victim.popen.send_signal(signal.SIGSTOP)
        try:
            assert wait_until(lambda: victim_id not in registered(), 30), cluster.logs()
        finally:
            victim.popen.send_signal(signal.SIGCONT)
        assert wait_until(lambda: victim_id in registered(), 30), cluster.logs()
        assert producer.output.fetch().get_bytes() == b"KEPT DATA"
        assert runs(marks) == 1, cluster.logs()
        [victim_info] = [g for g in client.get_server_info()["governors"]
                         if g["governor_id"] == victim_id]
        assert tuple(producer.output.id) in {tuple(i) for i in victim_info["objects"]}

"""The event log (docs/events.md) through real processes: what a small pipeline with a failure
records, `POST /events` with every criterion mode, the JSON views over the log, sessions left open
by a crashed server closed `ServerLost`, and `rain status`."""

import json
import os
import signal
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from rain.client import Client, TaskException, blob, tasks
from rain_testing import RAIN_BIN, REPO, Process, RainCluster, free_port

MODES = ("=", "<", ">", "<=", ">=")


def http(port, path, body=None):
    """JSON of GET (or POST with ``body``) on the server's monitoring port, with its headers."""
    request = urllib.request.Request(
        "http://127.0.0.1:{}{}".format(port, path),
        data=None if body is None else json.dumps(body).encode(),
        method="GET" if body is None else "POST",
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response), response.headers


def events(port, criteria=None):
    return http(port, "/events", criteria or {})[0]


def wait_for(predicate, timeout=15.0, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.1)


def compare(a, mode, b):
    return {"=": a == b, "<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[mode]


@pytest.fixture(scope="module")
def run():
    """Two 1-cpu governors (so two sleeps run on different governors and their consumer must
    fetch one input from the other), a pipeline that succeeds and one that fails."""
    cluster = RainCluster((1, 1), governor_env={"RAIN_MONITORING_INTERVAL": "0.2"})
    try:
        client = cluster.client()
        with client.new_session("pipeline") as good:
            left = tasks.Sleep(blob(b"x"), 0.3, name="left")
            right = tasks.Sleep(blob(b"y"), 0.3, name="right")
            join = tasks.Concat((left.output, right.output), name="join")
            join.output.keep()
            good.submit()
            good.wait_all()
            assert join.output.fetch().get_bytes() == b"xy"
            good.unkeep([join.output])
        with client.new_session("failing") as bad:
            tasks.Load("/nonexistent/rain-test-no-such-file", name="bad")
            bad.submit()
            with pytest.raises(TaskException, match="cannot open '/nonexistent/rain-test-no-"):
                bad.wait_all()
        wait_for(lambda: len(events(cluster.http_port, {"event_types": [
            {"value": "SessionClosed", "mode": "="}]})) == 2, what="both sessions closed")
        wait_for(lambda: len({e["event"]["governor"] for e in events(cluster.http_port, {
            "event_types": [{"value": "Monitoring", "mode": "="}]})}) == 2,
            what="monitoring of both governors")
        # Governors report transfers in batches a fraction of a second later.
        wait_for(lambda: events(cluster.http_port, {"event_types": [
            {"value": "DataTransfer", "mode": "="}]}), what="the transfer of an input")
        yield {"cluster": cluster, "good": good.session_id, "bad": bad.session_id,
               "join": join.id.id, "left": left.id.id, "right": right.id.id}
    finally:
        cluster.stop()


def test_pipeline_with_a_failure_is_recorded(run):
    port = run["cluster"].http_port
    log = events(port)
    assert [e["id"] for e in log] == sorted(e["id"] for e in log)
    by_type = {}
    for e in log:
        assert e["event"]["type"]
        assert e["time"].endswith("Z")
        by_type.setdefault(e["event"]["type"], []).append(e["event"])
    assert len(by_type["ServerStart"]) == 1
    governors = {e["governor"] for e in by_type["GovernorNew"]}
    assert governors == set(run["cluster"].governor_ids())
    assert all(e["resources"] == {"cpus": 1} for e in by_type["GovernorNew"])
    assert len(by_type["ClientNew"]) == 1
    assert [(e["session"], e["spec"]["name"]) for e in by_type["SessionNew"]] == [
        (run["good"], "pipeline"), (run["bad"], "failing")]

    submits = {e["session"]: e for e in by_type["ClientSubmit"]}
    names = sorted(t.get("name") for t in submits[run["good"]]["tasks"])
    assert names == ["join", "left", "right"]
    join_spec = [t for t in submits[run["good"]]["tasks"] if t.get("name") == "join"][0]
    assert join_spec["task_type"] == "buildin/concat"
    assert join_spec["id"] == [run["good"], run["join"]]
    kept = [o for o in submits[run["good"]]["dataobjs"] if o.get("keep")]
    assert [o["id"] for o in kept] == join_spec["outputs"]

    started = {tuple(e["task"]) for e in by_type["TaskStarted"]}
    assert len(started) == 4
    finished = {tuple(e["task"]): e for e in by_type["TaskFinished"]}
    assert set(finished) == started
    ok = finished[(run["good"], run["join"])]
    assert ok["info"]["governor"] in governors and ok["info"]["duration"] >= 0
    assert ok["outputs"] == [[join_spec["outputs"][0][1], 2]]
    failed = [e for t, e in finished.items() if t[0] == run["bad"]][0]
    assert "rain-test-no-such-file" in failed["info"]["error"]

    closed = {e["session"]: e for e in by_type["SessionClosed"]}
    assert closed[run["good"]]["reason"] == "ClientClose"
    assert closed[run["bad"]]["reason"] == "Error"
    assert "rain-test-no-such-file" in closed[run["bad"]]["message"]
    assert by_type["ClientUnkeep"][0]["dataobjs"] == join_spec["outputs"]

    # The join ran where one sleep ran and fetched the other's output from its governor.
    transfers = [e for e in by_type["DataTransfer"]
                 if e["object"][0] == run["good"] and e["from"] in governors]
    assert len(transfers) == 1
    t = transfers[0]
    assert t["to"] == ok["info"]["governor"] and t["from"] != t["to"]
    assert t["bytes"] == 1 and t["duration"] >= 0

    sample = by_type["Monitoring"][0]
    assert sample["governor"] in governors
    assert len(sample["cpu_usage"]) == os.cpu_count()
    assert 0 < sample["mem_usage"] <= 100
    assert all(len(v) == 2 for v in sample["net_stat"].values())


def test_events_criteria_every_mode(run):
    port = run["cluster"].http_port
    everything = events(port)
    middle = everything[len(everything) // 2]["id"]
    last = everything[-1]["id"]
    for mode in MODES:
        # Monitoring samples go on being logged: compare over the events of `everything`.
        got = [e["id"] for e in events(port, {"id": {"value": middle, "mode": mode}})
               if e["id"] <= last]
        assert got == [e["id"] for e in everything if compare(e["id"], mode, middle)], mode
        got = [e["id"] for e in events(port, {"session": {"value": run["bad"], "mode": mode}})]
        expected = [e["id"] for e in everything if e["event"]["type"] in (
            "SessionNew", "SessionClosed", "ClientSubmit", "ClientUnkeep", "TaskStarted",
            "TaskFinished", "DataTransfer") and compare(_session(e), mode, run["bad"])]
        assert got == expected, mode
    types = [{"value": "TaskStarted", "mode": "="}, {"value": "SessionNew", "mode": "="}]
    got = events(port, {"event_types": types})
    assert got == [e for e in everything
                   if e["event"]["type"] in ("TaskStarted", "SessionNew")]
    got = events(port, {"event_types": types, "session": {"value": run["good"], "mode": "="},
                        "id": {"value": middle, "mode": "<="}})
    assert got == [e for e in everything if e["event"]["type"] in ("TaskStarted", "SessionNew")
                   and _session(e) == run["good"] and e["id"] <= middle]
    _, headers = http(port, "/events", {})
    assert headers["Access-Control-Allow-Origin"] == "*"
    with pytest.raises(urllib.error.HTTPError) as error:
        http(port, "/events", {"id": {"value": 1, "mode": "<>"}})
    assert error.value.code == 400


def _session(event):
    e = event["event"]
    if "session" in e:
        return e["session"]
    if "task" in e:
        return e["task"][0]
    return e["object"][0]


def test_json_views_over_the_log(run):
    port = run["cluster"].http_port
    sessions = {s["session"]: s for s in http(port, "/api/v1/sessions")[0]}
    good, bad = sessions[run["good"]], sessions[run["bad"]]
    assert (good["name"], good["status"], good["tasks_total"], good["tasks_finished"]) == (
        "pipeline", "closed", 3, 3)
    assert (bad["status"], bad["tasks_failed"]) == ("failed", 1)
    assert "rain-test-no-such-file" in bad["error"]
    summary = http(port, "/api/v1/sessions/{}/summary".format(run["good"]))[0]
    assert summary["bytes"] == 4 and len(summary["governors"]) == 2
    assert summary["progress"][-1][1] == 0 and max(n for _, n in summary["progress"]) >= 1
    groups = {g["name"]: g for g in http(
        port, "/api/v1/sessions/{}/task_groups".format(run["good"]))[0]}
    assert sorted(groups) == ["join", "left", "right"]
    assert groups["left"]["count"] == 1 and groups["left"]["duration_max"] >= 0.3
    stream = http(port, "/api/v1/sessions/{}/task_stream".format(run["good"]))[0]
    assert sorted(t["name"] for t in stream["tasks"]) == ["join", "left", "right"]
    assert all(t["cpu"] == 0 and t["end"] >= t["start"] >= 0 for t in stream["tasks"])
    assert [g["cpus"] for g in stream["governors"]] == [1, 1]
    graph = http(port, "/api/v1/sessions/{}/task_graph".format(run["good"]))[0]
    assert sorted((e["from"], e["to"], e["count"]) for e in graph["edges"]) == [
        ("left", "join", 1), ("right", "join", 1)]
    task = http(port, "/api/v1/sessions/{}/tasks/{}".format(run["good"], run["join"]))[0]
    assert task["spec"]["name"] == "join" and task["state"] == "finished"
    assert sorted(i["producer"] for i in task["inputs"]) == sorted([run["left"], run["right"]])
    assert len(task["transfers"]) == 1 and task["outputs"][0]["size"] == 2
    failed = http(port, "/api/v1/sessions/{}/tasks/{}".format(
        run["bad"], _only_task(port, run["bad"])))[0]
    assert failed["state"] == "failed" and "rain-test-no-such-file" in failed["error"]
    assert len(http(port, "/api/v1/sessions/{}/transfers".format(run["good"]))[0]) == 1
    assert len(http(port, "/api/v1/governors")[0]) == 2
    series = http(port, "/api/v1/monitoring")[0]["governors"]
    assert len(series) == 2 and all(s["points"] for s in series)
    with pytest.raises(urllib.error.HTTPError) as error:
        http(port, "/api/v1/sessions/999/summary")
    assert error.value.code == 404


def _only_task(port, session):
    submit = events(port, {"session": {"value": session, "mode": "="},
                           "event_types": [{"value": "ClientSubmit", "mode": "="}]})
    return submit[0]["event"]["tasks"][0]["id"][1]


def _start_server(workspace, logdir, name, *extra):
    port, http_port = free_port(), free_port()
    ready = os.path.join(workspace, name + ".ready")
    process = Process(name, [
        RAIN_BIN, "server", "--listen", "127.0.0.1:{}".format(port),
        "--http-listen", "127.0.0.1:{}".format(http_port), "--logdir", logdir,
        "--ready-file", ready] + list(extra), os.path.join(workspace, name + ".out"))
    deadline = time.monotonic() + 20
    while not os.path.exists(ready):
        assert process.alive(), process.describe()
        assert time.monotonic() < deadline, process.describe()
        time.sleep(0.05)
    return process, port, http_port


def test_sessions_left_open_by_a_crash_are_closed_server_lost(tmp_path):
    logdir = str(tmp_path / "logs")
    first, port, http_port = _start_server(str(tmp_path), logdir, "first")
    second = None
    try:
        client = Client("127.0.0.1", port)
        crashed = client.new_session("crashed").session_id
        wait_for(lambda: events(http_port, {"event_types": [
            {"value": "SessionNew", "mode": "="}]}), what="SessionNew written")
        os.kill(first.pid, signal.SIGKILL)
        first.popen.wait()
        try:
            client.close()
        except Exception:
            pass

        # --fresh: the crashed server's sessions are not restored (test_server_restart.py).
        second, port, http_port = _start_server(str(tmp_path), logdir, "second", "--fresh")
        closed = events(http_port, {"event_types": [{"value": "SessionClosed", "mode": "="}]})
        assert [(e["event"]["session"], e["event"]["reason"]) for e in closed] == [
            (crashed, "ServerLost")]
        wait_for(lambda: len(events(http_port, {"event_types": [
            {"value": "ServerStart", "mode": "="}]})) == 2, what="the second ServerStart")
        client = Client("127.0.0.1", port)
        later = client.new_session("later").session_id
        assert later > crashed  # numbering continues over the same log
        sessions = {s["session"]: s["status"] for s in http(http_port, "/api/v1/sessions")[0]}
        assert sessions[crashed] == "lost"
        # A server shut down with a session still open closes it ServerLost too (a session of
        # no client: a connected client's session would be closed with its connection).
        still_open = client._api.transport.call(
            "POST", "/sessions", {"spec": {"name": "open at shutdown"}})["session_id"]
        client.close()
        second.stop()
        assert second.popen.returncode == 0, second.describe()
        db = sqlite3.connect(os.path.join(logdir, "events.db"))
        rows = db.execute("SELECT session, event FROM events WHERE event_type = 'SessionClosed' "
                          "ORDER BY id").fetchall()
        db.close()
        reasons = {s: json.loads(e)["reason"] for s, e in rows}
        assert reasons[still_open] == "ServerLost"
        assert reasons[later] == "ClientClose"
    finally:
        for process in (first, second):
            if process is not None:
                process.stop()


def test_event_log_can_be_turned_off(rain_cluster):
    cluster = rain_cluster(governors=[1], server_env={"RAIN_EVENT_LOG": "0"})
    client = cluster.client()
    with client.new_session() as s:
        tasks.Concat((blob(b"a"), blob(b"b")))
        s.submit()
        s.wait_all()
    assert events(cluster.http_port) == []
    assert http(cluster.http_port, "/api/v1/sessions")[0] == []
    assert not os.path.exists(cluster.path("server-logs", "events.db"))


def rain_status(*args):
    return subprocess.run([RAIN_BIN, "status", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=60)


def test_rain_status_table_and_json(rain_cluster):
    cluster = rain_cluster(governors=[2, 1], governor_env={"RAIN_MONITORING_INTERVAL": "0.2"})
    client = cluster.client()
    with client.new_session("busy one") as s:
        done = tasks.Concat((blob(b"a"), blob(b"b")))
        slow = tasks.Sleep(blob(b"z"), 60)
        s.submit()
        s.wait([done])
        wait_for(lambda: all(g.get("monitoring") for g in http(
            cluster.http_port, "/api/v1/status")[0]["governors"]), what="monitoring samples")
        wait_for(lambda: sum(g["running_tasks"] for g in http(
            cluster.http_port, "/api/v1/status")[0]["governors"]) == 1, what="the sleep running")
        result = rain_status(cluster.address)
        assert result.returncode == 0, result.stderr
        out = result.stdout
        assert "GOVERNOR" in out and "SESSION" in out
        for governor in cluster.governor_ids(client):
            assert governor in out
        line = [l for l in out.splitlines() if "busy one" in l][0]
        assert "running" in line and " 1 " in line and " 2 " in line and "50.0%" in line
        result = rain_status(cluster.address, "--json")
        assert result.returncode == 0, result.stderr
        status = json.loads(result.stdout)
        assert sorted(g["cpus"] for g in status["governors"]) == [1, 2]
        assert all(0 < g["monitoring"]["mem_usage"] <= 100 for g in status["governors"])
        assert sum(g["running_tasks"] for g in status["governors"]) == 1
        [session] = status["sessions"]
        assert (session["name"], session["tasks_submitted"], session["tasks_finished"]) == (
            "busy one", 2, 1)
        # the monitoring (--http-listen) address answers the same
        result = rain_status("127.0.0.1:{}".format(cluster.http_port), "--json")
        assert result.returncode == 0 and json.loads(result.stdout)["sessions"][0]["name"] == \
            "busy one"
        assert slow  # still running
    result = rain_status("127.0.0.1:{}".format(free_port()))
    assert result.returncode == 1 and "no Rain server answers" in result.stderr


def test_a_task_run_again_by_rerun_failed_is_shown_finished(cluster, tmp_path):
    """The views (live, from the log) follow `rerun_failed`: the task's failed run becomes one of
    its attempts and the task shows finished, counted once in the session list."""
    flag = tmp_path / "fixed"
    client = cluster.client()
    try:
        with client.new_session(on_failure="continue") as session:
            task = tasks.Execute(["sh", "-c", 'echo "attempt $RAIN_TASK_ATTEMPT"; cat "$0"',
                                  str(flag)], name="flaky")
            session.submit()
            with pytest.raises(TaskException, match="1 task of session"):
                session.wait_all()
            port, sid, tid = cluster.http_port, session.session_id, task.id.id
            assert http(port, "/api/v1/sessions/{}/tasks/{}".format(sid, tid))[0]["state"] \
                == "failed"
            flag.write_bytes(b"")
            assert session.rerun_failed() == [task]
            session.wait_all()
            detail = http(port, "/api/v1/sessions/{}/tasks/{}".format(sid, tid))[0]
            assert detail["state"] == "finished" and "error" not in detail
            assert len(detail["attempts"]) == 2 and "exited with code 1" in \
                detail["attempts"][0]["error"]
            row = next(r for r in http(port, "/api/v1/sessions")[0] if r["session"] == sid)
            assert (row["tasks_finished"], row["tasks_failed"], row["tasks_running"]) == (1, 0, 0)
            logs = task.logs()
            assert (logs.stdout, logs.attempt) == ("attempt 2\n", 2)
    finally:
        client.close()

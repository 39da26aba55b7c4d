"""Per-task output (issue 17): what tasks print, captured per task by the governor, recorded in
the event log and read back by ``task.logs()``, the live echo and ``rain logs``."""

import os
import shutil
import subprocess
import sys

import pytest

from rain.client import RainException, TaskException, remote, tasks
from rain_testing import RAIN_BIN, subprocess_env, wait_until

HEAD = TAIL = 32 * 1024


def test_python_task_output_is_its_own(client):
    @remote()
    def chatty(ctx, n):
        import subprocess as sp
        print(f"hello from {n}")
        print(f"warning {n}", file=sys.stderr)
        # What it starts lands in its output too (fd 1 and 2 are redirected).
        sp.run(["echo", f"child of {n}"], check=True)
        return b""

    with client.new_session() as session:
        ts = [chatty(i) for i in range(6)]
        session.submit()
        session.wait_all()
        for i, t in enumerate(ts):
            logs = t.logs()
            assert logs.stdout == f"hello from {i}\nchild of {i}\n"
            assert logs.stderr == f"warning {i}\n"
            assert logs.attempt == 1
            assert logs.state == "finished"


def test_silent_task_has_empty_logs(client):
    @remote()
    def quiet(ctx):
        return b"x"

    with client.new_session() as session:
        t = quiet()
        session.submit()
        t.wait()
        logs = t.logs()
        assert (logs.stdout, logs.stderr, logs.attempt) == ("", "", None)


def test_program_stdout_and_stderr_unless_mapped(client):
    with client.new_session() as session:
        shown = tasks.Execute(["sh", "-c", "echo out; echo err >&2"], name="shown")
        mapped = tasks.Execute(["sh", "-c", "echo data; echo note >&2"], stdout=True)
        mapped.output.keep()
        session.submit()
        session.wait_all()
        assert shown.logs().stdout == "out\n"
        assert shown.logs().stderr == "err\n"
        # The standard output is the task's output object, not its log.
        assert mapped.output.fetch().get_bytes() == b"data\n"
        assert mapped.logs().stdout == ""
        assert mapped.logs().stderr == "note\n"


def test_output_of_a_failed_task_stays_readable(client):
    @remote()
    def broken(ctx):
        print("about to fail")
        raise ValueError("bad input")

    session = client.new_session()
    with session.bind_only():
        t = broken()
    session.submit()
    with pytest.raises(TaskException, match="bad input"):
        session.wait_all()
    logs = t.logs()
    assert logs.stdout == "about to fail\n"
    assert logs.state == "failed"
    session.close()
    # After the session closed, still there (the event log).
    assert t.logs().stdout == "about to fail\n"


def test_output_is_capped_head_and_tail(client):
    with client.new_session() as session:
        # 200 KiB: 'a's, then a marked end.
        t = tasks.Execute(["sh", "-c", "head -c 204800 /dev/zero | tr '\\0' a; echo END"])
        session.submit()
        t.wait()
        out = t.logs().stdout
        dropped = 204800 + 4 - HEAD - TAIL
        assert f"[rain: {dropped} bytes dropped here" in out
        assert out.startswith("a" * HEAD)
        assert out.endswith("a" * (TAIL - 4) + "END\n")


def test_python_task_output_is_capped(client):
    @remote()
    def flood(ctx):
        sys.stdout.write("b" * 100_000 + "\n")
        return b""

    with client.new_session() as session:
        t = flood()
        session.submit()
        t.wait()
        out = t.logs().stdout
        assert "[rain: " in out and "bytes dropped here" in out
        assert len(out) < HEAD + TAIL + 200


def test_retried_task_reports_its_last_attempt(client):
    @remote(max_retries=1)
    def flaky(ctx):
        print(f"attempt {ctx.attempt}")
        if ctx.attempt == 1:
            raise RuntimeError("first time")
        return b""

    with client.new_session() as session:
        t = flaky()
        session.submit()
        t.wait()
        logs = t.logs()
        assert logs.stdout == "attempt 2\n"
        assert logs.attempt == 2


def test_echo_prints_each_line_prefixed_by_its_task(cluster):
    script = f"""
import sys
sys.path.insert(0, {os.path.join(os.path.dirname(__file__), '..', 'client_py')!r})
from rain.client import Client, remote, tasks
client = Client("127.0.0.1", {cluster.port})

@remote()
def greet(ctx):
    print("hi there")
    print("two lines", file=sys.stderr)
    return b""

with client.new_session(echo=True) as session:
    t = greet()
    p = tasks.Execute(["echo", "from a program"], name="prog")
    session.submit()
    session.wait_all()
    print("ids", t.id.id, p.id.id)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=subprocess_env(), timeout=60)
    assert done.returncode == 0, done.stderr
    ids = next(line for line in done.stdout.splitlines() if line.startswith("ids")).split()
    sid_line = next(line for line in done.stdout.splitlines() if "hi there" in line)
    session_id = sid_line.split()[1].split("/")[0]
    assert f"(task {session_id}/{ids[1]} greet) hi there" in done.stdout
    assert f"(task {session_id}/{ids[2]} prog) from a program" in done.stdout
    assert f"(task {session_id}/{ids[1]} greet) two lines" in done.stderr


def test_echo_close_prints_what_is_left_and_a_failed_tasks_stderr(cluster):
    # No poll before the close (a one-hour interval): what is printed, close() printed.
    script = f"""
import sys
sys.path.insert(0, {os.path.join(os.path.dirname(__file__), '..', 'client_py')!r})
import rain.client.logs
from rain.client import Client, TaskException, remote
rain.client.logs.ECHO_INTERVAL = 3600
client = Client("127.0.0.1", {cluster.port})

@remote()
def fine(ctx):
    print("all good")
    return b""

@remote()
def bad(ctx):
    print("about to fail", file=sys.stderr)
    raise ValueError("broken")

session = client.new_session(echo=True)
with session.bind_only():
    t = fine()
session.submit()
t.wait()
with session.bind_only():
    b = bad()
session.submit()
try:
    session.wait_all()
except TaskException:
    pass
print("before close", t.id.id, b.id.id, session.session_id, flush=True)
session.close()
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=subprocess_env(), timeout=60)
    assert done.returncode == 0, done.stderr
    before, _, after = done.stdout.partition("before close")
    tid, bid, sid = after.split("\n", 1)[0].split()
    assert "all good" not in before
    assert after.count(f"(task {sid}/{tid} fine) all good\n") == 1
    assert f"(task {sid}/{bid} bad) about to fail\n" in done.stderr


def test_echo_is_off_by_default(client, capfd):
    @remote()
    def speak(ctx):
        print("not echoed")
        return b""

    with client.new_session() as session:
        speak()
        session.submit()
        session.wait_all()
    assert "not echoed" not in capfd.readouterr().out


def test_logs_of_an_unsubmitted_task_is_an_error(client):
    with client.new_session():
        t = tasks.Concat([])
        with pytest.raises(RainException, match="has not been submitted"):
            t.logs()


def _rain(*args, env=None):
    return subprocess.run([RAIN_BIN, *args], capture_output=True, text=True, timeout=60,
                          env=env or os.environ)


def test_rain_logs_live_and_post_mortem(rain_cluster):
    cluster = rain_cluster()
    client = cluster.client()

    @remote()
    def talk(ctx):
        print("line one")
        print("oops", file=sys.stderr)
        return b""

    with client.new_session() as session:
        t = talk()
        session.submit()
        t.wait()
        sid, tid = str(session.session_id), str(t.id.id)
        live = _rain("logs", sid, tid, "--server", cluster.address)
        assert live.returncode == 0, live.stderr
        assert live.stdout == "line one\n"
        assert live.stderr == "oops\n"
    missing = _rain("logs", sid, "999", "--server", cluster.address)
    assert missing.returncode == 1
    assert f"task {sid}/999 is not in the event log" in missing.stderr
    client.close()
    for process in reversed(cluster.all_processes()):
        process.stop()
    # The stopped server's log, read alone (the cluster's workspace goes at teardown).
    dead = _rain("logs", sid, tid, "--logdir", cluster.path("server-logs"))
    assert dead.returncode == 0, dead.stderr
    assert dead.stdout == "line one\n"
    assert dead.stderr == "oops\n"
    unknown = _rain("logs", "99", tid, "--logdir", cluster.path("server-logs"))
    assert unknown.returncode == 1
    assert f"session 99 is not in " in unknown.stderr and f"it holds session {sid}" in unknown.stderr


CHROMIUM = os.environ.get("RAIN_TEST_CHROMIUM", "/usr/bin/chromium")


@pytest.mark.skipif(not os.path.exists(CHROMIUM) or shutil.which("node") is None,
                    reason="chromium and node are needed (apt-get install chromium)")
def test_dashboard_inspector_shows_the_output(cluster, tmp_path):
    import json

    @remote()
    def report(ctx):
        print("rows: 42")
        print("x" * 3000, file=sys.stderr)  # one long line: wrapped, not widening the page
        return b""

    client = cluster.client()
    with client.new_session() as session:
        t = report()
        session.submit()
        t.wait()
        # The report reads events.db, which the server writes in batches: wait for the row.
        assert wait_until(lambda: t.logs().stdout == "rows: 42\n", timeout=30)
        sid, tid = session.session_id, t.id.id
        # Asking for it also has the server flush its log, which `rain report` reads below.
        assert t.logs().stdout == "rows: 42\n"
    html = tmp_path / "report.html"
    made = subprocess.run([RAIN_BIN, "report", "--logdir", cluster.path("server-logs"),
                           "--session", str(sid), "-o", str(html)],
                          capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    pages = [f"http://127.0.0.1:{cluster.http_port}/#/s/{sid}/task/{tid}",
             f"file://{html}#/s/{sid}/task/{tid}"]
    driver = os.path.join(os.path.dirname(__file__), "task_output_browser.mjs")
    args = {"pages": pages, "stdout": "rows: 42\n", "stderr": "x" * 3000 + "\n"}
    done = subprocess.run(["node", driver, json.dumps(args)], capture_output=True, text=True,
                          timeout=120, cwd=os.path.dirname(os.path.dirname(driver)))
    assert done.returncode == 0, done.stdout + done.stderr

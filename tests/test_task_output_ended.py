"""The output of tasks that did not end on their own (issue 17): what a task printed until it was
killed by its time limit, cancelled, stopped with its session, or until its executor crashed is
recorded as any other attempt's output. And the governor's caps on output files while a call
runs, and on its per-task files once a session is closed."""

import os
import sys

import pytest

from rain.client import TaskException, remote, tasks
from rain_testing import wait_until


def _printed(task, text, timeout=60):
    """Waits until the task's recorded stdout is `text` (it is recorded once the governor has
    reaped the killed attempt, a moment after the client heard of its end)."""
    return wait_until(lambda: task.logs().stdout == text, timeout=timeout)


def test_program_killed_by_its_time_limit_reports_what_it_printed(client):
    with client.new_session() as session:
        t = tasks.Execute(["sh", "-c", "echo before the limit; echo warn >&2; exec sleep 60"],
                          time_limit=3)
        session.submit()
        with pytest.raises(TaskException, match="time limit of 3 s"):
            session.wait_all()
        assert _printed(t, "before the limit\n")
        logs = t.logs()
        assert (logs.stderr, logs.state) == ("warn\n", "failed")


def test_python_task_killed_by_its_time_limit_reports_what_it_printed(client):
    @remote(time_limit=8)
    def slow(ctx):
        import time
        print("step 1 done")  # no flush: the executor line-buffers its calls' output
        time.sleep(120)
        return b""

    with client.new_session() as session:
        t = slow()
        session.submit()
        with pytest.raises(TaskException, match="time limit of 8 s"):
            session.wait_all()
        assert _printed(t, "step 1 done\n")


def test_cancelled_task_reports_what_it_printed(client, tmp_path):
    marker = str(tmp_path / "printed")

    @remote()
    def waits(ctx, marker):
        import time
        print("working on it")
        open(marker, "w").close()
        time.sleep(120)
        return b""

    with client.new_session() as session:
        t = waits(marker)
        session.submit()
        assert wait_until(lambda: os.path.exists(marker), timeout=60)
        assert session.cancel(t) == [t]
        assert _printed(t, "working on it\n")
        assert t.logs().attempt == 1


def test_task_stopped_by_its_session_close_reports_what_it_printed(client, tmp_path):
    marker = str(tmp_path / "printed")
    session = client.new_session()
    with session.bind_only():
        t = tasks.Execute(["sh", "-c", 'echo still running; : > "$0"; exec sleep 120', marker])
    session.submit()
    assert wait_until(lambda: os.path.exists(marker), timeout=60)
    session.close()
    assert _printed(t, "still running\n")


def test_crashed_executor_reports_what_its_task_printed(client):
    @remote()
    def crash(ctx):
        import signal
        print("last words")
        print("on stderr", file=sys.stderr)
        os.kill(os.getpid(), signal.SIGKILL)
        return b""

    with client.new_session() as session:
        t = crash()
        session.submit()
        with pytest.raises(TaskException, match="died while running the task"):
            session.wait_all()
        logs = t.logs()
        assert (logs.stdout, logs.stderr) == ("last words\n", "on stderr\n")


def test_python_task_output_file_is_emptied_while_it_runs(client):
    limit = 1024 * 1024  # OUTPUT_FILE_LIMIT (governor/executors/call_output.ts)
    chunk = 2 * limit

    @remote()
    def flood(ctx):
        import time
        sizes = []
        for i in range(3):
            sys.stdout.buffer.write(b"%d" % i * chunk)
            sys.stdout.flush()
            # The governor empties the file of a running call once it is past the limit.
            deadline = time.monotonic() + 60
            while os.fstat(1).st_size > limit and time.monotonic() < deadline:
                time.sleep(0.05)
            sizes.append(os.fstat(1).st_size)
        print("END")
        return str(sizes).encode()

    with client.new_session() as session:
        t = flood()
        t.output.keep()
        session.submit()
        assert t.output.fetch().get_bytes() == b"[0, 0, 0]"
        out = t.logs().stdout
        head = tail = 32 * 1024
        dropped = 3 * chunk + 4 - head - tail
        assert out.startswith("0" * head + f"\n[rain: {dropped} bytes dropped here")
        assert out.endswith("2" * (tail - 4) + "END\n")

"""Failures of external programs: each fails its task (and session) with a precise message, never
the governor; closing or failing a session kills its programs with everything they started."""

import os
import signal

import pytest

from rain.client import (Input, InputDir, Output, OutputDir, RainException, TaskException, blob,
                         tasks)
from rain.client.rpc.common import TaskState
from rain_testing import wait_until
from test_submit_validation import constant, output, raw_submit, task


def failure_of(client, build):
    """Runs the graph ``build()`` creates in a new session; returns the TaskException text."""
    with client.new_session() as session:
        build()
        session.submit()
        with pytest.raises(TaskException) as error:
            session.wait_all()
    return str(error.value)


def test_program_not_found(client):
    text = failure_of(client, lambda: tasks.Execute("no-such-program-rain-test --help"))
    assert "program 'no-such-program-rain-test' not found" in text


def test_non_zero_exit_reports_the_code_and_stderr(client):
    text = failure_of(client, lambda: tasks.Execute(
        "echo ST''DOUT; echo 'it went wrong' >&2; exit 3", shell=True, stdout=True))
    assert "program exited with code 3" in text
    assert "stderr:\nit went wrong" in text
    assert "STDOUT" not in text  # the standard output is not part of the error
    assert __file__ in text  # where the task was created


def test_killed_by_a_signal(client):
    text = failure_of(client, lambda: tasks.Execute("kill -KILL $$", shell=True))
    assert "program was killed by signal SIGKILL" in text


def test_missing_output_is_named(client):
    text = failure_of(client, lambda: tasks.Execute(
        "touch present", shell=True, output_paths=["present", Output("result", path="res.txt")]))
    assert "output 'result' (path 'res.txt') was not created by the program" in text


def test_output_of_the_wrong_kind(client):
    text = failure_of(client, lambda: tasks.Execute("mkdir x", shell=True, output_paths=["x"]))
    assert "output 'x' is a directory, but a file was expected" in text
    text = failure_of(client, lambda: tasks.Execute(
        "touch d", shell=True, output_paths=[OutputDir("d")]))
    assert "output 'd' is a file, but a directory was expected" in text


def test_paths_escaping_the_working_directory_are_refused(client):
    with client.new_session():
        data = blob(b"x")
        for build in (lambda: tasks.Execute("cat", input_paths=[Input("x", path="../x",
                                                                      dataobj=data)]),
                      lambda: tasks.Execute(["cat", Input("x", path="/etc/x", dataobj=data)]),
                      lambda: tasks.Execute("true", output_paths=[Output("o", path="a/../../o")]),
                      lambda: tasks.Execute("true", output_paths=["/tmp/o"])):
            with pytest.raises(RainException, match="must be relative|must not contain '..'"):
                build()
    # The server refuses them too (a graph that bypasses the client's checks).
    with client.new_session() as session:
        sid = session.session_id
        for in_path, out_path in (("../x", "ok"), ("/abs/x", "ok"), ("x", "../o"), ("x", "/o")):
            config = {"args": ["cat"], "in_paths": [{"path": in_path}], "out_paths": [out_path]}
            with pytest.raises(RainException) as error:
                raw_submit(session, [task(sid, 11, "buildin/run", inputs=[10], outputs=[12],
                                          config=config)],
                           [constant(sid, 10), output(sid, 12)])
            assert error.value.kind == "InvalidGraph"
            bad = in_path if in_path != "x" else out_path
            assert "path '{}'".format(bad) in str(error.value)
    # Through a symlink inside an input directory: the governor refuses.
    with client.new_session() as session:
        made = tasks.Execute("mkdir d && ln -s / d/root", shell=True,
                             output_paths=[OutputDir("d")])
        tasks.Execute("true", input_paths=[InputDir("d", dataobj=made.output),
                                           Input("x", path="d/root/x", dataobj=blob(b"x"))])
        session.submit()
        with pytest.raises(TaskException, match="path 'd/root/x' leads out of the working"):
            session.wait_all()


def test_the_governor_survives_failures(client):
    with client.new_session() as session:
        t = tasks.Execute("echo still here", shell=True, stdout=True)
        t.output.keep()
        session.submit()
        assert t.output.fetch().get_bytes() == b"still here\n"


def read_pids(path):
    try:
        with open(path) as f:
            return [int(line) for line in f.read().split()]
    except FileNotFoundError:
        return []


def dead(pid):
    """Gone, or a zombie nobody reaped yet."""
    try:
        with open("/proc/{}/stat".format(pid)) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def sleepers(pid_file):
    """A program tree: a shell with two background sleeps, their pids written to pid_file."""
    return ("sleep 100 & echo $! >> {0}; sleep 100 & echo $! >> {0}; echo $$ >> {0}; wait"
            .format(pid_file))


def work_leftovers(cluster, index=0):
    """What programs left in a governor's temp dir: anything but the empty working directories
    it keeps for reuse."""
    tmp = cluster.path("governor-{}-work".format(index), "tmp")
    names = os.listdir(tmp) if os.path.isdir(tmp) else []
    return [n for n in names
            if not (os.path.isdir(os.path.join(tmp, n)) and not os.listdir(os.path.join(tmp, n)))]


def test_closing_a_session_kills_its_programs_and_frees_their_cpus(rain_cluster, tmp_path):
    cluster = rain_cluster(governors=[1])
    client = cluster.client()
    pid_file = str(tmp_path / "pids")
    session = client.new_session()
    with session.bind_only():
        # (with an input and a file of its own, so that its working directory is not empty)
        tasks.Execute("touch mine; " + sleepers(pid_file), shell=True, stdout=True,
                      input_paths=[Input("in", dataobj=blob(b"x" * 1000000))])
        session.submit()
    assert wait_until(lambda: len(read_pids(pid_file)) == 3), "the program tree started"
    assert work_leftovers(cluster) != []
    pids = read_pids(pid_file)
    session.close()
    assert wait_until(lambda: all(dead(p) for p in pids)), "every process of the tree was killed"
    with client.new_session() as s:  # the only cpu is free again
        t = tasks.Execute("echo next", shell=True, stdout=True)
        t.output.keep()
        s.submit()
        assert t.output.fetch().get_bytes() == b"next\n"
    assert wait_until(lambda: work_leftovers(cluster) == []), work_leftovers(cluster)


def test_a_failing_task_kills_the_other_programs_of_its_session(rain_cluster, tmp_path):
    cluster = rain_cluster(governors=[2])
    client = cluster.client()
    pid_file = str(tmp_path / "pids")
    with client.new_session() as session:
        tasks.Execute("touch mine; " + sleepers(pid_file), shell=True)
        tasks.Execute('until [ "$(cat {} 2>/dev/null | wc -l)" -ge 3 ]; do sleep 0.05; done; '
                      'exit 1'.format(pid_file), shell=True)
        session.submit()
        with pytest.raises(TaskException, match="exited with code 1"):
            session.wait_all()
    pids = read_pids(pid_file)
    assert len(pids) == 3
    assert wait_until(lambda: all(dead(p) for p in pids)), "the sleeping tree was killed"
    assert wait_until(lambda: work_leftovers(cluster) == []), work_leftovers(cluster)


def test_a_killed_governor_takes_its_programs_along(rain_cluster, tmp_path):
    cluster = rain_cluster(governors=[1])
    client = cluster.client()
    pid_file = str(tmp_path / "pids")
    session = client.new_session()
    with session.bind_only():
        sleeping = tasks.Execute(sleepers(pid_file), shell=True)
        session.submit()
    assert wait_until(lambda: len(read_pids(pid_file)) == 3)
    pids = read_pids(pid_file)
    os.kill(cluster.governors[0].pid, signal.SIGKILL)  # the governor alone, not its group
    assert wait_until(lambda: all(dead(p) for p in pids)), "the orphaned programs were killed"
    # The session is not failed by the loss: the task waits for another governor (issue 12).
    def waiting_for_a_governor():
        session.update([sleeping])
        return sleeping.state == TaskState.ready
    assert wait_until(waiting_for_a_governor)
    session.close()

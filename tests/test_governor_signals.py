"""A governor ended by SIGTERM exits at once and leaves its work directory as it is (Rain 0.4
§8), its programs and executors die with it (§1), and the next governor on the same work
directory removes the leftovers; an orderly stop (`rain stop`) removes the work directory."""

import os
import signal
import subprocess

from rain.client import blob, remote, tasks
from rain.client.rpc.common import DataObjectState, TaskState
from rain_testing import RAIN_BIN, STOP_TIMEOUT, Process, events_of_type, wait_until

SIGTERM_EXIT_CODE = 143


def dead(pid):
    """Gone, or a zombie nobody reaped yet."""
    try:
        with open("/proc/{}/stat".format(pid)) as f:
            return f.read().rsplit(") ", 1)[1].startswith("Z")
    except (FileNotFoundError, ProcessLookupError):
        return True


def read_when_present(path):
    assert wait_until(lambda: os.path.exists(path)), "{} was not written".format(path)
    with open(path) as f:
        return f.read().strip()


@remote()
def executor_pid(ctx):
    return str(os.getpid())


def test_sigterm_leaves_the_work_dir_and_the_next_governor_cleans_it(rain_cluster):
    cluster = rain_cluster(governors=(2,))
    governor = cluster.governors[0]
    work_dir = cluster.path("governor-0-work")
    client = cluster.client()
    pid_file = cluster.path("program.pid")

    session = client.new_session()
    with session.bind_only():
        big = tasks.Execute("head -c 2000000 /dev/zero", shell=True, stdout=True)
        big.output.keep()
        executor = executor_pid()
        executor.output.keep()
        session.submit()
        pids = [int(executor.output.fetch().get_str())]
        big.output.wait()
        # A program still running when the governor is killed.
        tasks.Execute("echo $$ > {0}.tmp && mv {0}.tmp {0} && exec sleep 60".format(pid_file),
                      shell=True)
        session.submit()
        pids.append(int(read_when_present(pid_file)))
    stored = os.path.join(work_dir, "data", str(session.session_id), str(big.output.id.id))
    assert os.path.getsize(stored) == 2000000, "the kept object is a file in the work dir"
    assert not any(dead(pid) for pid in pids)

    os.kill(governor.pid, signal.SIGTERM)  # the governor's own pid, not its group
    assert governor.popen.wait(STOP_TIMEOUT) == SIGTERM_EXIT_CODE
    assert wait_until(lambda: all(dead(pid) for pid in pids)), \
        "the executor and the program die with the governor"
    assert os.path.getsize(stored) == 2000000, "the work dir is left as it was"
    assert os.path.exists(os.path.join(work_dir, "governor.pid"))
    # The session is not failed by the loss: its work waits for a governor (issue 12).
    # Its kept output lived only there: it is to be recomputed once a governor comes.
    session.update([big, big.output])
    assert big.output.state == DataObjectState.unfinished
    assert big.state == TaskState.ready  # waiting for a governor
    session.close()

    # A new governor on the same work dir: ready only once it has removed the leftovers.
    ready = cluster.path("governor-0.ready")
    os.unlink(ready)
    successor = Process("governor-0-again", governor.args, cluster.path("governor-0-again.out"),
                        cluster._governor_env)
    cluster.governors.append(successor)
    cluster._wait_ready([(successor, ready)])
    assert not os.path.exists(os.path.join(work_dir, "data", str(session.session_id)))
    assert os.listdir(os.path.join(work_dir, "tmp")) == []
    assert not os.path.exists(os.path.join(work_dir, "executors"))
    with open(os.path.join(work_dir, "governor.pid")) as f:
        assert int(f.read()) == successor.pid

    # It works, and an orderly stop removes its work dir.
    with client.new_session() as again:
        t = tasks.Execute("echo works", shell=True, stdout=True)
        t.output.keep()
        again.submit()
        assert t.output.fetch().get_bytes() == b"works\n"
    client.close()
    stopped = subprocess.run([RAIN_BIN, "stop", cluster.address], capture_output=True,
                             timeout=60)
    assert stopped.returncode == 0, stopped.stderr
    assert successor.popen.wait(STOP_TIMEOUT) == 0
    assert not os.path.exists(work_dir), os.listdir(work_dir)


def test_a_work_dir_in_use_is_refused(rain_cluster):
    cluster = rain_cluster(governors=(1,))
    governor = cluster.governors[0]
    args = list(governor.args)
    args[args.index("--ready-file") + 1] = cluster.path("intruder.ready")
    intruder = subprocess.run(args, capture_output=True, timeout=60)
    assert intruder.returncode == 1
    assert "is in use by another governor (pid {})".format(governor.pid) in \
        intruder.stderr.decode()
    assert governor.alive()


def test_the_end_of_stdin_stops_a_watching_governor_in_order(rain_cluster):
    cluster = rain_cluster(governors=())
    work_dir = cluster.path("watching-work")
    ready = cluster.path("watching.ready")
    with open(cluster.path("watching.out"), "wb") as out:
        watching = subprocess.Popen(
            [RAIN_BIN, "governor", cluster.address, "--cpus", "1", "--listen", "127.0.0.1:0",
             "--workdir", work_dir, "--logdir", cluster.path("watching-logs"),
             "--ready-file", ready, "--watch-stdin"],
            stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True)
    try:
        assert wait_until(lambda: os.path.exists(ready) or watching.poll() is not None,
                          timeout=20)
        assert os.path.exists(ready), open(cluster.path("watching.out")).read()
        assert os.path.isdir(os.path.join(work_dir, "data"))
        watching.stdin.close()
        assert watching.wait(STOP_TIMEOUT) == 0
        assert not os.path.exists(work_dir)
    finally:
        if watching.poll() is None:
            watching.kill()
            watching.wait()


@remote()
def python_gate(ctx, marker_dir):
    """A Python task that notes its start, then waits for `go`."""
    import time
    marker_dir = marker_dir.get_str()
    with open(os.path.join(marker_dir, "py"), "a") as f:
        f.write("started\n")
    while not os.path.exists(os.path.join(marker_dir, "go")):
        time.sleep(0.02)
    return b"python done"


def test_sigterm_to_the_governors_process_group_reports_no_task_failure(rain_cluster):
    """Ctrl-C or a batch system's kill reaches the governor's programs too: they die of the
    signal, but a governor going down reports nothing for them, so the tasks are lost with it
    and run again elsewhere (issue 12) instead of failing the session."""
    cluster = rain_cluster(governors=(2,))
    client = cluster.client()
    [victim_id] = [g["governor_id"] for g in client.get_server_info()["governors"]]
    victim = cluster.governors[0]
    marker_dir = cluster.path("markers")
    os.makedirs(marker_dir)
    with client.new_session() as session:  # on_failure="fail": a failure would end it
        program = tasks.Execute(
            "echo started >> {d}/sh; while [ ! -e {d}/go ]; do sleep 0.02; done; echo sh done"
            .format(d=marker_dir), shell=True, stdout=True)
        program.output.keep()
        python = python_gate(blob(marker_dir))
        python.output.keep()
        session.submit()
        assert wait_until(lambda: all(
            os.path.exists(os.path.join(marker_dir, name)) for name in ("sh", "py")), 30)
        cluster.add_governor(cpus=2)
        os.killpg(victim.pid, signal.SIGTERM)  # the governor with its programs
        assert victim.popen.wait(STOP_TIMEOUT) == SIGTERM_EXIT_CODE
        open(os.path.join(marker_dir, "go"), "w").close()
        assert program.output.fetch().get_bytes() == b"sh done\n"
        assert python.output.fetch().get_bytes() == b"python done"
        for task in (program, python):
            task.update()
            assert task.info.governor != victim_id
            lost, last = task.info.attempts
            assert lost["governor"] == victim_id and lost["error"].startswith(
                "governor {} lost: ".format(victim_id))
            assert "error" not in last
        session.wait_all()
    assert wait_until(lambda: len(events_of_type(cluster, "TaskFinished")) >= 2, 30)
    finished = events_of_type(cluster, "TaskFinished")
    assert [e["info"].get("error") for e in finished] == [None, None]
    requeued = events_of_type(cluster, "TaskRequeued")
    assert sorted(tuple(e["task"]) for e in requeued) == sorted(
        (tuple(program.id), tuple(python.id)))

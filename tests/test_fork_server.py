"""The Python fork server (client_py/rain/executor/fork_server.py): each session's executor is
forked from one warm process per governor, leads its own process group, and a dead fork server
is replaced."""

import os
import signal

from rain.client import remote
from rain_testing import wait_until


@remote()
def whoami(ctx):
    import os
    return ("%d %d %d" % (os.getpid(), os.getppid(), os.getpgid(0))).encode()


def _run_whoami(client):
    with client.new_session() as session:
        t = whoami()
        t.output.keep()
        session.submit()
        return [int(v) for v in t.output.fetch().get_bytes().split()]


def _environ(pid):
    with open("/proc/{}/environ".format(pid), "rb") as f:
        return f.read().split(b"\0")


def test_sessions_get_executors_forked_from_one_server(rain_cluster):
    cluster = rain_cluster(governors=[1])
    client = cluster.client()
    (pid_a, parent_a, group_a), (pid_b, parent_b, group_b) = (
        _run_whoami(client), _run_whoami(client))
    assert pid_a != pid_b
    assert parent_a == parent_b
    assert b"RAIN_EXECUTOR_FORK_SERVER=1" in _environ(parent_a)
    assert (group_a, group_b) == (pid_a, pid_b)  # each its own process group
    # The first session's executor went with its session.
    assert wait_until(lambda: not os.path.exists("/proc/{}".format(pid_a)) or
                      open("/proc/{}/stat".format(pid_a)).read().split()[2] == "Z", timeout=20)

    # A fork server that dies is replaced: the next session still gets an executor.
    os.kill(parent_a, signal.SIGKILL)
    pid_c, parent_c, _ = _run_whoami(client)
    assert parent_c != parent_a and pid_c not in (pid_a, pid_b)
    assert cluster.governors[0].alive(), cluster.logs()
    pid_d, parent_d, _ = _run_whoami(client)
    assert b"RAIN_EXECUTOR_FORK_SERVER=1" in _environ(parent_d)


def test_fork_server_can_be_turned_off(rain_cluster):
    cluster = rain_cluster(governors=[1], governor_env={"RAIN_NO_FORK_SERVER": "1"})
    _, parent, _ = _run_whoami(cluster.client())
    assert b"RAIN_EXECUTOR_FORK_SERVER=1" not in _environ(parent)
    with open("/proc/{}/cmdline".format(parent), "rb") as f:
        assert b"governor" in f.read().split(b"\0")

"""A governor that disappears does not take the server down: sessions that had work or sole data
on it fail with a clear error naming it; later work goes on with the other governors."""

import os
import signal
import time

import pytest

from rain.client import TaskException, blob, tasks


def listening_ports(pid):
    """TCP ports a process listens on (Linux /proc: its socket inodes matched in /proc/net)."""
    inodes = set()
    for fd in os.listdir("/proc/{}/fd".format(pid)):
        try:
            target = os.readlink("/proc/{}/fd/{}".format(pid, fd))
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            next(f)
            for line in f:
                fields = line.split()
                if fields[3] == "0A" and fields[9] in inodes:  # 0A = LISTEN
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def test_killed_governor_fails_its_session_and_the_server_goes_on(rain_cluster):
    cluster = rain_cluster(governors=[1, 1])
    client = cluster.client()
    session = client.new_session()
    with session.bind_only():
        long_task = tasks.Sleep(blob(b"x"), 30)
        session.submit()
    deadline = time.time() + 10
    while time.time() < deadline:
        long_task.update()
        if long_task.info is not None and long_task.info.governor:
            break
        time.sleep(0.05)
    victim_id = long_task.info.governor
    port = int(victim_id.rsplit(":", 1)[1])
    victim = [p for p in cluster.governors if port in listening_ports(p.pid)]
    assert len(victim) == 1, "no governor process listens on {}".format(port)
    victim[0].popen.send_signal(signal.SIGKILL)

    with pytest.raises(TaskException) as error:
        session.wait_all()
    assert "governor {} was lost".format(victim_id) in str(error.value)
    session.close()

    remaining = client.get_server_info()["governors"]
    assert [g["governor_id"] for g in remaining] != [victim_id] and len(remaining) == 1
    with client.new_session() as s:
        t = tasks.Concat((blob(b"still "), blob(b"working")))
        t.output.keep()
        s.submit()
        assert t.output.fetch().get_bytes() == b"still working"

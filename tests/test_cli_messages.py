"""Command-line messages (issue 17): a port clash names the address, a listen address that is
not an IP is refused when parsed, `rain report` of an unknown session lists those that exist,
a wrong RAIN_SECRET is said in words, counts of one are singular."""

import os
import socket
import subprocess

from rain.client import tasks
from rain_testing import RAIN_BIN, wait_until


def rain(*args, env=None):
    return subprocess.run([RAIN_BIN, *args], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, **(env or {})))


def test_port_clash_names_the_address(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = rain("server", "--listen", f"127.0.0.1:{port}", "--http-listen", "127.0.0.1:0",
                    "--logdir", str(tmp_path / "logs"))
    assert done.returncode == 1
    assert (f"cannot listen on 127.0.0.1:{port} (--listen): the address is already in use"
            in done.stderr), done.stderr


def test_listen_that_is_not_an_ip_is_a_usage_error(tmp_path):
    done = rain("server", "--listen=abc", "--logdir", str(tmp_path / "logs"))
    assert done.returncode == 2
    assert done.stderr.startswith(
        "rain: --listen 'abc' is not valid: 'abc' is not an IP address"), done.stderr
    assert not (tmp_path / "logs").exists()  # nothing was started


def test_rain_alone_lists_every_command():
    done = rain()
    assert done.returncode == 2
    for command in ("start", "stop", "status", "drain", "server", "governor", "dashboard",
                    "report", "logs"):
        assert f"\n  {command} " in done.stderr, command


def test_report_of_an_unknown_session_lists_the_sessions(rain_cluster, tmp_path):
    cluster = rain_cluster()
    client = cluster.client()
    ids = []
    for _ in range(3):
        with client.new_session() as session:
            tasks.Concat([])
            session.submit()
            session.wait_all()
            ids.append(session.session_id)
    assert ids == list(range(ids[0], ids[0] + 3))
    listed = f"it holds sessions {ids[0]}-{ids[2]}"
    answers = []

    def report_lists_all():
        # The server writes its log in batches: the last session's rows come a moment later.
        answers.append(rain("report", "--logdir", cluster.path("server-logs"), "--session", "99",
                            "-o", str(tmp_path / "r.html")))
        return listed in answers[-1].stderr

    assert wait_until(report_lists_all, timeout=30), answers[-1].stderr
    done = answers[-1]
    assert done.returncode == 1
    assert f"session 99 is not in " in done.stderr


def test_status_with_a_wrong_secret_says_so_in_words(cluster):
    done = rain("status", cluster.address, env={"RAIN_SECRET": "not-the-secret"})
    assert done.returncode == 1
    assert done.stderr == (f"rain: the server at {cluster.address} refused the status: wrong "
                           "cluster secret (give it with RAIN_SECRET; see docs/security.md)\n")
    assert "{" not in done.stderr


def test_status_counts_of_one_are_singular(rain_cluster):
    cluster = rain_cluster(governors=[1])
    done = rain("status", cluster.address)
    assert done.returncode == 0, done.stderr
    assert ": 1 governor, 1 cpu, 0 open sessions, 0 ready tasks\n" in done.stdout

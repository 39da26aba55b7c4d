"""A fetch from a stalled governor (SIGSTOP: its port accepts connections and nothing answers)
does not hang until it resumes (issue 12): a client fetch reads another copy when there is one;
with none, it and a governor's download from the stalled peer wait for the loss and the
recomputation. Every wait is on an event (a marker file, the server's governor list)."""

import contextlib
import json
import os
import signal
import subprocess
import threading
import urllib.request

from rain.client import blob, tasks

from rain_testing import RAIN_BIN, wait_until
from test_governor_loss import governors, logged, process_of


def stopped(process):
    """The process is SIGSTOPped (state T in /proc)."""
    with open("/proc/{}/stat".format(process.pid)) as f:
        return f.read().rsplit(") ", 1)[1].startswith("T")


@contextlib.contextmanager
def sigstopped(process):
    """The process stays SIGSTOPped in the block; a watchdog resumes it after two minutes so
    that a fetch hanging on it fails the test (`stopped` turns false) instead of hanging it."""
    process.popen.send_signal(signal.SIGSTOP)
    watchdog = threading.Timer(120, process.popen.send_signal, (signal.SIGCONT,))
    watchdog.start()
    try:
        yield
    finally:
        watchdog.cancel()
        process.popen.send_signal(signal.SIGCONT)


def cluster_status(cluster):
    """`GET /api/v1/status` (what `rain status` shows)."""
    url = "http://127.0.0.1:{}/api/v1/status".format(cluster.http_port)
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.load(response)


def marked_gate(marker_dir, name, data):
    """A program reading `data` that notes its start, then waits for `<name>.go`."""
    return tasks.Execute(
        "touch {d}/{n}.started; while [ ! -e {d}/{n}.go ]; do sleep 0.02; done; cat"
        .format(d=marker_dir, n=name), shell=True, stdin=data, stdout=True)


def source_task():
    source = tasks.Execute("printf 'payload of the source'", shell=True, stdout=True)
    source.output.keep()
    return source


def test_fetches_from_a_sigstopped_sole_holder_wait_for_its_loss_and_recomputation(rain_cluster):
    cluster = rain_cluster(governors=[1, 1], server_args=["--heartbeat-timeout", "10"])
    client = cluster.client()
    with client.new_session() as session:  # fault-free reference
        source = source_task()
        consumer = tasks.Concat((source.output, blob(b"!")))
        consumer.output.keep()
        session.submit()
        expected = [source.output.fetch().get_bytes(), consumer.output.fetch().get_bytes()]

    with client.new_session() as session:
        source = source_task()
        session.submit()
        source.wait()
        source.update()
        victim_id = source.info.governor
        victim = process_of(cluster, victim_id)
        with sigstopped(victim):
            # Stalled: the consumer goes to the other governor, which downloads from the victim.
            assert wait_until(lambda: governors(client)[victim_id].get("stalled"), 30)
            [seen] = [g for g in cluster_status(cluster)["governors"]
                      if g["governor_id"] == victim_id]
            assert seen["state"] == "stalled" and seen["silent"] > 0
            consumer = tasks.Concat((source.output, blob(b"!")))
            consumer.output.keep()
            session.submit()
            # The server reads the victim's copy (the only one) for the client.
            fetched = [source.output.fetch().get_bytes(), consumer.output.fetch().get_bytes()]
            assert stopped(victim), "the fetches ended while the victim was still stopped"
            # `rain status`: the lost governor, and the session's re-run and lost attempt.
            status = cluster_status(cluster)
            assert victim_id not in [g["governor_id"] for g in status["governors"]]
            [gone] = [g for g in status["governors_gone"] if g["governor_id"] == victim_id]
            assert gone["state"] == "lost" and gone["reason"].startswith("no heartbeat for ")
            [mine] = [s for s in status["sessions"] if s["session_id"] == session.session_id]
            assert (mine["tasks_rerun"], mine["tasks_retried"], mine["attempts_lost"]) == (1, 0, 1)
            shown = subprocess.run([RAIN_BIN, "status", cluster.address], capture_output=True,
                                   text=True, timeout=60)
            assert shown.returncode == 0, shown.stderr
            assert [line.split()[:2] for line in shown.stdout.splitlines()
                    if line.startswith(victim_id)] == [[victim_id, "lost"]]
            assert "RERUNS  RETRIES  LOST" in shown.stdout
        assert fetched == expected
        source.update()
        consumer.update()
        assert source.info.governor != victim_id
        assert consumer.info.governor != victim_id
        # The consumer's run that waited on the victim ended with the loss, then ran again.
        cut, last = consumer.info.attempts
        assert cut["governor"] == consumer.info.governor
        assert cut["error"].startswith("cannot fetch input ") and \
            "governor {} was lost".format(victim_id) in cut["error"], cut["error"]
        assert "error" not in last
    [removed] = logged(cluster, "GovernorRemoved", 1)
    assert removed["event"]["error"].startswith("no heartbeat for ")
    reruns = logged(cluster, "TaskRerun", 1)
    assert [tuple(e["event"]["task"]) for e in reruns] == [tuple(source.id)]


def test_a_client_fetch_reads_another_copy_while_a_holder_is_sigstopped(rain_cluster):
    # Stalled after 7.5 s, lost after 20 s: the fetch must end in between.
    cluster = rain_cluster(governors=[1, 1], server_args=["--heartbeat-timeout", "20"])
    client = cluster.client()
    marker_dir = cluster.path("markers")
    os.makedirs(marker_dir)
    with client.new_session() as session:
        source = source_task()
        session.submit()
        source.wait()
        source.update()
        holder_id = source.info.governor
        # A gate reading the source runs where it is; a copier then goes to the other governor
        # (the only free cpu) and leaves a second copy there.
        held = marked_gate(marker_dir, "held", source.output)
        session.submit()
        assert wait_until(lambda: os.path.exists(os.path.join(marker_dir, "held.started")), 30)
        copier = tasks.Execute("cat", stdin=source.output, stdout=True)
        session.submit()
        copier.wait()
        copier.update()
        assert copier.info.governor != holder_id
        open(os.path.join(marker_dir, "held.go"), "w").close()
        held.wait()

        holder = process_of(cluster, holder_id)
        with sigstopped(holder):
            assert wait_until(lambda: governors(client)[holder_id].get("stalled"), 30)
            assert source.output.fetch().get_bytes() == b"payload of the source"
            assert stopped(holder)
            assert holder_id in governors(client), "read before the holder was declared lost"
    assert wait_until(lambda: not governors(client)[holder_id].get("stalled"), 30)

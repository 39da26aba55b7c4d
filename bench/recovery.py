"""Recovery from a lost governor: prints figures, asserts nothing.

 (a) SIGKILL: a governor running 2 tasks (programs waiting on a file) is killed while another
     governor has free cpus: ms from the kill to the server's detection (GovernorRemoved), and
     from the detection to each task's start on the other governor (TaskStarted), from the
     event log's timestamps (same machine clock as the kill);
 (b) SIGSTOP: ms from the stop to the stall (GovernorStalled: no new work) and to the loss
     (GovernorRemoved), against --heartbeat-timeout 1 and 2 s.

Fault-free throughput before/after is bench/core.py (a) (see the issue 12 note).

Usage: bench/recovery.py [--scale 1.0]   (rounds = max(1, round(5 * scale)))
"""
import argparse
import datetime
import json
import os
import signal
import statistics
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "client_py"))
sys.path.insert(0, os.path.join(ROOT, "tests"))

from rain.client import blob, tasks  # noqa: E402
from rain_testing import RainCluster, wait_until  # noqa: E402


def events(cluster, event_type):
    request = urllib.request.Request(
        f"http://127.0.0.1:{cluster.http_port}/events",
        data=json.dumps({"event_types": [{"value": event_type}]}).encode(), method="POST",
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def logged(cluster, event_type, count):
    found = []

    def enough():
        found[:] = events(cluster, event_type)
        return len(found) >= count
    if not wait_until(enough, 30):
        raise RuntimeError(f"{count} {event_type} events expected, {len(found)} logged")
    return found


def ms(event):
    return datetime.datetime.fromisoformat(event["time"].replace("Z", "+00:00")).timestamp() * 1e3


def listening_ports(pid):
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
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
                if fields[3] == "0A" and fields[9] in inodes:
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def process_of(cluster, governor_id):
    port = int(governor_id.rsplit(":", 1)[1])
    return next(p for p in cluster.governors if p.alive() and port in listening_ports(p.pid))


def gated(marker_dir, name):
    script = (f"echo x >> {marker_dir}/{name}; "
              f"while [ ! -e {marker_dir}/go ]; do sleep 0.01; done; echo {name}")
    return tasks.Execute(script, shell=True, stdout=True)


def sigkill_round():
    cluster = RainCluster([2])
    try:
        client = cluster.client()
        [victim_id] = [g["governor_id"] for g in client.get_server_info()["governors"]]
        marker_dir = cluster.path("markers")
        os.makedirs(marker_dir)
        with client.new_session() as session:
            work = [gated(marker_dir, n) for n in ("a", "b")]
            session.submit()
            wait_until(lambda: all(os.path.exists(os.path.join(marker_dir, n)) for n in "ab"), 30)
            cluster.add_governor(cpus=4)
            victim = process_of(cluster, victim_id)
            killed_ms = time.time() * 1e3
            victim.popen.send_signal(signal.SIGKILL)
            victim.popen.wait()
            wait_until(lambda: all(open(os.path.join(marker_dir, n)).read().count("x") == 2
                                   for n in "ab"), 30)
            open(os.path.join(marker_dir, "go"), "w").close()
            session.wait_all()
            ids = {tuple(t.id) for t in work}
        [removed] = logged(cluster, "GovernorRemoved", 1)
        starts = [e for e in logged(cluster, "TaskStarted", 4)
                  if tuple(e["event"]["task"]) in ids
                  and e["event"]["info"]["governor"] != victim_id]
        detect = ms(removed) - killed_ms
        running = [ms(e) - ms(removed) for e in starts]
        return detect, max(running)
    finally:
        cluster.stop()


def sigstop_round(timeout):
    cluster = RainCluster([1, 1], server_args=["--heartbeat-timeout", str(timeout)])
    try:
        client = cluster.client()
        victim_id = client.get_server_info()["governors"][0]["governor_id"]
        victim = process_of(cluster, victim_id)
        stopped_ms = time.time() * 1e3
        victim.popen.send_signal(signal.SIGSTOP)
        try:
            [stall] = logged(cluster, "GovernorStalled", 1)
            [removed] = logged(cluster, "GovernorRemoved", 1)
        finally:
            victim.popen.send_signal(signal.SIGCONT)
        return ms(stall) - stopped_ms, ms(removed) - stopped_ms
    finally:
        cluster.stop()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    rounds = max(1, round(5 * parser.parse_args().scale))

    kills = [sigkill_round() for _ in range(rounds)]
    detect = [k[0] for k in kills]
    moved = [k[1] for k in kills]
    print(f"(a) SIGKILL, {rounds} rounds: detected {statistics.median(detect):.1f} ms after the "
          f"kill (max {max(detect):.1f}); tasks running elsewhere "
          f"{statistics.median(moved):.1f} ms after detection (max {max(moved):.1f})")
    for timeout in (1, 2):
        stops = [sigstop_round(timeout) for _ in range(rounds)]
        stall = [s[0] for s in stops]
        lost = [s[1] for s in stops]
        print(f"(b) SIGSTOP, --heartbeat-timeout {timeout} s, {rounds} rounds: stalled after "
              f"{statistics.median(stall):.0f} ms (max {max(stall):.0f}), lost after "
              f"{statistics.median(lost):.0f} ms (max {max(lost):.0f})")


if __name__ == "__main__":
    main()

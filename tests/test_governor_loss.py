"""A governor that disappears costs only the work that was on it: its tasks run elsewhere, the
objects only it held are recomputed from lineage, and the client sees nothing but the delay.

Faults are injected into real processes (SIGKILL, SIGSTOP); every wait is on an event (a marker
file a running task wrote, the server's governor list), never on a sleep.
"""

import os
import random
import signal
import subprocess

from rain.client import blob, remote, tasks

from rain_testing import RAIN_BIN, event_rows, wait_until


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


def process_of(cluster, governor_id):
    port = int(governor_id.rsplit(":", 1)[1])
    found = [p for p in cluster.governors if p.alive() and port in listening_ports(p.pid)]
    assert len(found) == 1, "no governor process listens on {}".format(port)
    return found[0]


def governors(client):
    return {g["governor_id"]: g for g in client.get_server_info()["governors"]}


def logged(cluster, event_type, count):
    """The events of a type once at least `count` are written (the log writes in batches)."""
    found = []

    def enough():
        found[:] = event_rows(cluster, event_type)
        return len(found) >= count
    assert wait_until(enough, 30), "{} {} events expected, {} logged".format(
        count, event_type, len(found))
    return found


@remote()
def shout(ctx, data):
    return data.get_bytes().upper() + b"!"


def gate(marker_dir, name, data):
    """A program that notes each start in `<marker_dir>/<name>`, then waits for `go`."""
    script = ("echo started >> {d}/{n}; while [ ! -e {d}/go ]; do sleep 0.02; done; cat"
              .format(d=marker_dir, n=name))
    return tasks.Execute(script, shell=True, stdin=data, stdout=True)


def diamond(marker_dir):
    """Programs, Python tasks and built-ins; two gates that block while running."""
    seed = blob(b"seed")
    first = tasks.Execute("cat; echo one", shell=True, stdin=seed, stdout=True)
    first.output.keep()
    loud = shout(first.output)
    merged = tasks.Concat((first.output, loud.output))
    gate_a = gate(marker_dir, "a", merged.output)
    gate_b = gate(marker_dir, "b", loud.output)
    final = tasks.Concat((gate_a.output, gate_b.output, first.output))
    final.output.keep()
    last = shout(final.output)
    last.output.keep()
    return [first.output, final.output, last.output], [gate_a, gate_b]


def started(marker_dir, name):
    path = os.path.join(marker_dir, name)
    return os.path.exists(path) and open(path).read().count("started")


def reference_results(cluster, client):
    marker_dir = cluster.path("reference")
    os.makedirs(marker_dir)
    open(os.path.join(marker_dir, "go"), "w").close()
    with client.new_session() as session:
        outputs, _ = diamond(marker_dir)
        session.submit()
        return [o.fetch().get_bytes() for o in outputs]


def known_started(task):
    """The server has the task's start (its info has a start time)."""
    task.update()
    return bool(getattr(task.info, "start_time", None))


def test_sigkill_of_a_governor_with_running_tasks_and_sole_copies(rain_cluster):
    cluster = rain_cluster(governors=[2])
    client = cluster.client()
    expected = reference_results(cluster, client)
    [victim_id] = governors(client)
    marker_dir = cluster.path("markers")
    os.makedirs(marker_dir)
    with client.new_session() as session:
        outputs, gates = diamond(marker_dir)
        session.submit()
        # Both gates run on the only governor, which holds every object (kept and intermediate).
        assert wait_until(lambda: started(marker_dir, "a") and started(marker_dir, "b"), 30)
        # ... as the server knows (the governor reports a start a moment after the program's):
        # only then is the run cut short by the loss an attempt of its own.
        assert wait_until(lambda: all(known_started(g) for g in gates), 30)
        cluster.add_governor(cpus=2)
        victim = process_of(cluster, victim_id)
        victim.popen.send_signal(signal.SIGKILL)
        victim.popen.wait()
        open(os.path.join(marker_dir, "go"), "w").close()
        assert [o.fetch().get_bytes() for o in outputs] == expected
        for g in gates:
            g.update()
            assert g.info.governor != victim_id
            # The run cut short by the loss is an attempt of its own (docs/policies.md).
            lost, last = g.info.attempts
            assert lost["governor"] == victim_id
            assert lost["error"] in ("governor {} lost: connection closed".format(victim_id),
                                     "governor {} lost: connection error".format(victim_id))
            assert lost["start_time"] and lost["duration"] >= 0
            assert last["governor"] == g.info.governor and "error" not in last
        # Each gate ran twice: on the victim, then on the new governor.
        assert started(marker_dir, "a") == 2 and started(marker_dir, "b") == 2
        session.wait_all()
    assert victim_id not in governors(client)
    [lost] = logged(cluster, "GovernorRemoved", 1)
    assert lost["event"]["governor"] == victim_id
    assert lost["event"]["error"] in ("connection closed", "connection error")
    requeued = logged(cluster, "TaskRequeued", 2)
    assert sorted(tuple(e["event"]["task"]) for e in requeued) == sorted(
        tuple(g.id) for g in gates)
    assert all(e["event"]["crashes"] == 1 and e["event"]["attempt"] == 2 for e in requeued)
    # The producers of the lost objects ran again (first, loud, merged at least).
    assert len(logged(cluster, "TaskRerun", 3)) >= 3


def test_sigstop_longer_than_the_heartbeat_timeout(rain_cluster):
    cluster = rain_cluster(governors=[2], server_args=["--heartbeat-timeout", "1"])
    client = cluster.client()
    expected = reference_results(cluster, client)
    [victim_id] = governors(client)
    marker_dir = cluster.path("markers")
    os.makedirs(marker_dir)
    with client.new_session() as session:
        outputs, gates = diamond(marker_dir)
        session.submit()
        assert wait_until(lambda: started(marker_dir, "a") and started(marker_dir, "b"), 30)
        cluster.add_governor(cpus=2)
        victim = process_of(cluster, victim_id)
        victim.popen.send_signal(signal.SIGSTOP)
        try:
            assert wait_until(lambda: victim_id not in governors(client), 30)
            open(os.path.join(marker_dir, "go"), "w").close()
            assert [o.fetch().get_bytes() for o in outputs] == expected
        finally:
            victim.popen.send_signal(signal.SIGCONT)
        for g in gates:
            g.update()
            assert g.info.governor != victim_id
    # Woken, the governor registers again (as a new one, same address) and gets work at once.
    assert wait_until(lambda: victim_id in governors(client), 30)
    assert victim.alive()
    [removed] = logged(cluster, "GovernorRemoved", 1)
    assert removed["event"]["governor"] == victim_id
    assert removed["event"]["error"].startswith("no heartbeat for ")
    with client.new_session() as session:
        parts = [tasks.Concat((blob(b"x"), blob(str(i).encode()))) for i in range(8)]
        for p in parts:
            p.output.keep()
        session.submit()
        assert [p.output.fetch().get_bytes() for p in parts] == [
            b"x" + str(i).encode() for i in range(8)]
        used = set()
        for p in parts:
            p.update()
            used.add(p.info.governor)
        assert len(used) == 2


def test_sigstop_shorter_than_the_heartbeat_timeout(rain_cluster):
    cluster = rain_cluster(governors=[1, 1], server_args=["--heartbeat-timeout", "8"])
    client = cluster.client()
    marker_dir = cluster.path("markers")
    os.makedirs(marker_dir)
    with client.new_session() as session:
        held = gate(marker_dir, "a", blob(b"held"))
        held.output.keep()
        session.submit()
        assert wait_until(lambda: started(marker_dir, "a"), 30)

        def reported_started():
            held.update()
            return held.info is not None and held.info.governor
        assert wait_until(reported_started, 30)
        victim_id = held.info.governor
        victim = process_of(cluster, victim_id)
        victim.popen.send_signal(signal.SIGSTOP)
        try:
            # Stalled from the first missed heartbeat: no new work for it.
            assert wait_until(lambda: governors(client)[victim_id].get("stalled"), 30)
            later = [tasks.Concat((blob(b"y"), blob(str(i).encode()))) for i in range(4)]
            for t in later:
                t.output.keep()
            session.submit()
            assert [t.output.fetch().get_bytes() for t in later] == [
                b"y" + str(i).encode() for i in range(4)]
            for t in later:
                t.update()
                assert t.info.governor != victim_id
        finally:
            victim.popen.send_signal(signal.SIGCONT)
        assert wait_until(lambda: not governors(client)[victim_id].get("stalled"), 30)
        open(os.path.join(marker_dir, "go"), "w").close()
        assert held.output.fetch().get_bytes() == b"held"
        held.update()
        assert held.info.governor == victim_id
        assert started(marker_dir, "a") == 1  # kept its task: nothing ran twice
    stalls = logged(cluster, "GovernorStalled", 2)
    assert [e["event"]["stalled"] for e in stalls] == [True, False]
    assert event_rows(cluster, "GovernorRemoved") == []


def layered_graph(width, depth, rng):
    """`depth` layers of `width` tasks, each merging two objects of the layer before; some are
    programs. Returns the kept last layer."""
    layer = [blob("seed {}".format(i).encode()) for i in range(width)]
    levels = []
    for level in range(depth):
        nxt = []
        levels.append([])
        for i in range(width):
            left, right = layer[i], layer[rng.randrange(width)]
            if (level * width + i) % 50 == 7:
                t = tasks.Execute("cat; echo", shell=True, stdin=tasks.Concat((left, right)).output,
                                  stdout=True)
            else:
                t = tasks.Concat((left, right, blob(str(level).encode())))
            nxt.append(t.output)
            levels[-1].append(t)
        layer = nxt
    for o in layer:
        o.keep()
    return layer, levels


def test_chaos_governors_killed_and_restarted_at_random(rain_cluster):
    cluster = rain_cluster(governors=[1, 1, 1, 1])
    client = cluster.client()
    width, depth = 100, 20  # 2,000 tasks (+ a few programs' inputs)
    with client.new_session() as session:
        expected_layer, _ = layered_graph(width, depth, random.Random(5))
        session.submit()
        expected = [o.fetch().get_bytes() for o in expected_layer]

    rng = random.Random(12)
    kills = 0
    with client.new_session() as session:
        layer, levels = layered_graph(width, depth, random.Random(5))
        session.submit()
        # A governor dies each time a task of a checkpoint layer has finished.
        for level in (2, 5, 8, 11, 14, 17):
            levels[level][rng.randrange(width)].wait()
            alive = [p for p in cluster.governors if p.alive()]
            victim = rng.choice(alive)
            if rng.random() < 0.5:
                victim.popen.send_signal(signal.SIGKILL)  # the governor alone
            else:
                os.killpg(victim.popen.pid, signal.SIGKILL)  # with its programs, as a node goes
            victim.popen.wait()
            kills += 1
            cluster.add_governor(cpus=1)
        assert [o.fetch().get_bytes() for o in layer] == expected
    assert kills == 6
    assert len(governors(client)) == 4


def test_a_governor_added_and_one_drained_mid_run(rain_cluster):
    cluster = rain_cluster(governors=[1, 1])
    client = cluster.client()
    marker_dir = cluster.path("markers")
    os.makedirs(marker_dir)
    runs = os.path.join(marker_dir, "first")
    with client.new_session() as session:
        first = tasks.Execute("echo run >> {}; echo first".format(runs), shell=True, stdout=True)
        first.output.keep()
        session.submit()
        first.wait()
        first.update()
        drained_id = first.info.governor
        held = gate(marker_dir, "a", first.output)
        held.output.keep()
        session.submit()
        assert wait_until(lambda: started(marker_dir, "a"), 30)
        added = cluster.add_governor(cpus=1)
        new_ids = set(governors(client)) - {drained_id}
        drained = process_of(cluster, drained_id)
        result = subprocess.run(
            [RAIN_BIN, "drain", drained_id, "--server", cluster.address],
            capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert governors(client)[drained_id].get("draining")
        # New work goes to the others at once, none to the draining governor.
        later = [tasks.Concat((first.output, blob(str(i).encode()))) for i in range(6)]
        for t in later:
            t.output.keep()
        session.submit()
        assert [t.output.fetch().get_bytes() for t in later] == [
            b"first\n" + str(i).encode() for i in range(6)]
        used = set()
        for t in later:
            t.update()
            used.add(t.info.governor)
        assert drained_id not in used and len(used) >= 1
        open(os.path.join(marker_dir, "go"), "w").close()
        assert drained.popen.wait(timeout=60) == 0  # stopped by the server, orderly
        assert drained_id not in governors(client)
        # Its sole copy of the kept object was moved, not recomputed.
        assert first.output.fetch().get_bytes() == b"first\n"
        assert held.output.fetch().get_bytes() == b"first\n"
        assert open(runs).read() == "run\n"
        assert started(marker_dir, "a") == 1
    assert added.alive()
    assert len(new_ids) == 2
    assert event_rows(cluster, "TaskRequeued") == []

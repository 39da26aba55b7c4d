"""Resources end to end: gpus (indexed, fractional), memory and custom resources are never
oversubscribed (checked from the reported start times and durations), tasks see what they were
given, impossible requests are rejected, peak memory is measured, fake GPUs are detected."""

import datetime
import json
import os
import stat

import pytest

from rain.client import RainException, remote, tasks


def interval(task):
    start = datetime.datetime.fromisoformat(task.info.start_time.replace("Z", "+00:00"))
    start = start.timestamp()
    return start, start + task.info.duration


def max_overlap(intervals, weights=None):
    """The largest total weight of intervals open at once."""
    weights = weights or [1] * len(intervals)
    events = []
    for (start, end), w in zip(intervals, weights):
        events.append((start, 1, w))
        events.append((end, 0, -w))  # an end before a start at the same instant
    level = peak = 0
    for _, _, w in sorted(events):
        level += w
        peak = max(peak, level)
    return peak


def overlapping(a, b):
    return a[0] < b[1] and b[0] < a[1]


SHOW_ENV = ('printf "%s|%s|%s|%s" "$CUDA_VISIBLE_DEVICES" "$OMP_NUM_THREADS" '
            '"$CUDA_DEVICE_ORDER" "$RAIN_RESOURCES"; sleep 0.4')


def run_all(session, ts):
    session.submit()
    session.wait_all()
    for t in ts:
        t.update()
    return [interval(t) for t in ts]


def test_eight_one_gpu_tasks_on_four_gpus(rain_cluster):
    cluster = rain_cluster(governors=[(8, "--gpus", "0,1,2,3")])
    client = cluster.client()
    with client.new_session() as session:
        ts = [tasks.Execute(SHOW_ENV, shell=True, stdout=True, gpus=1) for _ in range(8)]
        for t in ts:
            t.output.keep()
        spans = run_all(session, ts)
        seen = []
        for t in ts:
            devices, threads, order, given = t.output.fetch().get_bytes().decode().split("|")
            assert (threads, order) == ("1", "PCI_BUS_ID")
            assert json.loads(given) == {"cpus": 1, "gpus": [devices], "gpu_share": 1,
                                         "gpu_kind": "cuda"}
            seen.append(devices)
        assert all(d in {"0", "1", "2", "3"} for d in seen)
        assert max_overlap(spans) <= 4
        for i in range(8):
            for j in range(i):
                if overlapping(spans[i], spans[j]):
                    assert seen[i] != seen[j], (i, j, seen)
        assert ts[0].spec.resources == {"cpus": 1, "gpus": 1}


def test_fractional_gpus_share_a_device(rain_cluster):
    cluster = rain_cluster(governors=[(6, "--gpus", "7,")])
    client = cluster.client()
    with client.new_session() as session:
        halves = [tasks.Execute(SHOW_ENV, shell=True, stdout=True, gpus=0.5) for _ in range(4)]
        quarters = [tasks.Execute(SHOW_ENV, shell=True, stdout=True, gpus=0.25)
                    for _ in range(2)]
        ts = halves + quarters
        for t in ts:
            t.output.keep()
        spans = run_all(session, ts)
        for t in ts:
            devices, _, _, given = t.output.fetch().get_bytes().decode().split("|")
            assert devices == "7"
            assert json.loads(given)["gpu_share"] in (0.5, 0.25)
        assert max_overlap(spans, [0.5] * 4 + [0.25] * 2) <= 1.0
        # Sharing did happen: two halves are at most a device.
        assert max_overlap(spans) >= 2


def test_memory_and_custom_resources_are_never_oversubscribed(rain_cluster):
    cluster = rain_cluster(governors=[(6, "--memory", "1GiB", "--resources", "licence=2")])
    client = cluster.client()
    info = client.get_server_info()["governors"][0]["resources"]
    assert (info["memory"], info["custom"]) == (2**30, {"licence": 2})
    with client.new_session() as session:
        big = [tasks.Execute("sleep 0.3", memory="400MiB") for _ in range(5)]
        licensed = [tasks.Execute("sleep 0.3", resources={"licence": 1}) for _ in range(5)]
        spans = run_all(session, big + licensed)
        assert max_overlap(spans[:5]) <= 2  # 3 x 400 MiB > 1 GiB
        assert max_overlap(spans[5:]) <= 2
        assert big[0].spec.resources == {"cpus": 1, "memory": 400 * 2**20}
        assert licensed[0].spec.resources == {"cpus": 1, "custom": {"licence": 1}}


def test_impossible_requests_are_rejected(rain_cluster):
    cluster = rain_cluster(governors=[2, (1, "--memory", "1GiB", "--gpus", "none")])
    client = cluster.client()
    with client.new_session() as session:
        tasks.Execute("true", gpus=1, name="trainer")
        with pytest.raises(RainException, match=r"task \d+/\d+ \(trainer\) asks for cpus=1 "
                                                r"gpus=1, which no connected governor can ever "
                                                r"give \(gpus\); the largest is 127\.0\.0\.1:"):
            session.submit()
    with client.new_session() as session:
        tasks.Execute("true", cpus=3)
        with pytest.raises(RainException, match=r"asks for cpus=3.*the largest is "
                                                r"127\.0\.0\.1:\d+ with cpus=2"):
            session.submit()
    with client.new_session() as session:
        tasks.Execute("true", resources={"licence": 1})
        with pytest.raises(RainException, match=r"asks for cpus=1 licence=1.*\(licence\)"):
            session.submit()
    # Opted in: the task waits for a governor that can run it.
    with client.new_session(wait_for_resources=True) as session:
        waiting = tasks.Execute("true", resources={"licence": 1})
        session.submit()
        cluster.add_governor((1, "--resources", "licence=1"))
        waiting.wait()
        waiting.update()
        assert waiting.info.governor == client.get_server_info()["governors"][2]["governor_id"]


def test_bad_requests_are_refused_by_the_client():
    from rain.common.resources import make_resources, parse_size
    assert parse_size("4GiB") == 4 * 2**30 and parse_size("1.5k") == 1500
    with pytest.raises(RainException, match="gpus must be a whole number of gpus or a fraction"):
        make_resources(1, gpus=1.5)
    with pytest.raises(RainException, match="memory must be bytes or a size"):
        make_resources(1, memory="lots")
    with pytest.raises(RainException, match="'cpus' is not a custom resource name"):
        make_resources(1, resources={"cpus": 2})


@remote(cpus=2, gpus=1, memory="200MiB")
def resource_report(ctx):
    buffer = bytearray(80 * 2**20)  # resident while the task sleeps
    import time
    time.sleep(0.5)
    return json.dumps({"resources": ctx.resources, "cuda": os.environ["CUDA_VISIBLE_DEVICES"],
                       "omp": os.environ["OMP_NUM_THREADS"], "held": len(buffer)})


def test_python_tasks_get_ctx_resources_and_peak_memory(rain_cluster):
    cluster = rain_cluster(governors=[(2, "--gpus", "2", "--memory", "4GiB")])
    client = cluster.client()
    with client.new_session() as session:
        r = resource_report()
        big = tasks.Execute(
            ["python3", "-c", "import time; b = bytearray(60 * 2**20); time.sleep(0.6)"])
        r.output.keep()
        session.submit()
        session.wait_all()
        report = json.loads(r.output.fetch().get_bytes())
        assert report["resources"]["cpus"] == 2 and report["resources"]["memory"] == 200 * 2**20
        assert report["resources"]["gpus"] == [report["cuda"]] and report["cuda"] in ("0", "1")
        assert report["omp"] == "2"
        r.update()
        big.update()
        assert r.info.peak_memory >= 80 * 2**20
        assert big.info.peak_memory >= 60 * 2**20


def test_gpus_detected_from_a_fake_nvidia_smi(rain_cluster, tmp_path):
    fake = tmp_path / "nvidia-smi"
    fake.write_text("#!/bin/sh\n[ \"$1\" = -L ] || exit 1\n"
                    "echo 'GPU 0: Fake GPU (UUID: GPU-a)'\necho 'GPU 1: Fake GPU (UUID: GPU-b)'\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    env = {"PATH": "{}:{}".format(tmp_path, os.environ["PATH"])}
    cluster = rain_cluster(governors=[1], governor_env=env)
    client = cluster.client()
    governor = client.get_server_info()["governors"][0]
    assert governor["resources"]["gpus"] == ["0", "1"]
    assert governor["resources"]["gpu_kind"] == "cuda"

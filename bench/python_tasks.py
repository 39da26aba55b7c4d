"""Python tasks benchmark: prints figures, asserts nothing.

Against `rain start --local-governors=[2]` (started here on free loopback ports; the `py`
executor runs this interpreter with this tree's `rain` package):
 (a) N trivial @remote tasks (no arguments, one small output): tasks/s from submit to wait_all,
     in a fresh session on warm executors (best of a few rounds), plus the first round of a
     freshly started cluster (executor start-up included) and the client's graph-building rate;
 (b) a chain of @remote tasks, each taking the previous output as its argument: ms per hop.

Usage: bench/python_tasks.py [--scale 1.0]   (N = 10,000 x scale, chain = 1,000 x scale)
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLIENT_PY = os.path.join(ROOT, "client_py")
sys.path.insert(0, CLIENT_PY)
sys.path.insert(0, os.path.join(ROOT, "tools"))

from rain.client import Client, blob, remote  # noqa: E402
from proc_cpu import ClusterCpu, per_task  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def profile_args():
    """RAIN_BENCH_PROFILE=DIR: the server and governors write V8 cpu profiles there on stop."""
    if not os.environ.get("RAIN_BENCH_PROFILE"):
        return []
    return ["--runprefix", os.path.join(ROOT, "tools", "cpu_prof.sh")]


class Cluster:
    def __init__(self, governors="[2]"):
        self.port = free_port()
        self.logdir = tempfile.mkdtemp(prefix="rain-bench-py-")
        config = os.path.join(self.logdir, "governor.toml")
        with open(config, "w") as f:
            f.write("[executors.py]\ncommand = {}\nenv = {{ PYTHONPATH = {} }}\n".format(
                json.dumps([sys.executable, "-m", "rain.executor"]), json.dumps(CLIENT_PY)))
        subprocess.run(
            [os.path.join(ROOT, "rain"), "start", f"--local-governors={governors}",
             "--listen", f"127.0.0.1:{self.port}",
             "--http-listen", f"127.0.0.1:{free_port()}",
             "--logdir", self.logdir, "--workdir", os.path.join(self.logdir, "work"),
             *profile_args(),
             "--governor-config", config],
            check=True, stdout=subprocess.DEVNULL)

    def stop(self):
        subprocess.run([os.path.join(ROOT, "rain"), "stop", f"127.0.0.1:{self.port}"],
                       stdout=subprocess.DEVNULL)
        shutil.rmtree(self.logdir, ignore_errors=True)


@remote()
def trivial(ctx):
    return b"x"


@remote()
def step(ctx, data):
    return data.get_bytes()


def bench_trivial(client, n, cpu):
    """(tasks/s from submit to wait_all, tasks/s built, cpu per task with the building)."""
    before = cpu.snapshot()
    with client.new_session() as s:
        start = time.perf_counter()
        for _ in range(n):
            trivial()
        built = time.perf_counter() - start
        start = time.perf_counter()
        s.submit()
        s.wait_all()
        elapsed = time.perf_counter() - start
    return n / elapsed, n / built, per_task(before, cpu.snapshot(), n)


def bench_chain(client, n):
    with client.new_session() as s:
        obj = blob(b"hop")
        for _ in range(n):
            obj = step(obj).output
        obj.keep()
        start = time.perf_counter()
        s.submit()
        s.wait_all()
        elapsed = time.perf_counter() - start
        assert obj.fetch().get_bytes() == b"hop"
    return elapsed / n * 1000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    n = max(10, int(10_000 * args.scale))
    hops = max(10, int(1_000 * args.scale))
    cluster = Cluster()
    try:
        client = Client("127.0.0.1", cluster.port)
        cpu = ClusterCpu(cluster.logdir)
        cold, _, cold_cpu = bench_trivial(client, n, cpu)
        rounds = [bench_trivial(client, n, cpu) for _ in range(3)]
        rate, _, warm_cpu = max(rounds)
        build = max(b for _, b, _ in rounds)
        print(f"(a) {n} trivial @remote tasks, 2-cpu governor: {rate:,.0f} tasks/s warm "
              f"(best of 3; first run on a fresh cluster {cold:,.0f} tasks/s); "
              f"client builds {build:,.0f} tasks/s")
        print(f"    first run {cold_cpu}\n    best warm {warm_cpu}")
        chains = [bench_chain(client, hops) for _ in range(2)]
        print(f"(b) chain of {hops} @remote tasks: {min(chains):.2f} ms per hop (best of 2)")
        client.close()
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()

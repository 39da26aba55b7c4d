"""External programs benchmark: prints figures, asserts nothing.

Against `rain start --local-governors=[2]` (one governor with 2 cpus, started here on free
loopback ports):
 (a) N `tasks.Execute("true")`: tasks/s from submit to wait_all, beside the rate of
     `seq N | xargs -P2 -I{} true` measured in the same run (before and after): spawning
     processes is the physical limit, so the ratio says what Rain adds per program;
 (b) N/4 `tasks.Execute(["cat", data], stdout=True)` over one small blob: a program with an
     input placed in its working directory and its standard output captured.

Usage: bench/execute.py [--scale 1.0]   (N = 2000 x scale)
"""
import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import resource
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "client_py"))
sys.path.insert(0, os.path.join(ROOT, "tools"))

from rain.client import Client, blob, tasks  # noqa: E402
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
        self.http_port = free_port()
        self.logdir = tempfile.mkdtemp(prefix="rain-bench-")
        subprocess.run(
            [os.path.join(ROOT, "rain"), "start", f"--local-governors={governors}",
             "--listen", f"127.0.0.1:{self.port}", "--http-listen", f"127.0.0.1:{self.http_port}",
             "--logdir", self.logdir, "--workdir", os.path.join(self.logdir, "work"),
             *profile_args()],
            check=True, stdout=subprocess.DEVNULL)

    def stop(self):
        subprocess.run([os.path.join(ROOT, "rain"), "stop", f"127.0.0.1:{self.port}"],
                       stdout=subprocess.DEVNULL)
        shutil.rmtree(self.logdir, ignore_errors=True)


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def xargs_rate(n):
    """(tasks/s, cpu µs per task of xargs and its programs)."""
    cpu = children_cpu()
    start = time.perf_counter()
    subprocess.run(f"seq {n} | xargs -P2 -I{{}} true", shell=True, check=True)
    return n / (time.perf_counter() - start), (children_cpu() - cpu) / n * 1e6


def rain_rate(client, n, build, cpu=None):
    """tasks/s from submit to wait_all; with `cpu`, also the cpu per task (graph building in)."""
    before = cpu.snapshot() if cpu else None
    with client.new_session() as s:
        build(n)
        start = time.perf_counter()
        s.submit()
        s.wait_all()
        rate = n / (time.perf_counter() - start)
    return rate, per_task(before, cpu.snapshot(), n) if cpu and before else ""


def true_tasks(n):
    for _ in range(n):
        tasks.Execute("true")


def cat_tasks(n):
    data = blob(b"some input\n" * 10)
    for _ in range(n):
        tasks.Execute(["cat", data], stdout=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    n = max(10, int(2000 * args.scale))

    cluster = Cluster()
    try:
        client = Client("127.0.0.1", cluster.port)
        cpu = ClusterCpu(cluster.logdir)
        rain_rate(client, min(n, 200), true_tasks)  # warm-up
        before, xargs_cpu = xargs_rate(n)
        rate, rain_cpu = rain_rate(client, n, true_tasks, cpu)
        after, _ = xargs_rate(n)
        baseline = (before + after) / 2
        print(f"(a) {n} Execute('true') on a 2-cpu governor: {rate:,.0f} tasks/s; "
              f"seq {n} | xargs -P2 -I{{}} true: {baseline:,.0f} /s "
              f"({before:,.0f} before, {after:,.0f} after) -> {rate / baseline:.0%} of xargs")
        print(f"    rain {rain_cpu}; xargs: {xargs_cpu:,.0f} µs per program")
        m = max(10, n // 4)
        cat_rate, cat_cpu = rain_rate(client, m, cat_tasks, cpu)
        print(f"(b) {m} Execute(['cat', <blob>], stdout=True): {cat_rate:,.0f} tasks/s")
        print(f"    {cat_cpu}")
        client.close()
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()

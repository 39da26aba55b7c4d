"""Million-task graphs end to end (issue 16, item 4): prints figures, asserts nothing.

Against `rain start --local-governors=[2]` (bench/core.py's Cluster), through the Python
client, graph construction included:
 - N independent Concat tasks of two shared 1-byte blobs;
 - a layered graph of N Concat tasks, WIDTH wide, submitted at once; each task reads the output
   of a task of the layer before it and a shared 1-byte blob (in-degree 2; two outputs of the
   layer before would double the data every layer: 2^1000 bytes at the top). bench/reactor.ts
   --graph layered measures the server alone on the graph with both inputs from the layer before.
For each: build, submit and run times, tasks/s end to end, the client's RSS growth per task
(peak, while the graph exists), the server's peak RSS per task above its idle RSS (each graph
on a fresh cluster, so the peaks do not mix) and the CPU time per task of each process
(tools/proc_cpu.py: wall rates on a shared 2-core machine vary, CPU time much less).

Usage: bench/million.py [--scale 1.0] [--width 1000]   (N = 1,000,000 x scale)
"""
import argparse
import gc
import os
import resource
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(ROOT, "client_py"), os.path.join(ROOT, "bench"),
                os.path.join(ROOT, "tools")]

from core import Cluster  # noqa: E402
from proc_cpu import ClusterCpu, per_task  # noqa: E402
from rain.client import Client, blob, tasks  # noqa: E402


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def independent(n, _width):
    a, b = blob(b"a"), blob(b"b")
    for _ in range(n):
        tasks.Concat((a, b))


def layered(n, width):
    one = blob(b"+")
    row = [blob(bytes([i % 256])) for i in range(width)]
    made = 0
    while made < n:
        count = min(width, n - made)
        # Each task reads one output of the layer before, shifted by one: layers stay linked
        # across the width.
        row = [tasks.Concat((row[(i + 1) % len(row)], one)).output for i in range(count)]
        made += count


def run(name, build, n, width):
    cluster = Cluster()
    try:
        client = Client("127.0.0.1", cluster.port)
        idle = cluster.status()["memory"]["rss"]
        cpu = ClusterCpu(cluster.logdir)
        gc.collect()
        client_before = rss_bytes()
        with client.new_session() as session:
            before = cpu.snapshot()
            t0 = time.perf_counter()
            build(n, width)
            t1 = time.perf_counter()
            client_graph = rss_bytes() - client_before
            session.submit()
            t2 = time.perf_counter()
            session.wait_all()
            t3 = time.perf_counter()
            after = cpu.snapshot()
        peak = cluster.status()["memory"].get("peak_rss", 0)
        print(f"{name}: {n:,} tasks in {t3 - t0:.1f} s = {n / (t3 - t0):,.0f} tasks/s "
              f"(build {t1 - t0:.1f} s, submit {t2 - t1:.1f} s, run {t3 - t2:.1f} s); "
              f"client {client_graph / n:,.0f} B/task (graph built), server peak "
              f"{(peak - idle) / n:,.0f} B/task above idle ({idle / 2**20:.0f} MiB); "
              f"{per_task(before, after, n)}", flush=True)
    finally:
        cluster.stop()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--width", type=int, default=1000)
    args = parser.parse_args()
    n = int(1_000_000 * args.scale)
    run("independent Concat", independent, n, args.width)
    run(f"layered Concat (width {args.width}, in-degree 2)", layered, n, args.width)
    print("client peak RSS {:.0f} MiB".format(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


if __name__ == "__main__":
    main()

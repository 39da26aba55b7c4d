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
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "client_py"))

from rain.client import Client, blob, tasks  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self, governors="[2]"):
        self.port = free_port()
        self.http_port = free_port()
        self.logdir = tempfile.mkdtemp(prefix="rain-bench-")
        subprocess.run(
            [os.path.join(ROOT, "rain"), "start", f"--local-governors={governors}",
             "--listen", f"127.0.0.1:{self.port}", "--http-listen", f"127.0.0.1:{self.http_port}",
             "--logdir", self.logdir, "--workdir", os.path.join(self.logdir, "work")],
            check=True, stdout=subprocess.DEVNULL)

    def stop(self):
        subprocess.run([os.path.join(ROOT, "rain"), "stop", f"127.0.0.1:{self.port}"],
                       stdout=subprocess.DEVNULL)
        shutil.rmtree(self.logdir, ignore_errors=True)


def xargs_rate(n):
    start = time.perf_counter()
    subprocess.run(f"seq {n} | xargs -P2 -I{{}} true", shell=True, check=True)
    return n / (time.perf_counter() - start)


def rain_rate(client, n, make_task):
    with client.new_session() as s:
        for i in range(n):
            make_task()
        start = time.perf_counter()
        s.submit()
        s.wait_all()
        return n / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    n = max(10, int(2000 * args.scale))

    cluster = Cluster()
    try:
        client = Client("127.0.0.1", cluster.port)
        rain_rate(client, min(n, 200), lambda: tasks.Execute("true"))  # warm-up
        before = xargs_rate(n)
        rate = rain_rate(client, n, lambda: tasks.Execute("true"))
        after = xargs_rate(n)
        baseline = (before + after) / 2
        print(f"(a) {n} Execute('true') on a 2-cpu governor: {rate:,.0f} tasks/s; "
              f"seq {n} | xargs -P2 -I{{}} true: {baseline:,.0f} /s "
              f"({before:,.0f} before, {after:,.0f} after) -> {rate / baseline:.0%} of xargs")
        m = max(10, n // 4)
        with client.new_session() as s:
            data = blob(b"some input\n" * 10)
            for i in range(m):
                tasks.Execute(["cat", data], stdout=True)
            start = time.perf_counter()
            s.submit()
            s.wait_all()
            cat_rate = m / (time.perf_counter() - start)
        print(f"(b) {m} Execute(['cat', <blob>], stdout=True): {cat_rate:,.0f} tasks/s")
        client.close()
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()

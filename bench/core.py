"""Core runtime benchmark: prints figures, asserts nothing.

Against `rain start --local-governors=[2]` (started here on free loopback ports):
 (a) N independent Concat tasks of two tiny blobs: tasks/s from submit to wait_all;
 (b) a chain of Sleep(0) tasks: ms per hop;
 (c) an FFT-like butterfly of Concats (width x layers) submitted layer by layer (multiple submits);
 (d) server peak RSS per task, read from the server's /proc status after (a);
 (e) the cost of the event log: (a) on a server with the log (default) and one with
     RAIN_EVENT_LOG=0, alternated (off, on, off, on, off, on); best rate of each and the ratio;
 (f) the cost of the journal (server restart, docs/guide/server-restart.md) the same way:
     (a) with the journal (default) and with RAIN_JOURNAL=0, the event log on in both.

Usage: bench/core.py [--scale 1.0] [--only journal]   (scale < 1 for a quick run)
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
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "client_py"))

from rain.client import Client, blob, tasks  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self, governors="[2]", env=None):
        self.port = free_port()
        self.http_port = free_port()
        self.logdir = tempfile.mkdtemp(prefix="rain-bench-")
        subprocess.run(
            [os.path.join(ROOT, "rain"), "start", f"--local-governors={governors}",
             "--listen", f"127.0.0.1:{self.port}", "--http-listen", f"127.0.0.1:{self.http_port}",
             "--logdir", self.logdir, "--workdir", os.path.join(self.logdir, "work")],
            check=True, stdout=subprocess.DEVNULL, env=dict(os.environ, **(env or {})))

    def status(self):
        url = f"http://127.0.0.1:{self.http_port}/api/v1/status"
        with urllib.request.urlopen(url) as r:
            return json.load(r)

    def stop(self):
        subprocess.run([os.path.join(ROOT, "rain"), "stop", f"127.0.0.1:{self.port}"],
                       stdout=subprocess.DEVNULL)
        shutil.rmtree(self.logdir, ignore_errors=True)


def bench_independent(client, n):
    with client.new_session() as s:
        for i in range(n):
            tasks.Concat((blob(b"a"), blob(b"b")))
        start = time.perf_counter()
        s.submit()
        s.wait_all()
        elapsed = time.perf_counter() - start
    return n / elapsed, elapsed


def bench_chain(client, n):
    with client.new_session() as s:
        obj = blob(b"x")
        for i in range(n):
            obj = tasks.Sleep(obj, 0).output
        obj.keep()
        start = time.perf_counter()
        s.submit()
        s.wait_all()
        elapsed = time.perf_counter() - start
        assert obj.fetch().get_bytes() == b"x"
    return elapsed / n * 1000


def bench_butterfly(client, width_log2, layers):
    width = 1 << width_log2
    with client.new_session() as s:
        start = time.perf_counter()
        row = [blob(bytes([i % 256])) for i in range(width)]
        count = 0
        for layer in range(layers):
            stride = 1 << (layer % width_log2)
            new_row = [tasks.Concat((row[i], row[i ^ stride])).output for i in range(width)]
            for o in new_row:
                o.keep()
            s.submit()
            count += width
            if layer:
                s.unkeep(row)
            row = new_row
        s.wait_all()
        elapsed = time.perf_counter() - start
    return count, count / elapsed, elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--only", choices=["journal"])
    args = parser.parse_args()
    n_independent = int(100_000 * args.scale)
    if args.only == "journal":
        bench_journal(n_independent)
        return
    n_chain = int(2_000 * args.scale)
    width_log2 = 12 if args.scale >= 1 else 8

    cluster = Cluster()
    try:
        client = Client("127.0.0.1", cluster.port)
        rss_before = cluster.status()["memory"]["rss"]
        rate, elapsed = bench_independent(client, n_independent)
        peak = cluster.status()["memory"].get("peak_rss", 0)
        print(f"(a) {n_independent} independent Concat tasks: {rate:,.0f} tasks/s "
              f"({elapsed:.2f} s submit->wait_all)")
        print(f"(d) server peak RSS {peak / 2**20:.0f} MiB, "
              f"{(peak - rss_before) / n_independent:,.0f} bytes per task above idle "
              f"({rss_before / 2**20:.0f} MiB)")
        hop = bench_chain(client, n_chain)
        print(f"(b) chain of {n_chain} Sleep(0): {hop:.3f} ms per hop")
        count, rate, elapsed = bench_butterfly(client, width_log2, 12)
        print(f"(c) butterfly {1 << width_log2} wide x 12 layers ({count} tasks, one submit per layer):"
              f" {rate:,.0f} tasks/s ({elapsed:.2f} s)")
        client.close()
    finally:
        cluster.stop()
    bench_event_log(n_independent)
    bench_journal(n_independent)


def alternate_off_on(off_env, n, rounds):
    """(a) with a feature off (`off_env`) and on, alternated (machine noise hits both alike):
    ({"off"/"on": [tasks/s]}, {"off"/"on": [(server cpu s of all threads, of its main thread)]})."""
    rates = {"off": [], "on": []}
    cpu = {"off": [], "on": []}
    for mode in ("off", "on") * rounds:
        cluster = Cluster(env=off_env if mode == "off" else {})
        try:
            client = Client("127.0.0.1", cluster.port)
            pid = cluster.status()["pid"]
            before = thread_cpu_seconds(pid)
            rates[mode].append(bench_independent(client, n)[0])
            after = thread_cpu_seconds(pid)
            main = after.get(pid, 0) - before.get(pid, 0)
            total = sum(after.values()) - sum(before.values())
            cpu[mode].append((total, main))
            client.close()
        finally:
            cluster.stop()
    return rates, cpu


def bench_journal(n, rounds=3):
    """(f): (a) with the journal off and on, alternated; the best of `rounds` runs each."""
    rates, cpu = alternate_off_on({"RAIN_JOURNAL": "0"}, n, rounds)
    off, on = max(rates["off"]), max(rates["on"])
    print(f"(f) journal: {n} Concat tasks {on:,.0f} tasks/s with the journal, {off:,.0f} without "
          f"(best of {rounds} alternated runs each); ratio {on / off:.3f} "
          f"({(1 - on / off) * 100:.1f}% slower with the journal)")
    print("    every run, tasks/s: with " + ", ".join(f"{r:,.0f}" for r in rates["on"]) +
          "; without " + ", ".join(f"{r:,.0f}" for r in rates["off"]))
    on_main = min(c[1] for c in cpu["on"])
    off_main = min(c[1] for c in cpu["off"])
    print(f"    server main (reactor) thread cpu time, least of each: {on_main:.2f} s with "
          f"the journal, {off_main:.2f} s without")


def bench_event_log(n, rounds=3):
    """(e): (a) with the event log off and on, alternated; the best of `rounds` runs each."""
    rates, cpu = alternate_off_on({"RAIN_EVENT_LOG": "0"}, n, rounds)
    off, on = max(rates["off"]), max(rates["on"])
    print(f"(e) event log: {n} Concat tasks {on:,.0f} tasks/s with the log, {off:,.0f} without "
          f"(best of {rounds} alternated runs each); ratio {on / off:.3f} "
          f"({(1 - on / off) * 100:.1f}% slower with the log)")
    print("    every run, tasks/s: with the log " + ", ".join(f"{r:,.0f}" for r in rates["on"]) +
          "; without " + ", ".join(f"{r:,.0f}" for r in rates["off"]))
    on_cpu, off_cpu = min(cpu["on"]), min(cpu["off"])
    print(f"    server cpu time, all threads (incl. the log writer and GC helpers): {on_cpu[0]:.2f} s "
          f"with the log, {off_cpu[0]:.2f} s without; its main (reactor) thread: "
          f"{on_cpu[1]:.2f} s with, {off_cpu[1]:.2f} s without (least of each)")


def thread_cpu_seconds(pid):
    """{thread id: utime + stime in seconds} of a process's threads (Linux /proc)."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[int(tid)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return out


if __name__ == "__main__":
    main()

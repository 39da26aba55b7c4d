"""Live view latency of the monitoring port: prints figures, asserts nothing.

Runs bench/core.py (a) (N independent Concat tasks) on a fresh `rain start --local-governors=[2]`,
then times the dashboard's requests of that session at once, live: summary and task stream twice
(the first builds the session's index from the server's memory, server/events/), task groups and
the session list.

Usage: bench/live_views.py [--tasks 100000]
"""
import argparse
import json
import os
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import core  # noqa: E402
from rain.client import Client  # noqa: E402


def get(port, path):
    start = time.perf_counter()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}") as r:
        body = r.read()
    return (time.perf_counter() - start) * 1000, len(body)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=100_000)
    args = parser.parse_args()
    cluster = core.Cluster()
    try:
        client = Client("127.0.0.1", cluster.port)
        rate, _ = core.bench_independent(client, args.tasks)
        print(f"{args.tasks} Concat tasks: {rate:,.0f} tasks/s")
        with urllib.request.urlopen(f"http://127.0.0.1:{cluster.http_port}/api/v1/sessions") as r:
            sid = json.load(r)[-1]["session"]
        for view in ["summary", "task_stream", "summary", "task_stream", "task_groups"]:
            ms, size = get(cluster.http_port, f"/api/v1/sessions/{sid}/{view}")
            print(f"  {view}: {ms:.0f} ms ({size:,} bytes)")
        ms, _ = get(cluster.http_port, "/api/v1/sessions")
        print(f"  sessions: {ms:.0f} ms")
        client.close()
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()

"""Rain next to its peers, in one run on this machine: prints a side-by-side table with ratios;
asserts nothing.

Workloads, each timed from the first task created to the last one finished (graph construction
included), 2 cpus each:
 (a) N independent Concat of two tiny blobs (N = 100,000 x scale);
 (b) M trivial Python tasks (M = 10,000 x scale): Rain's ``@remote`` on a freshly started cluster
     (its first run: executor start-up included), Dask's function on fresh workers.

Rain: ``rain start --local-governors=[2]`` (bench/core.py's cluster). Dask (when ``distributed`` is
importable: Debian ``python3-distributed``): its fastest API, ``client.map`` futures then
``wait``, on a LocalCluster of 2 worker processes x 1 thread and of 1 x 2 threads (the faster one
is the ratio's peer), ``worker-saturation: inf``. Ray is timed when ``ray`` is importable
(``.remote`` + ``ray.get``, ``num_cpus=2``); it is not packaged by Debian, so usually not.

Usage: bench/peers.py [--scale 1.0] [--no-peers]
"""
import argparse
import contextlib
import importlib.util
import io
import os
import sys
import time
from collections.abc import Callable

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "client_py"))
sys.path.insert(0, os.path.join(ROOT, "bench"))

from rain.client import Client, blob, remote, tasks  # noqa: E402


def rain_concat(n: int) -> float:
    from core import Cluster
    cluster = Cluster()
    try:
        client = Client("127.0.0.1", cluster.port)
        with client.new_session() as session:
            start = time.perf_counter()
            for i in range(n):
                tasks.Concat((blob(b"a"), blob(b"b")))
            session.submit()
            session.wait_all()
            return time.perf_counter() - start
    finally:
        cluster.stop()


@remote()
def trivial(ctx):
    return b"x"


def rain_python(n: int) -> float:
    from python_tasks import Cluster
    cluster = Cluster()
    try:
        client = Client("127.0.0.1", cluster.port)
        with client.new_session() as session:
            start = time.perf_counter()
            for _ in range(n):
                trivial()
            session.submit()
            session.wait_all()
            return time.perf_counter() - start
    finally:
        cluster.stop()


def concat(a: bytes, b: bytes) -> bytes:
    return a + b


def python_task(i: int) -> bytes:
    return b"x"


def dask_time(workers: int, threads: int, run: Callable[..., float], n: int) -> float:
    import dask
    from distributed import Client as DaskClient, LocalCluster
    with dask.config.set({"distributed.scheduler.worker-saturation": float("inf"),
                          "distributed.admin.tick.limit": "1h"}), \
            contextlib.redirect_stderr(io.StringIO()):
        with LocalCluster(n_workers=workers, threads_per_worker=threads, processes=True,
                          dashboard_address=None, host="127.0.0.1") as cluster, \
                DaskClient(cluster) as client:
            return run(client, n)


def dask_concat(client, n: int) -> float:
    from distributed import wait
    start = time.perf_counter()
    futures = client.map(concat, [b"a"] * n, [b"b"] * n, pure=False)
    wait(futures)
    return time.perf_counter() - start


def dask_python(client, n: int) -> float:
    from distributed import wait
    start = time.perf_counter()
    futures = client.map(python_task, range(n), pure=False)
    wait(futures)
    return time.perf_counter() - start


def ray_time(run: Callable[[int], float], n: int) -> float:
    import ray
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        return run(n)
    finally:
        ray.shutdown()


def ray_concat(n: int) -> float:
    import ray
    remote_concat = ray.remote(concat)
    start = time.perf_counter()
    ray.get([remote_concat.remote(b"a", b"b") for _ in range(n)])
    return time.perf_counter() - start


def ray_python(n: int) -> float:
    import ray
    remote_task = ray.remote(python_task)
    start = time.perf_counter()
    ray.get([remote_task.remote(i) for i in range(n)])
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--no-peers", action="store_true", help="time Rain only")
    args = parser.parse_args()
    n_concat = max(1, int(100_000 * args.scale))
    n_python = max(1, int(10_000 * args.scale))
    workloads = [(f"{n_concat:,} independent Concat", n_concat, rain_concat, dask_concat,
                  ray_concat),
                 (f"{n_python:,} trivial Python tasks", n_python, rain_python, dask_python,
                  ray_python)]
    has_dask = not args.no_peers and importlib.util.find_spec("distributed") is not None
    has_ray = not args.no_peers and importlib.util.find_spec("ray") is not None
    columns = ["Rain"] + (["Dask 2x1", "Dask 1x2"] if has_dask else []) + \
        (["Ray"] if has_ray else [])
    rows = []
    for name, n, rain_run, dask_run, ray_run in workloads:
        rates = {"Rain": n / rain_run(n)}
        if has_dask:
            rates["Dask 2x1"] = n / dask_time(2, 1, dask_run, n)
            rates["Dask 1x2"] = n / dask_time(1, 2, dask_run, n)
        if has_ray:
            rates["Ray"] = n / ray_time(ray_run, n)
        rows.append((name, rates))
    print("| workload (tasks/s, construction included) | " + " | ".join(columns)
          + (" | Rain / fastest peer |" if len(columns) > 1 else " |"))
    print("|---" * (len(columns) + 1 + (len(columns) > 1)) + "|")
    for name, rates in rows:
        cells = [f"{rates[c]:,.0f}" for c in columns]
        peers = [rate for column, rate in rates.items() if column != "Rain"]
        ratio = f" | {rates['Rain'] / max(peers):.1f}x" if peers else ""
        print(f"| {name} | " + " | ".join(cells) + ratio + " |")
    if not has_dask and not args.no_peers:
        print("(Dask not importable: apt-get install python3-distributed for its columns)")
    if not has_ray and not args.no_peers:
        print("(Ray not importable: not packaged by Debian; its column is left out)")


if __name__ == "__main__":
    main()

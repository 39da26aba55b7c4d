"""Fetch and transfer throughput (issues 15, 16): prints figures, asserts nothing.

On a 2-governor loopback cluster (1 cpu each) with an object of SIZE MiB made by a task:
 - the Python client's fetch() (in memory) and fetch(path=) vs curl on the same endpoint
   (`GET /api/v1/sessions/S/objects/O/data`, to /dev/null, to a file on tmpfs (kept in memory,
   as fetch() keeps them) and to a file beside the fetched one);
 - governor-to-governor transfers (their DataTransfer events; the receiver stores the object in
   a file) vs curl on the data port (`GET /objects/S/O` of the governor holding it), to /dev/null
   and to a file, right after each transfer;
 - the client's peak RSS.

Usage: bench/fetch_throughput.py [--scale X] [SIZE_MIB]   (SIZE_MIB = 1024 x scale by default)
"""
import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(ROOT, "client_py"), os.path.join(ROOT, "tests")]

from rain.client import Input, tasks  # noqa: E402
from rain_testing import RainCluster, wait_until  # noqa: E402

MIB = 1 << 20
SHM = "/dev/shm"


def curl(url, secret, output="/dev/null", accept=None):
    args = ["curl", "-s", "-o", output, "-w", "%{speed_download}",
            "-H", "Authorization: Bearer " + secret]
    if accept:
        args += ["-H", "Accept: " + accept]
    return float(subprocess.run(args + [url], capture_output=True, text=True).stdout) / MIB


def transfers(http_port, size):
    request = urllib.request.Request(
        "http://127.0.0.1:{}/events".format(http_port), method="POST",
        data=json.dumps({"event_types": [{"value": "DataTransfer", "mode": "="}]}).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return [e["event"] for e in json.load(response) if e["event"].get("bytes", 0) >= size]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("size_mib", type=int, nargs="?")
    args = parser.parse_args()
    size = (args.size_mib or max(16, int(1024 * args.scale))) * MIB
    scratch = tempfile.mkdtemp(prefix="rain-bench-fetch-")
    cluster = RainCluster((1, 1))
    try:
        client = cluster.client()
        with open(os.path.expanduser("~/.rain/secrets/127.0.0.1_{}".format(cluster.port))) as f:
            secret = f.read().strip()
        with client.new_session() as session:
            made = tasks.Execute(["head", "-c", str(size), "/dev/zero"], stdout=True)
            made.output.keep()
            session.submit()
            session.wait_all()
            url = "http://127.0.0.1:{}/api/v1/sessions/{}/objects/{}/data".format(
                cluster.port, session.session_id, made.output.id.id)
            target = os.path.join(scratch, "fetched")
            for _ in range(2):
                t0 = time.perf_counter()
                data = made.output.fetch()
                memory = size / (time.perf_counter() - t0) / MIB
                del data
                t0 = time.perf_counter()
                made.output.fetch(path=target)
                to_file = size / (time.perf_counter() - t0) / MIB
                os.remove(target)
                plain = curl(url, secret, accept="application/x-rain-object")
                curl_file = curl(url, secret, target, "application/x-rain-object")
                os.remove(target)
                in_memory = ""
                if os.path.isdir(SHM):
                    # A sink that keeps the bytes in memory, as fetch() must (/dev/null drops
                    # them): a file on tmpfs.
                    kept = os.path.join(SHM, "rain-bench-fetch-{}".format(os.getpid()))
                    shm = curl(url, secret, kept, "application/x-rain-object")
                    os.remove(kept)
                    in_memory = ", curl -o {} {:.0f} MiB/s ({:.0%})".format(SHM, shm, memory / shm)
                print("client fetch(): {:.0f} MiB/s, curl {:.0f} MiB/s ({:.0%}){}; fetch(path=): "
                      "{:.0f} MiB/s, curl -o file {:.0f} MiB/s ({:.0%})".format(
                          memory, plain, memory / plain, in_memory, to_file, curl_file,
                          to_file / curl_file))
            seen = 0
            for _ in range(2):
                # A new object each round, read by two 1-cpu tasks at once: one of them runs
                # on the other governor (a transfer).
                obj = tasks.Execute(["head", "-c", str(size), "/dev/zero"], stdout=True).output
                for _ in range(2):
                    tasks.Execute(["sh", "-c", "sleep 1; wc -c < in"], stdout=True,
                                  input_paths=[Input("in", dataobj=obj)])
                session.submit()
                session.wait_all()
                assert wait_until(lambda: len(transfers(cluster.http_port, size)) > seen,
                                  timeout=30)
                for event in transfers(cluster.http_port, size)[seen:]:
                    seen += 1
                    moved = event["bytes"] / event["duration"] / MIB
                    data_url = "http://{}/objects/{}/{}".format(
                        event["from"], session.session_id, obj.id.id)
                    direct = max(curl(data_url, secret) for _ in range(2))
                    to_file = curl(data_url, secret, target)
                    os.remove(target)
                    print("governor->governor: {:.0f} MiB/s; curl on the data port {:.0f} MiB/s "
                          "({:.0%}), curl -o file {:.0f} MiB/s ({:.0%})".format(
                              moved, direct, moved / direct, to_file, moved / to_file))
        print("client peak RSS: {:.0f} MiB for a {:.0f} MiB object".format(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, size / MIB))
    finally:
        cluster.stop()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()

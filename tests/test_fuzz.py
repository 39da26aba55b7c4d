"""Bad input never hurts the server: well over 1,000 malformed or hostile requests — garbage
bodies, huge declared sizes, wrong types, unknown ids, truncated streams, out-of-order and
malformed governor messages, missing or wrong secrets — go to the client API, the governor
WebSocket and a governor's data port while a well-formed pipeline runs. Every request gets a
clear error, the pipeline is unaffected, and nothing leaks (descriptors, spooled files,
governors, memory).
"""

import base64
import json
import os
import random
import socket
import struct
import threading

from rain.client import Client, blob, tasks
from rain_testing import wait_until

SUBMIT = "application/x-rain-submit"


# --- tiny protocol helpers (standard library only) ---------------------------------------------

def raw_http(port, data, half_close=True, timeout=20):
    """Sends raw bytes; returns (status, headers, body) of the answer (status None if none)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        if half_close:
            s.shutdown(socket.SHUT_WR)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            out += chunk
            head, sep, body = out.partition(b"\r\n\r\n")
            if sep:
                length = [l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
                if length and len(body) >= int(length[0].split(b":")[1]):
                    break
    finally:
        s.close()
    head, _, body = out.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    if not lines[0].startswith(b"HTTP/1.1 "):
        return None, {}, out
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        headers[k.strip().lower().decode()] = v.strip().decode()
    return int(lines[0].split()[1]), headers, body


def request(port, method, path, body=b"", headers=None, half_close=False):
    head = "{} {} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n".format(
        method, path, port)
    for k, v in (headers or {}).items():
        if v is not None:  # None: leave the header out
            head += "{}: {}\r\n".format(k, v)
    if "Content-Length" not in (headers or {}):
        head += "Content-Length: {}\r\n".format(len(body))
    return raw_http(port, head.encode("latin-1") + b"\r\n" + body, half_close=half_close)


def mp(value):
    """msgpack encoding of None/bool/int/str/bytes/list/dict (enough for governor messages)."""
    if value is None:
        return b"\xc0"
    if value is True:
        return b"\xc3"
    if value is False:
        return b"\xc2"
    if isinstance(value, int):
        if 0 <= value < 128:
            return bytes([value])
        if -32 <= value < 0:
            return struct.pack("b", value)
        return b"\xd3" + struct.pack(">q", value)
    if isinstance(value, float):
        return b"\xcb" + struct.pack(">d", value)
    if isinstance(value, str):
        data = value.encode()
        return b"\xdb" + struct.pack(">I", len(data)) + data
    if isinstance(value, bytes):
        return b"\xc6" + struct.pack(">I", len(value)) + value
    if isinstance(value, list):
        return b"\xdd" + struct.pack(">I", len(value)) + b"".join(mp(v) for v in value)
    if isinstance(value, dict):
        return b"\xdf" + struct.pack(">I", len(value)) + b"".join(
            mp(k) + mp(v) for k, v in value.items())
    raise TypeError(value)


def ws_frame(opcode, payload):
    mask = os.urandom(4)
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def ws_session(port, secret, frames):
    """Opens the governor WebSocket, sends ``frames`` [(opcode, payload)], and returns
    ("http", status) if the upgrade is refused, else ("close", code, reason) of the server's
    close frame (or ("open",) if it kept the connection open)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        key = base64.b64encode(os.urandom(16)).decode()
        auth = "Authorization: Bearer {}\r\n".format(secret) if secret else ""
        s.sendall(("GET /api/v1/governor HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Key: {}\r\nSec-WebSocket-Version: 13\r\n"
                   "{}\r\n").format(port, key, auth).encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(4096)
            if not chunk:
                break
            buf += chunk
        head, _, rest = buf.partition(b"\r\n\r\n")
        status = int(head.split()[1])
        if status != 101:
            return ("http", status)
        for opcode, payload in frames:
            s.sendall(ws_frame(opcode, payload))
        s.settimeout(2)
        buf = rest
        try:
            while True:
                while len(buf) >= 2:
                    opcode, n = buf[0] & 0x0F, buf[1] & 0x7F
                    off = 2
                    if n == 126:
                        n, off = struct.unpack("!H", buf[2:4])[0], 4
                    elif n == 127:
                        n, off = struct.unpack("!Q", buf[2:10])[0], 10
                    if len(buf) < off + n:
                        break
                    payload, buf = buf[off:off + n], buf[off + n:]
                    if opcode == 0x8:
                        code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                        return ("close", code, payload[2:].decode("utf-8", "replace"))
                chunk = s.recv(65536)
                if not chunk:
                    return ("close", None, "")
                buf += chunk
        except socket.timeout:
            return ("open",)
    finally:
        s.close()


def submit_body(header, data=b""):
    h = json.dumps(header).encode()
    return struct.pack(">I", len(h)) + h + data


def is_clear_error(status, headers, body, allowed=(400, 401, 404, 409)):
    if status not in allowed:
        return False
    try:
        error = json.loads(body)["error"]
    except (ValueError, KeyError, TypeError):
        return False
    return error.get("kind") and isinstance(error.get("message"), str) and error["message"]


def server_fds(pid):
    return len(os.listdir("/proc/{}/fd".format(pid)))


def peak_rss(pid):
    with open("/proc/{}/status".format(pid)) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


# --- the test ----------------------------------------------------------------------------------

def test_hostile_requests_get_clear_errors_and_hurt_nothing(rain_cluster, tmp_path):
    spool = tmp_path / "tmp"
    spool.mkdir()
    cluster = rain_cluster(governors=[1, 1], server_env={"TMPDIR": str(spool)})
    port, pid = cluster.port, cluster.server.pid
    with open(os.path.expanduser("~/.rain/secrets/127.0.0.1_{}".format(port))) as f:
        secret = f.read().strip()
    auth = {"Authorization": "Bearer " + secret}
    rng = random.Random(20240607)

    # A well-formed pipeline runs all along.
    client = cluster.client()
    stop = threading.Event()
    pipeline = {"rounds": 0, "error": None}

    def run_pipeline():
        try:
            while not stop.is_set():
                with client.new_session() as session:
                    parts = [tasks.Sleep(blob(b"part %d;" % i), 0.01) for i in range(6)]
                    big = blob(os.urandom(1 << 20) + b"end")  # spooled by the server
                    joined = tasks.Concat(parts + [big])
                    joined.output.keep()
                    session.submit()
                    data = joined.output.fetch().get_bytes()
                    assert data.startswith(b"part 0;part 1;part 2;part 3;part 4;part 5;")
                    assert data.endswith(b"end") and len(data) == 42 + (1 << 20) + 3
                pipeline["rounds"] += 1
        except BaseException as e:  # reported by the main thread
            pipeline["error"] = e

    thread = threading.Thread(target=run_pipeline, daemon=True)
    thread.start()
    assert wait_until(lambda: pipeline["rounds"] >= 1 or pipeline["error"], timeout=60)
    baseline_fds = server_fds(pid)

    # A session of the fuzzer's own (no client: it stays until closed).
    _, _, body = request(port, "POST", "/api/v1/sessions", b"{}", auth)
    sid = json.loads(body)["session_id"]

    cases = []  # (name, check() -> bool)

    def http_case(name, method, path, body=b"", headers=None, allowed=(400, 401, 404, 409),
                  half_close=False):
        def check():
            status, h, b = request(port, method, path, body, headers, half_close)
            return is_clear_error(status, h, b, allowed)
        cases.append((name, check))

    # 1. missing, wrong and malformed secrets on every route (401, nothing read or run)
    routes = [("GET", "/api/v1/connect"), ("POST", "/api/v1/sessions"),
              ("POST", "/api/v1/sessions/{}/submit".format(sid)),
              ("POST", "/api/v1/sessions/{}/wait".format(sid)),
              ("POST", "/api/v1/sessions/{}/wait_all".format(sid)),
              ("POST", "/api/v1/sessions/{}/update".format(sid)),
              ("POST", "/api/v1/sessions/{}/unkeep".format(sid)),
              ("POST", "/api/v1/sessions/{}/close".format(sid)),
              ("GET", "/api/v1/sessions/{}/objects/10/data".format(sid)),
              ("GET", "/api/v1/constants/{}/10".format(sid)),
              ("GET", "/api/v1/server_info"), ("POST", "/api/v1/shutdown"),
              ("GET", "/nope"), ("DELETE", "/api/v1/sessions")]
    bad_auth = [{}, {"Authorization": "Bearer"}, {"Authorization": "Bearer " + secret + "x"},
                {"Authorization": "Bearer " + secret[:-1]}, {"Authorization": "Basic " + secret},
                {"Authorization": "bearer  " + "A" * 5000}, {"Cookie": "rain_token=" + secret},
                {"Authorization": secret}]
    for method, path in routes:
        for h in bad_auth:
            http_case("unauthenticated {} {} {}".format(method, path, list(h)), method, path,
                      b'{"spec": {}}' if method == "POST" else b"", h, allowed=(401,))
    # ... also with a huge declared body that is never sent: refused before it is read
    for method, path in routes[:8]:
        http_case("unauthenticated huge body " + path, method, path, b"{",
                  {"Content-Length": str(10 ** 15)}, allowed=(401,), half_close=True)

    # 2. garbage and wrong types in JSON bodies
    garbage = [b"{", b"}", b"[]", b"null", b"1", b'"x"', b"\xff\xfe\x00", b'{"a":}',
               b"[" * 100000, b'{"a": 1}}', b"{" * 5000 + b"}" * 5000]
    garbage += [bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 300))) for _ in range(40)]
    ids = [b'"x"', b"[1.5]", b"[[1]]", b'{"a": 1}', b"[1e400]", b'["10"]', b"[999999]",
           b"[[1, 10, 3]]", b"[-1]", b"[" + b"9," * 50000 + b"9]", b"[null]", b"[true]"]
    wrong = {
        "/api/v1/sessions": [b'{"client_id": "me"}', b'{"client_id": 99999}',
                             b'{"client_id": -1}', b'{"client_id": 1.5}',
                             b'{"client_id": [1]}'],
        "/api/v1/sessions/{}/wait": [b'{"tasks": ' + i + b"}" for i in ids] +
                                     [b'{"objects": ' + i + b"}" for i in ids] +
                                     [b'{"timeout": -1}', b'{"timeout": "1"}',
                                      b'{"timeout": null, "mode": 7}', b'{"mode": "any"}',
                                      b'{"mode": ["all"]}'],
        "/api/v1/sessions/{}/wait_all": [b'{"timeout": -1}', b'{"timeout": "1"}',
                                         b'{"timeout": [1]}', b'{"timeout": {}}'],
        "/api/v1/sessions/{}/update": [b'{"tasks": ' + i + b"}" for i in ids] +
                                       [b'{"objects": ' + i + b"}" for i in ids],
        "/api/v1/sessions/{}/unkeep": [b'{"objects": ' + i + b"}" for i in ids],
    }
    json_routes = list(wrong)
    for route in json_routes:
        for g in garbage + wrong[route]:
            http_case("garbage {} {!r}".format(route, g[:30]), "POST", route.format(sid), g,
                      dict(auth, **{"Content-Type": "application/json"}))

    # 3. bad paths and unknown ids
    for path in ["/api/v1/sessions/abc/wait", "/api/v1/sessions/-1/wait",
                 "/api/v1/sessions/99999999999999999999999/wait", "/api/v1/sessions/1.5/wait",
                 "/api/v1/sessions/%00/wait", "/api/v1/sessions/999999/wait",
                 "/api/v1/sessions/999999/submit", "/api/v1/sessions/999999/close",
                 "/api/v1/sessions/{}/objects/abc/data".format(sid),
                 "/api/v1/" + "x" * 6000, "/api/v1/sessions/{}/../../shutdown".format(sid)]:
        for method in ("GET", "POST"):
            http_case("path {} {}".format(method, path[:60]), method, path, b"{}", auth)
    for i in range(60):
        n = rng.choice([0, 1, 10, 999999, 2 ** 53, rng.randint(11, 10 ** 9)])
        http_case("unknown object {}".format(n), "GET",
                  "/api/v1/sessions/{}/objects/{}/data".format(sid, n), b"", auth)
        http_case("unknown constant {}".format(n), "GET",
                  "/api/v1/constants/{}/{}".format(rng.choice([sid, 424242]), n), b"", auth)

    # 4. submits: framing, huge declared sizes, invalid graphs, truncated streams
    obj = lambda i, **kw: dict({"spec": {"id": [sid, i], "label": "x", "data_type": "blob"}}, **kw)
    task = lambda i, ins, outs, tt="buildin/concat": {
        "id": [sid, i], "task_type": tt, "inputs": [{"id": [sid, x]} for x in ins],
        "outputs": [[sid, x] for x in outs], "resources": {"cpus": 1}}
    submits = [
        b"", b"\x00", b"\x00\x00\x00", b"\xff\xff\xff\xff{}", b"\x00\x00\x00\x10{}",
        b"\x00\x00\x00\x02{}extra", b"\x00\x00\x00\x04null", b"\x00\x00\x00\x02[]",
        submit_body({"tasks": 5, "objects": []}),
        submit_body({"tasks": [], "objects": [obj(100, data_size=-1)]}),
        submit_body({"tasks": [], "objects": [obj(100, data_size=10 ** 15)]}, b"abc"),
        submit_body({"tasks": [], "objects": [obj(100, data_size=2 ** 70)]}),
        submit_body({"tasks": [], "objects": [obj(100, data_size="3")]}, b"abc"),
        submit_body({"tasks": [], "objects": [obj(100, data_size=3)]}, b"abcdef"),
        submit_body({"tasks": [], "objects": [obj(100, data_size=5 << 20)]}, b"x" * 1000),
        submit_body({"tasks": [task(101, [999], [102])], "objects": [obj(102)]}),
        submit_body({"tasks": [task(101, [102], [103]), task(104, [103], [102])],
                     "objects": [obj(102), obj(103)]}),
        submit_body({"tasks": [task(101, [], [102])], "objects": [obj(102), obj(102)]}),
        submit_body({"tasks": [task(101, [], [102], "nonsense")], "objects": [obj(102)]}),
        submit_body({"tasks": [task(101, [], [102], "buildin/open")], "objects": [obj(102)]}),
        submit_body({"tasks": [dict(task(101, [], [102]), id=[sid + 1000, 101])],
                     "objects": [obj(102)]}),
        submit_body({"tasks": [dict(task(101, [], [102]), resources={"cpus": 0})],
                     "objects": [obj(102)]}),
        submit_body({"tasks": [dict(task(101, [], [102]), resources={"cpus": "all"})],
                     "objects": [obj(102)]}),
        submit_body({"tasks": [{"id": "x"}], "objects": [{"spec": None}]}),
    ]
    for i in range(80):
        n = rng.randint(0, 200)
        submits.append(struct.pack(">I", n) + bytes(rng.getrandbits(8) for _ in range(
            rng.randint(0, n + 20))))
    submit_path = "/api/v1/sessions/{}/submit".format(sid)
    for k, body in enumerate(submits):
        http_case("submit #{}".format(k), "POST", submit_path, body,
                  dict(auth, **{"Content-Type": SUBMIT}))
    # truncated: declared longer than sent, then the client stops sending
    for k, body in enumerate(submits[8:20] * 3):
        cut = body[:rng.randint(0, max(0, len(body) - 1))]
        http_case("truncated submit #{}".format(k), "POST", submit_path, cut,
                  dict(auth, **{"Content-Type": SUBMIT, "Content-Length": str(len(body) + 9999)}),
                  half_close=True)
    for route in json_routes[1:]:
        for size in (10 ** 6, 10 ** 12, 10 ** 18):
            http_case("huge declared body " + route, "POST", route.format(sid), b'{"ti',
                      dict(auth, **{"Content-Length": str(size)}), half_close=True)
    # broken chunked encoding: refused by the HTTP layer (a bare 400) or as a cut body
    for k in range(20):
        body = b"5\r\n\x00\x00\x00\x09{\r\nZZ\r\n"
        both = {"Transfer-Encoding": "chunked", "Content-Length": "0"}
        cases.append(("chunked and sized #{}".format(k), lambda body=body, both=both:
                      request(port, "POST", submit_path, body, dict(auth, **both), True)[0]
                      == 400))
        http_case("cut chunked body #{}".format(k), "POST", submit_path, body[:8 + k % 3],
                  dict(auth, **{"Transfer-Encoding": "chunked", "Content-Length": None}),
                  half_close=True)

    # 5. the governor WebSocket (the server's governor port)
    register = {"type": "register", "protocol_version": 2, "listen_port": 1, "listen_host":
                "127.0.0.254", "cpus": 1, "hostname": "fuzz", "pid": 1, "executors": []}

    def ws_case(name, frames, expect, with_secret=True):
        def check():
            r = ws_session(port, secret if with_secret else None, frames)
            if expect == 401:
                return r == ("http", 401)
            return r[0] == "close" and r[1] == 1008 and len(r[2]) > 0
        cases.append((name, check))

    for k in range(30):
        ws_case("governor link without secret #{}".format(k), [], 401, with_secret=False)
    bad_frames = [
        [(0x1, b"hello")], [(0x2, b"")], [(0x2, b"\xc1")], [(0x2, b"\x81\xa1a")],
        [(0x2, mp(5))], [(0x2, mp({"type": "register"}))], [(0x2, mp([None]))],
        [(0x2, mp([{"type": "task_finished", "task": [1, 10], "outputs": []}]))],
        [(0x2, mp([dict(register, protocol_version=99)]))],
        [(0x2, mp([dict(register, cpus=0)]))], [(0x2, mp([dict(register, cpus=-5)]))],
        [(0x2, mp([dict(register, cpus="8")]))], [(0x2, mp([dict(register, cpus=2 ** 60)]))],
        [(0x2, mp([dict(register, listen_port=70000)]))],
        [(0x2, mp([dict(register, listen_port=0)]))],
        [(0x2, mp([register, {"type": "register"}]))],
        [(0x2, mp([register, {"type": "bogus"}]))],
        [(0x2, mp([register, {"type": "task_started", "task": "x"}]))],
        [(0x2, mp([register, {"type": "task_finished", "task": [1, 2], "outputs": 5}]))],
        [(0x2, mp([register, {"type": "task_failed", "task": None}]))],
        [(0x2, mp([register, {"type": "objects_removed", "objects": "all"}]))],
        [(0x2, mp([register, 17]))],
    ]
    for k in range(8):
        bad_frames.append([(0x2, bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 64))))])
    for _ in range(8):
        for k, frames in enumerate(bad_frames):
            ws_case("governor frames #{}".format(k), frames, 1008)

    # 6. a governor's data port (peers and the server only)
    gov_port = int(cluster.governor_ids()[0].rsplit(":", 1)[1])

    def data_case(name, path, headers, expect):
        def check():
            status, h, b = request(gov_port, "GET", path, b"", headers)
            return status == expect and is_clear_error(status, h, b, (expect,))
        cases.append((name, check))

    for k in range(40):
        data_case("data port without secret", "/objects/1/{}".format(k), {}, 401)
        data_case("data port unknown object", "/objects/{}/{}".format(sid, 10 ** 6 + k), auth,
                  404)
    for path in ["/objects/x/y", "/objects/1.5/2", "/objects/-/-"]:
        data_case("data port bad address", path, auth, 400)

    assert len(cases) >= 1000, len(cases)
    rng.shuffle(cases)
    failures = []
    for name, check in cases:
        try:
            if not check():
                failures.append(name)
        except Exception as e:  # no answer at all is a failure too
            failures.append("{}: {!r}".format(name, e))
    assert not failures, "{} of {} without a clear error:\n{}".format(
        len(failures), len(cases), "\n".join(failures[:30]))

    # The server still serves: the pipeline kept running, and runs once more.
    rounds = pipeline["rounds"]
    assert wait_until(lambda: pipeline["rounds"] > rounds or pipeline["error"], timeout=60)
    stop.set()
    thread.join(60)
    assert pipeline["error"] is None, repr(pipeline["error"])
    assert pipeline["rounds"] >= 2

    # Nothing leaked: no half-registered governor, no spooled data, no descriptors, no memory.
    request(port, "POST", "/api/v1/sessions/{}/close".format(sid), b"", auth)
    status, _, body = request(port, "GET", "/api/v1/status", b"", auth)
    state = json.loads(body)
    assert len(state["governors"]) == 2
    assert [s for s in state["sessions"] if s["session_id"] == sid] == []
    (spool_dir,) = os.listdir(str(spool))  # the server's spool of large constants
    assert spool_dir.startswith("rain-server-constants-")
    # Only the spool's lock file (server/spool.ts) stays.
    assert wait_until(lambda: os.listdir(str(spool / spool_dir)) == ["owner"], timeout=10), \
        os.listdir(str(spool / spool_dir))
    assert wait_until(lambda: server_fds(pid) <= baseline_fds + 10, timeout=20), \
        (server_fds(pid), baseline_fds)
    assert peak_rss(pid) < 1 << 30
    assert "Internal" not in cluster.logs()


# --- resource exhaustion, leftovers, streamed fetch (issue 15) ---------------------------------

import select  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402

import pytest  # noqa: E402

from rain.client import directory  # noqa: E402
from rain_testing import RAIN_BIN, REPO, Process  # noqa: E402

def _raise_fd_limit(wanted):
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def _half_open(port, count):
    """``count`` connections that never finish their request head; (open sockets, refused)."""
    opened, refused = [], 0
    for _ in range(count):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(b"GET /api/v1/status HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            opened.append(s)
        except OSError:
            refused += 1
    return opened, refused


def _closed_by_peer(sockets):
    """How many of ``sockets`` the other side closed (EOF or reset, without blocking)."""
    closed = 0
    poller = select.poll()
    for s in sockets:
        poller.register(s, select.POLLIN)
    readable = {fd for fd, _ in poller.poll(0)}
    for s in sockets:
        if s.fileno() not in readable:
            continue
        try:
            if s.recv(1024, socket.MSG_PEEK) == b"":
                closed += 1
        except OSError:
            closed += 1
    return closed


def _listener_counts(port):
    """Connection counts per listener from ``GET /api/v1/status`` (server listeners by name,
    governors' data listeners as ``data <governor id>``)."""
    with open(os.path.expanduser("~/.rain/secrets/127.0.0.1_{}".format(port))) as f:
        auth = {"Authorization": "Bearer " + f.read().strip()}
    status, _, body = request(port, "GET", "/api/v1/status", headers=auth)
    assert status == 200, body
    answer = json.loads(body)
    counts = dict(answer["listeners"])
    for g in answer["governors"]:
        if "data_listener" in g:
            counts["data " + g["governor_id"]] = g["data_listener"]
    return counts


def _pipeline(client, rounds=3):
    for i in range(rounds):
        with client.new_session() as session:
            parts = [tasks.Concat([blob(b"%d-%d;" % (i, j))]) for j in range(4)]
            joined = tasks.Concat(parts)
            joined.output.keep()
            session.submit()
            assert joined.output.fetch().get_bytes() == b"".join(
                b"%d-%d;" % (i, j) for j in range(4))


FLOOD_PER_LISTENER = 2000
UNAUTHENTICATED_CAP = 256  # common/conn_guard.ts default


def test_floods_of_half_open_connections_hurt_no_listener(rain_cluster):
    """Slowloris on every listener: 2,000 half-open connections each to the client port, the
    monitoring port and a governor's data port. Each listener keeps at most its cap of
    unauthenticated connections (the oldest are closed), secret holders still get in, and a
    pipeline completes during and after the flood."""
    assert _raise_fd_limit(4 * FLOOD_PER_LISTENER) >= 3 * FLOOD_PER_LISTENER + 100
    cluster = rain_cluster(governors=[1, 1], governor_env={"RAIN_MONITORING_INTERVAL": "0.2"})
    client = cluster.client()
    data_governor = cluster.governor_ids(client)[0]
    data_port = int(data_governor.rsplit(":", 1)[1])
    pid = cluster.server.pid
    baseline_fds = server_fds(pid)
    held, counts = [], {}
    try:
        for name, port in (("client", cluster.port), ("monitoring", cluster.http_port),
                           ("data", data_port)):
            opened, refused = _half_open(port, FLOOD_PER_LISTENER)
            held += opened
            # Accepted ones beyond the cap close the oldest: waited for, not slept for.
            assert wait_until(lambda: _closed_by_peer(opened) >=
                              FLOOD_PER_LISTENER - refused - UNAUTHENTICATED_CAP, timeout=60), \
                (name, _closed_by_peer(opened), refused)
            counts[name] = {"sent": FLOOD_PER_LISTENER, "refused at connect": refused,
                            "closed by the listener": _closed_by_peer(opened)}
            # The server's descriptors stay bounded by the caps, not by the flood.
            assert server_fds(pid) < baseline_fds + 2 * UNAUTHENTICATED_CAP + 50
            _pipeline(client, rounds=1)
        # The listeners count what they closed: /api/v1/status (and `rain status`) show it.
        # The data listener's counts come with the governor's next monitoring sample.
        listener = {"client": "client", "monitoring": "monitoring",
                    "data": "data " + data_governor}
        for name, c in counts.items():
            least = FLOOD_PER_LISTENER - c["refused at connect"] - UNAUTHENTICATED_CAP
            assert wait_until(lambda: _listener_counts(cluster.port).get(
                listener[name], {}).get("evicted", -1) >= least, timeout=30), \
                (name, _listener_counts(cluster.port))
        reported = _listener_counts(cluster.port)
        print("flood counts:", json.dumps(counts))
        print("listener counts:", json.dumps(reported))
        for name in listener.values():
            assert reported[name]["accepted"] >= FLOOD_PER_LISTENER - counts[
                next(k for k, v in listener.items() if v == name)]["refused at connect"]
            assert reported[name]["unauthenticated"] <= UNAUTHENTICATED_CAP
    finally:
        for s in held:
            s.close()
    assert wait_until(lambda: server_fds(pid) <= baseline_fds + 10, timeout=30), \
        (server_fds(pid), baseline_fds)
    _pipeline(cluster.client())
    assert all(p.alive() for p in cluster.all_processes()), cluster.logs()
    # Healthy again: the flood's connections are gone from every listener.
    assert wait_until(lambda: all(c["unauthenticated"] == 0 for c in
                                  _listener_counts(cluster.port).values()), timeout=30), \
        _listener_counts(cluster.port)


def test_server_out_of_descriptors_refuses_but_survives(rain_cluster):
    """The server's open-file limit lowered to 200 at run time, then 1,500 half-open
    connections: accepting fails with EMFILE or the caps refuse, nothing crashes, and once the
    flood is gone the cluster works."""
    assert _raise_fd_limit(2000) >= 1600
    cluster = rain_cluster(governors=[1])
    client = cluster.client()
    pid = cluster.server.pid
    subprocess.run(["prlimit", "--pid", str(pid), "--nofile=200:200"], check=True)
    opened, refused = _half_open(cluster.port, 1500)
    try:
        # A secret holder still gets in while the flood holds the listener.
        _pipeline(client, rounds=1)
        counts = _listener_counts(cluster.port)["client"]
        print("EMFILE flood: sent 1500, refused at connect", refused,
              "closed by the server", _closed_by_peer(opened), "listener counts", counts)
        # What got in beyond the descriptors was refused or evicted, and counted.
        assert counts["refused"] + counts["evicted"] + refused > 0, counts
    finally:
        for s in opened:
            s.close()
    _pipeline(cluster.client())
    assert cluster.server.alive(), cluster.logs()
    assert "Uncaught" not in cluster.logs(), cluster.logs()


def _listening_hosts(port):
    """Addresses with a listening TCP socket on ``port`` (from /proc/net/tcp{,6})."""
    hosts = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                address, state = fields[1], fields[3]
                host, _, hex_port = address.partition(":")
                if state == "0A" and int(hex_port, 16) == port:
                    hosts.add(host)
    return hosts


def test_governor_data_port_follows_the_interface_to_its_server(rain_cluster, tmp_path):
    """Without --listen a governor listens for data on the interface that reaches its server
    (here loopback), never on all interfaces."""
    cluster = rain_cluster(governors=[1])
    ready = str(tmp_path / "ready")
    governor = Process("governor-auto", [
        RAIN_BIN, "governor", cluster.address, "--cpus", "1",
        "--workdir", str(tmp_path / "work" / "governor-auto"), "--logdir", str(tmp_path / "logs"),
        "--ready-file", ready,
    ], str(tmp_path / "governor.out"), dict(os.environ))
    before = set(cluster.governor_ids())
    try:
        assert wait_until(lambda: os.path.exists(ready), timeout=30), governor.describe()
        (new,) = set(cluster.governor_ids()) - before
        assert new.startswith("127.0.0.1:"), new
        assert _listening_hosts(int(new.rsplit(":", 1)[1])) == {"0100007F"}
    finally:
        governor.stop()


def test_leftovers_of_killed_processes_are_reclaimed(rain_cluster, tmp_path):
    """A SIGKILLed governor's work dir is removed by the next governor started beside it; a
    SIGKILLed server's spool and published secret by the next server."""
    spool = tmp_path / "spool"
    spool.mkdir()
    cluster = rain_cluster(governors=[1], server_env={"TMPDIR": str(spool)})
    client = cluster.client()
    with client.new_session() as session:
        t = tasks.Execute(["head", "-c", str(8 << 20), "/dev/zero"], stdout=True)
        t.output.keep()
        session.submit()
        session.wait_all()
    victim = cluster.governors[0]
    work = cluster.path("governor-0-work")
    assert os.path.exists(os.path.join(work, "governor.pid"))
    os.kill(victim.pid, signal.SIGKILL)
    victim.popen.wait()
    assert os.path.isdir(work)  # left behind
    cluster.add_governor(1)
    assert wait_until(lambda: not os.path.exists(work), timeout=30), os.listdir(cluster.workspace)
    assert os.path.isdir(cluster.path("governor-1-work"))

    # The server: its spool (a locked dir in TMPDIR) and its secret stay after SIGKILL ...
    spools = [d for d in os.listdir(str(spool)) if d.startswith("rain-server-constants-")]
    assert len(spools) == 1
    secret_file = os.path.expanduser("~/.rain/secrets/127.0.0.1_{}".format(cluster.port))
    assert os.path.exists(secret_file)
    os.kill(cluster.server.pid, signal.SIGKILL)
    cluster.server.popen.wait()
    assert os.path.exists(str(spool / spools[0])) and os.path.exists(secret_file)
    # ... until the next server starts on this machine.
    second = rain_cluster(governors=[1], server_env={"TMPDIR": str(spool)})
    assert not os.path.exists(str(spool / spools[0]))
    assert not os.path.exists(secret_file)
    assert len(os.listdir(str(spool))) == 1
    _pipeline(second.client(), rounds=1)


FETCH_CHILD = r"""
import os, resource, sys
from rain.client import Client, tasks
size, target = int(sys.argv[2]), sys.argv[3]
client = Client("127.0.0.1", int(sys.argv[1]))
with client.new_session() as session:
    t = tasks.Execute(["head", "-c", str(size), "/dev/zero"], stdout=True)
    t.output.keep()
    session.submit()
    session.wait_all()
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    instance = t.output.fetch(path=target)
    streamed = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - base
    assert os.path.getsize(target) == size and instance.get_bytes()[:4] == b"\0\0\0\0"
    del instance
    data = t.output.fetch().get_bytes()
    assert len(data) == size
    del data
    in_memory = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - base
print(streamed, in_memory)
"""


def test_fetch_streams_with_bounded_memory(cluster, tmp_path):
    """fetch(path=...) of a 256 MiB object costs O(1) memory; fetch() one copy (plus the
    get_bytes copy the caller asks for), not two or three."""
    size = 256 << 20
    result = subprocess.run(
        ["/usr/bin/python3", "-c", FETCH_CHILD, str(cluster.port), str(size),
         str(tmp_path / "object.bin")],
        capture_output=True, text=True, timeout=300,
        env=dict(os.environ, PYTHONPATH=os.path.join(REPO, "client_py")))
    assert result.returncode == 0, result.stderr
    streamed, in_memory = (int(v) for v in result.stdout.split())
    assert streamed < 32 << 20, streamed
    assert in_memory < 2.5 * size, in_memory


def test_directory_fetch_streams_into_a_path(client, tmp_path):
    source = tmp_path / "source"
    (source / "sub").mkdir(parents=True)
    (source / "sub" / "file.txt").write_bytes(b"x" * 100000)
    (source / "top").write_text("top")
    os.symlink("sub/file.txt", str(source / "link"))
    with client.new_session() as session:
        d = directory(path=str(source))
        d.keep()
        session.submit()
        session.wait_all()
        instance = d.fetch(path=str(tmp_path / "fetched"))
        with pytest.raises(FileExistsError):
            d.fetch(path=str(tmp_path / "fetched"))
    fetched = tmp_path / "fetched"
    assert (fetched / "sub" / "file.txt").read_bytes() == b"x" * 100000
    assert (fetched / "top").read_text() == "top"
    assert os.readlink(str(fetched / "link")) == "sub/file.txt"
    assert instance.data_type.value == "dir"


def test_sessions_of_two_clients_never_share_an_executor(rain_cluster):
    """One governor with one cpu: a task of client A's session changes its process (an
    environment variable, an rlimit, a monkeypatched json.dumps) and starts a child; a later
    task of client B's session runs in another process and sees none of it; the child dies
    when A's session closes."""
    from rain.client import remote

    @remote(outputs=("report",))
    def tamper(ctx):
        import json, os, resource, subprocess
        os.environ["RAIN_TAMPERED"] = "yes"
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (77, hard))
        json.dumps = lambda *a, **k: "tampered"
        child = subprocess.Popen(["sleep", "600"])
        return ctx.blob(("%d %d" % (os.getpid(), child.pid)).encode())

    @remote(outputs=("report",))
    def inspect(ctx):
        import json, os, resource
        return ctx.blob(" ".join([
            str(os.getpid()), os.environ.get("RAIN_TAMPERED", "-"),
            str(resource.getrlimit(resource.RLIMIT_NOFILE)[0]), json.dumps([1])]).encode())

    cluster = rain_cluster(governors=[1])
    first, second = cluster.client(), cluster.client()
    with first.new_session() as a:
        t = tamper()
        t.output.keep()
        a.submit()
        pid_a, child = (int(v) for v in t.output.fetch().get_bytes().split())
        assert os.path.exists("/proc/{}".format(child))
        with second.new_session() as b:
            u = inspect()
            u.output.keep()
            b.submit()
            pid_b, env, nofile, dumped = u.output.fetch().get_bytes().decode().split()
    assert pid_b != pid_a
    assert (env, dumped) == ("-", "[1]")
    assert int(nofile) != 77
    # A's session is closed: its executor and the child its task started are gone.
    assert wait_until(lambda: not os.path.exists("/proc/{}".format(child)) or
                      open("/proc/{}/stat".format(child)).read().split()[2] == "Z",
                      timeout=20), child


def test_json_bodies_are_bounded_for_secret_holders_too(rain_cluster):
    """RAIN_MAX_JSON_BYTES bounds a JSON request of a secret holder: refused (400) when declared
    larger, or as soon as a chunked body goes beyond it; the server goes on."""
    cluster = rain_cluster(governors=[1], server_env={"RAIN_MAX_JSON_BYTES": "1000"})
    with open(os.path.expanduser("~/.rain/secrets/127.0.0.1_{}".format(cluster.port))) as f:
        auth = {"Authorization": "Bearer " + f.read().strip(), "Content-Type": "application/json"}
    declared = dict(auth, **{"Content-Length": str(100 << 20)})
    status, _, body = request(cluster.port, "POST", "/api/v1/sessions", b"{", declared,
                              half_close=True)
    assert status == 400 and b"larger than 1000 bytes" in body, body
    spec = json.dumps({"spec": {"name": "x" * 5000}}).encode()
    chunked = dict(auth, **{"Content-Length": None, "Transfer-Encoding": "chunked"})
    status, _, body = request(cluster.port, "POST", "/api/v1/sessions",
                              b"%x\r\n%s\r\n0\r\n\r\n" % (len(spec), spec), chunked)
    assert status == 400 and b"larger than 1000 bytes" in body, body
    _pipeline(cluster.client(), rounds=1)

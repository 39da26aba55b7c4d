"""Authentication with real processes (docs/security.md): the cluster secret is required by the
server's client port, the governor link and governors' data ports; the server publishes it for
its user so that `Client("localhost", port)` needs nothing; read-only monitoring is open to
loopback tools of the server's user only; `--insecure` turns it all off.
"""

import http.client
import json
import os
import stat
import subprocess

import pytest

from rain.client import Client, blob, tasks
from rain.common import RainException
from rain_testing import (RAIN_BIN, READY_TIMEOUT, Process, free_port, remove_tree,
                          wait_until)

import tempfile


def secret_path(port, host="127.0.0.1"):
    return os.path.join(os.path.expanduser("~"), ".rain", "secrets", "{}_{}".format(host, port))


def request(port, method, path, headers=None, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        res = conn.getresponse()
        return res.status, res.read()
    finally:
        conn.close()


@pytest.fixture
def no_secret(monkeypatch, tmp_path):
    """This process as a client that has no secret (another user or machine)."""
    monkeypatch.delenv("RAIN_SECRET", raising=False)
    monkeypatch.setenv("RAIN_SECRETS_DIR", str(tmp_path / "empty"))


def test_local_client_finds_the_published_secret(cluster):
    path = secret_path(cluster.port)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
    client = Client("localhost", cluster.port)  # unchanged Rain 0.4 code
    try:
        with client.new_session() as session:
            t = tasks.Concat((blob(b"Hello "), blob(b"world!")))
            t.output.keep()
            session.submit()
            assert t.output.fetch().get_bytes() == b"Hello world!"
    finally:
        client.close()


def test_requests_without_the_secret_are_refused_and_change_nothing(cluster, no_secret):
    with pytest.raises(RainException, match="requires its cluster secret"):
        Client("127.0.0.1", cluster.port)
    with pytest.raises(RainException, match="^wrong cluster secret"):
        Client("127.0.0.1", cluster.port, secret="x" * 43)
    for method, path in [("POST", "/api/v1/sessions"), ("POST", "/api/v1/shutdown"),
                         ("POST", "/api/v1/sessions/1/submit"), ("GET", "/api/v1/server_info"),
                         ("GET", "/api/v1/constants/1/10"), ("GET", "/api/v1/governor")]:
        status, body = request(cluster.port, method, path,
                               body=b"{}" if method == "POST" else None)
        assert status == 401, path
        assert json.loads(body)["error"]["kind"] == "Unauthorized"
    # Nothing ran: the server is up, no session was created by any of those.
    with open(secret_path(cluster.port)) as f:
        secret = f.read().strip()
    client = Client("127.0.0.1", cluster.port, secret=secret)
    try:
        status, body = request(cluster.http_port, "GET", "/api/v1/status")
        assert status == 200
        assert [s for s in json.loads(body)["sessions"]] == []
        assert len(client.get_server_info()["governors"]) == 2
    finally:
        client.close()
    assert "refused POST /api/v1/shutdown from 127.0.0.1: missing cluster secret" in \
        cluster.logs()


def test_secret_from_the_environment(cluster, no_secret, monkeypatch):
    with open(secret_path(cluster.port)) as f:
        monkeypatch.setenv("RAIN_SECRET", f.read().strip())
    client = Client("127.0.0.1", cluster.port)
    client.close()


def test_governor_data_port_requires_the_secret(cluster):
    with open(secret_path(cluster.port)) as f:
        secret = f.read().strip()
    governor = cluster.governor_ids()[0]
    port = int(governor.rsplit(":", 1)[1])
    # A session id no test of this module's shared cluster reaches (1/10 may be held by now).
    status, body = request(port, "GET", "/objects/999999/10")
    assert status == 401
    assert json.loads(body)["error"]["kind"] == "Unauthorized"
    status, _ = request(port, "GET", "/objects/999999/10", {"Authorization": "Bearer " + secret})
    assert status == 404  # allowed in, but not held


OTHER_USER_REQUEST = """
import http.client, json, sys
conn = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
conn.request("GET", sys.argv[2], headers=json.loads(sys.argv[3]))
res = conn.getresponse()
print(res.status, res.read().decode())
"""


def request_as_other_user(port, path, headers=None):
    """(status, body) of a GET sent by a process of another local user (uid 65534)."""
    result = subprocess.run(
        ["/usr/bin/python3", "-c", OTHER_USER_REQUEST, str(port), path, json.dumps(headers or {})],
        user=65534, group=65534, capture_output=True, text=True, timeout=30, cwd="/")
    assert result.returncode == 0, result.stderr
    status, body = result.stdout.split(" ", 1)
    return int(status), body


def test_monitoring_is_open_to_this_users_loopback_tools_only(cluster):
    status, body = request(cluster.http_port, "GET", "/api/v1/server_info")
    assert status == 200
    assert len(json.loads(body)["governors"]) == 2
    if os.geteuid() != 0:
        pytest.skip("needs root to run a request as another user")
    # Another user of this machine reaches loopback too: the dashboard, task specs and status
    # need the secret from them, on both ports.
    with open(secret_path(cluster.port)) as f:
        secret = f.read().strip()
    for port, path in ((cluster.http_port, "/"), (cluster.http_port, "/api/v1/server_info"),
                       (cluster.http_port, "/api/v1/sessions"), (cluster.port, "/api/v1/status")):
        status, body = request_as_other_user(port, path)
        assert status == 401, (port, path, body)
        assert "requires the cluster secret" in json.loads(body)["error"]["message"]
    status, body = request_as_other_user(cluster.http_port, "/api/v1/server_info",
                                         {"Authorization": "Bearer " + secret})
    assert status == 200
    status, _ = request_as_other_user(cluster.http_port, "/api/v1/server_info?token=" + secret)
    assert status == 200
    # A web page of another site must not read it through the user's browser.
    status, _ = request(cluster.http_port, "GET", "/api/v1/server_info",
                        {"Origin": "https://evil.example"})
    assert status == 401
    status, _ = request(cluster.http_port, "GET", "/api/v1/server_info",
                        {"Host": "evil.example:7222"})
    assert status == 401


def test_governor_with_a_wrong_secret_cannot_join(cluster, tmp_path):
    env = dict(os.environ, RAIN_SECRET="w" * 43)
    result = subprocess.run([
        RAIN_BIN, "governor", cluster.address, "--cpus", "1",
        "--workdir", str(tmp_path / "work"), "--logdir", str(tmp_path / "logs"),
    ], env=env, capture_output=True, text=True, timeout=READY_TIMEOUT, stdin=subprocess.DEVNULL)
    assert result.returncode != 0
    assert "the server refused the governor: wrong cluster secret" in result.stderr
    assert len(cluster.governor_ids()) == 2


def test_insecure_server_needs_no_secret_and_says_so(no_secret):
    workspace = tempfile.mkdtemp(prefix="rain-test-insecure-")
    port, http_port = free_port(), free_port()
    processes = []
    try:
        ready = os.path.join(workspace, "ready")
        server = Process("server", [
            RAIN_BIN, "server", "--listen", "127.0.0.1:{}".format(port),
            "--http-listen", "127.0.0.1:{}".format(http_port), "--insecure",
            "--logdir", os.path.join(workspace, "logs"), "--ready-file", ready,
        ], os.path.join(workspace, "server.out"), dict(os.environ))
        processes.append(server)
        assert wait_until(lambda: os.path.exists(ready), timeout=READY_TIMEOUT), server.describe()
        assert not os.path.exists(secret_path(port))
        client = Client("127.0.0.1", port)
        assert client.get_server_info() == {"governors": []}
        client.close()
        with open(os.path.join(workspace, "server.out")) as f:
            assert "AUTHENTICATION IS OFF (--insecure)" in f.read()
    finally:
        for p in processes:
            p.stop()
        remove_tree(workspace)

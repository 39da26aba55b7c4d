"""The HTTP transport against a scripted fake server (no Rain server needed): the lifeline,
authorization, long-poll re-asking, framing of submit and fetch, and error mapping."""

import json
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from rain.client import Client, RainException, SessionException, TaskException, blob, tasks


class FakeRainServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), FakeHandler)
        self.requests = []  # (method, path, headers, body)
        self.lifeline_closed = threading.Event()
        self.wait_answers = []
        self.routes = {}
        self.drop_connections = False  # close each connection after answering, unannounced
        self.closed_connections = 0
        self._closed = threading.Condition()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self):
        return self.server_address[1]

    def stop(self):
        self.shutdown()
        self.server_close()

    def shutdown_request(self, request):
        super().shutdown_request(request)
        with self._closed:
            self.closed_connections += 1
            self._closed.notify_all()

    def wait_closed_connections(self, count, timeout=30):
        """Waits until the server has closed ``count`` connections."""
        with self._closed:
            return self._closed.wait_for(lambda: self.closed_connections >= count, timeout)


class FakeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real server

    def log_message(self, *args):
        pass

    def _record(self):
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length) if length else b""
        self.server.requests.append((self.command, self.path, dict(self.headers), body))
        return body

    def _answer(self, status, payload):
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        if self.server.drop_connections:
            self.close_connection = True

    def do_GET(self):
        self._record()
        if self.path == "/api/v1/connect":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self._chunk(json.dumps({"client_id": 3, "protocol_version": 2,
                                    "server_version": "0.4.0"}).encode() + b"\n")
            try:
                while True:
                    time.sleep(0.05)
                    self._chunk(b"\n")
            except OSError:
                self.server.lifeline_closed.set()
            return
        if self.path.endswith("/data"):
            data = b"fetched bytes"
            header = json.dumps({"id": 10, "data_type": "blob", "size": len(data),
                                 "content_type": "text", "spec": {"id": [5, 10]},
                                 "info": {"size": len(data)}}).encode()
            body = struct.pack(">I", len(header)) + header + data
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for start in range(0, len(body), 7):  # arrives in small pieces
                self._chunk(body[start:start + 7])
            self._chunk(b"")
            return
        self._answer(*self.server.routes.get(("GET", self.path), (404, {
            "error": {"kind": "NotFound", "message": "no route"}})))

    def _chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def do_POST(self):
        self._record()
        if self.path == "/api/v1/sessions":
            return self._answer(200, {"session_id": 5})
        if self.path.endswith("/wait") and self.server.wait_answers:
            return self._answer(200, self.server.wait_answers.pop(0))
        self._answer(*self.server.routes.get(("POST", self.path), (200, {})))


@pytest.fixture
def fake_server():
    server = FakeRainServer()
    yield server
    server.stop()


def test_lifeline_and_authorization(fake_server, monkeypatch):
    monkeypatch.delenv("RAIN_SECRET", raising=False)
    client = Client("127.0.0.1", str(fake_server.port), secret="s3cret")
    assert client.client_id == 3
    client.new_session("named")
    connect, new_session = fake_server.requests[:2]
    assert connect[1] == "/api/v1/connect"
    for request in (connect, new_session):
        assert request[2]["Authorization"] == "Bearer s3cret"
    assert json.loads(new_session[3]) == {"client_id": 3, "spec": {"name": "named"}}
    assert not fake_server.lifeline_closed.is_set()
    client.close()
    assert fake_server.lifeline_closed.wait(5)


def test_secret_from_environment(fake_server, monkeypatch):
    monkeypatch.setenv("RAIN_SECRET", "from-env")
    client = Client("127.0.0.1", fake_server.port)
    client.new_session()
    assert all(r[2].get("Authorization") == "Bearer from-env" for r in fake_server.requests)
    client.close()
    monkeypatch.delenv("RAIN_SECRET")
    client = Client("127.0.0.1", fake_server.port)
    assert "Authorization" not in fake_server.requests[-1][2]
    client.close()


def test_submit_wait_fetch(fake_server, monkeypatch):
    # The JSON framing (the compact encoding has tests of its own: test_submit_compact.py).
    monkeypatch.setenv("RAIN_SUBMIT_ENCODING", "json")
    client = Client("127.0.0.1", fake_server.port)
    with client.new_session() as session:
        t = tasks.Concat([blob(b"abc"), blob(b"defg")])
        t.output.keep()
        session.submit()
        method, path, headers, body = fake_server.requests[-1]
        assert (method, path) == ("POST", "/api/v1/sessions/5/submit")
        assert headers["Content-Type"] == "application/x-rain-submit"
        (length,) = struct.unpack(">I", body[:4])
        header = json.loads(body[4:4 + length])
        assert body[4 + length:] == b"abcdefg"
        assert [o.get("data_size") for o in header["objects"]] == [3, 4, None]
        # A long poll that answers "not done yet" is asked again.
        fake_server.wait_answers = [{"done": False, "tasks": [], "objects": []},
                                    {"done": True, "tasks": [12], "objects": []}]
        t.wait()
        waits = [r for r in fake_server.requests if r[1].endswith("/wait")]
        assert len(waits) == 2
        assert json.loads(waits[0][3])["tasks"] == [12]
        instance = t.output.fetch()
        assert instance.get_bytes() == b"fetched bytes" and instance.content_type == "text"
        assert t.output.info.size == 13
        # The keep-alive connection is still usable after a streamed fetch.
        fake_server.wait_answers = [{"done": True, "tasks": [], "objects": [13]}]
        t.output.wait()
    client.close()


def test_error_mapping(fake_server):
    client = Client("127.0.0.1", fake_server.port)
    session = client.new_session()
    with session.bind_only():
        t = tasks.Concat([blob(b"x")])  # the creation site
    session.submit()
    routes = fake_server.routes
    routes[("POST", "/api/v1/sessions/5/update")] = (400, {
        "error": {"kind": "BadRequest", "message": "bad update"}})
    with pytest.raises(RainException) as error:
        t.update()
    assert error.value.kind == "BadRequest" and "bad update" in str(error.value)
    assert not isinstance(error.value, SessionException)
    routes[("POST", "/api/v1/sessions/5/update")] = (409, {
        "error": {"kind": "SessionClosed", "message": "session 5 is closed"}})
    with pytest.raises(SessionException, match="session 5 is closed") as error:
        t.update()
    assert not isinstance(error.value, TaskException)
    routes[("POST", "/api/v1/sessions/5/update")] = (500, b"<html>oops</html>")
    with pytest.raises(RainException) as error:
        t.update()
    assert "oops" in str(error.value)
    routes[("POST", "/api/v1/sessions/5/wait_all")] = (409, {
        "error": {"kind": "SessionFailed", "message": "task 5/11 failed: it broke"}})
    with pytest.raises(TaskException) as error:
        session.wait_all()
    text = str(error.value)
    assert "it broke" in text and "# the creation site" in text and __file__ in text
    requests_before = len(fake_server.requests)
    with pytest.raises(TaskException) as again:
        session.update([t])
    assert str(again.value) == text
    assert len(fake_server.requests) == requests_before  # known failure: no server round trip
    session.close()
    client.close()


def test_connections_closed_by_the_server_are_replaced(fake_server):
    fake_server.drop_connections = True
    client = Client("127.0.0.1", fake_server.port)
    session = client.new_session()
    # Every request but the lifeline had its own connection, closed after the answer.
    assert [r[1] for r in fake_server.requests] == ["/api/v1/connect", "/api/v1/sessions"]
    assert fake_server.wait_closed_connections(1)
    with session.bind_only():
        t = tasks.Concat([blob(b"x")])
    session.submit()  # a streamed body cannot be replayed: the stale connection is noticed
    fake_server.wait_answers = [{"done": True, "tasks": [12], "objects": []}]
    t.wait()
    assert [r[1] for r in fake_server.requests[-3:]] == [
        "/api/v1/sessions", "/api/v1/sessions/5/submit", "/api/v1/sessions/5/wait"]
    session.close()
    client.close()


def test_unreachable_server():
    with FakeRainServer() as server:
        port = server.port
        server.stop()
    with pytest.raises(RainException, match="cannot connect to Rain server at 127.0.0.1"):
        Client("127.0.0.1", port)

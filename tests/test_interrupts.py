"""Ctrl-C (KeyboardInterrupt) during wait, wait_all, fetch or submit leaves the Client usable
(Jupyter users interrupt cells): the next call on the same client and session works, and the
interrupt shows as one short traceback without chained transport errors.

A real SIGINT is sent to this process by a helper thread once the main thread is blocked reading
the server's answer inside the ServerApi method under test (seen in its stack), so the signal
lands mid-response deterministically. Interrupts at exact points of a submit's upload are made by
patching http.client's send.
"""

import http.client
import os
import signal
import sys
import threading
import time
import traceback

import pytest

from rain.client import blob, remote
from rain.client.rpc import api as rpc_api

BLOCKED_TIMEOUT = 30.0

pytestmark = pytest.mark.skipif(
    signal.getsignal(signal.SIGINT) is not signal.default_int_handler,
    reason="needs Python's default SIGINT handler (KeyboardInterrupt)")


@remote()
def held(ctx, release_path, data=b"released"):
    """Runs until ``release_path`` exists (the test creates it when it is ready)."""
    import time as clock
    while not os.path.exists(release_path):
        clock.sleep(0.02)
    return data


def _main_thread_blocked_in(api_method):
    """True if the main thread waits for bytes from a socket inside ServerApi.<api_method>."""
    frame = sys._current_frames().get(threading.main_thread().ident)
    if frame is None or frame.f_code.co_name != "readinto" or \
            not frame.f_code.co_filename.endswith("socket.py"):
        return False
    while frame is not None:
        if frame.f_code.co_name == api_method and \
                frame.f_code.co_filename == rpc_api.__file__:
            return True
        frame = frame.f_back
    return False


class Interrupter:
    """Sends SIGINT to this process once the main thread is blocked in ``api_method``; if that
    never happens, creates ``release_path`` so that the main thread is not stuck forever."""

    def __init__(self, api_method, release_path):
        self.api_method = api_method
        self.release_path = release_path
        self.sent = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        deadline = time.monotonic() + BLOCKED_TIMEOUT
        while time.monotonic() < deadline:
            if _main_thread_blocked_in(self.api_method):
                self.sent = True
                os.kill(os.getpid(), signal.SIGINT)
                return
            time.sleep(0.005)
        release(self.release_path)

    def join(self):
        self.thread.join(BLOCKED_TIMEOUT + 5)
        assert self.sent, "the main thread never blocked in ServerApi.{}".format(self.api_method)


def release(path):
    with open(path + ".tmp", "w"):
        pass
    os.rename(path + ".tmp", path)


def assert_one_short_traceback(error):
    text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    assert "During handling of the above exception" not in text, text
    assert "direct cause of the following exception" not in text, text
    assert text.rstrip().endswith("KeyboardInterrupt"), text
    assert text.count('File "') <= 15, text
    return text


@pytest.fixture
def release_path(tmp_path):
    return str(tmp_path / "release")


@pytest.mark.parametrize("call", ["wait", "wait_all", "fetch"])
def test_interrupted_wait_and_fetch_leave_the_client_usable(client, release_path, call):
    with client.new_session() as session:
        t = held(release_path)
        t.output.keep()
        session.submit()
        interrupter = Interrupter(call, release_path)
        with pytest.raises(KeyboardInterrupt) as raised:
            if call == "wait":
                session.wait(t)
            elif call == "wait_all":
                session.wait_all()
            else:
                t.output.fetch()
        interrupter.join()
        assert_one_short_traceback(raised.value)
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
        # The same client and session carry on: the task still runs, then finishes.
        session.update(t)
        assert t.state.name in ("ready", "assigned", "running")
        release(release_path)
        session.wait(t)
        assert t.output.fetch().get_bytes() == b"released"
        other = held(release_path, b"again")
        other.output.keep()
        session.submit()
        assert other.output.fetch().get_bytes() == b"again"


def test_interrupt_in_the_middle_of_a_fetched_body(client, release_path, monkeypatch):
    release(release_path)
    data = os.urandom(8 << 20)
    with client.new_session() as session:
        t = held(release_path, blob(data))
        t.output.keep()
        session.submit()
        session.wait(t)
        real_read_header = rpc_api.read_header

        def header_then_interrupt(stream):
            header = real_read_header(stream)
            raise KeyboardInterrupt  # the 8 MiB body is still on its way
        monkeypatch.setattr(rpc_api, "read_header", header_then_interrupt)
        with pytest.raises(KeyboardInterrupt) as raised:
            t.output.fetch()
        monkeypatch.setattr(rpc_api, "read_header", real_read_header)
        assert_one_short_traceback(raised.value)
        assert t.output.fetch().get_bytes() == data


class SendInterrupter:
    """Patches HTTPConnection.send: the ``nth`` call in the main thread raises
    KeyboardInterrupt (the headers are call 1, then one call per body chunk)."""

    def __init__(self, monkeypatch, nth):
        self.calls = 0
        real_send = http.client.HTTPConnection.send
        interrupter = self

        def send(connection, data):
            if threading.current_thread() is threading.main_thread():
                interrupter.calls += 1
                if interrupter.calls == nth:
                    raise KeyboardInterrupt
            return real_send(connection, data)
        monkeypatch.setattr(http.client.HTTPConnection, "send", send)


@pytest.mark.parametrize("nth", [2, 3], ids=["before-the-body", "mid-body"])
def test_submit_interrupted_during_the_upload_is_not_applied(client, release_path, monkeypatch,
                                                             nth):
    release(release_path)
    data = os.urandom(3 << 20)  # its own body chunk after the header's
    with client.new_session() as session:
        t = held(release_path, blob(data))
        t.output.keep()
        with monkeypatch.context() as patch:
            sender = SendInterrupter(patch, nth)
            with pytest.raises(KeyboardInterrupt) as raised:
                session.submit()
        assert sender.calls == nth
        assert_one_short_traceback(raised.value)
        assert t.state is None and session.task_count == 1  # nothing was submitted
        session.submit()  # the server dropped the truncated body: submitting again works
        assert t.output.fetch().get_bytes() == data


def test_submit_interrupted_after_the_upload_completes_first(client, release_path, monkeypatch):
    """Once the whole body is sent the server applies the submit: Ctrl-C is held back until
    its answer is read, then raised tagged ``rain_submitted``."""
    release(release_path)
    with client.new_session() as session:
        t = held(release_path)
        t.output.keep()
        real_getresponse = http.client.HTTPConnection.getresponse
        signalled = []

        def getresponse(connection):
            if not signalled and threading.current_thread() is threading.main_thread():
                signalled.append(True)
                signal.raise_signal(signal.SIGINT)  # Ctrl-C while the answer is on its way
            return real_getresponse(connection)
        with monkeypatch.context() as patch:
            patch.setattr(http.client.HTTPConnection, "getresponse", getresponse)
            with pytest.raises(KeyboardInterrupt) as raised:
                client._api.submit(session.session_id, *_submit_arguments(session))
        assert signalled
        assert raised.value.rain_submitted is True
        assert_one_short_traceback(raised.value)
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
        # The server has the task, and the client's connection works.
        answer = client._api.update(session.session_id, [t.id.id], [])
        assert [task["id"] for task in answer["tasks"]] == [t.id.id]
        client._api.wait(session.session_id, [t.id.id], [])


def _submit_arguments(session):
    """What Session.submit sends: (task JSON, object JSON, constants)."""
    from rain.client.session import _objects_to_json, _task_to_json
    objects, constants = _objects_to_json(session._unsubmitted_objects)
    return [_task_to_json(t.spec) for t in session._unsubmitted_tasks], objects, constants


def test_session_submit_interrupted_after_the_upload_counts_as_submitted(
        client, release_path, monkeypatch):
    """Session.submit() interrupted once the server has the graph: its tasks are submitted
    (waitable, not sent again by the next submit)."""
    release(release_path)
    with client.new_session() as session:
        t = held(release_path)
        t.output.keep()
        real_getresponse = http.client.HTTPConnection.getresponse
        signalled = []

        def getresponse(connection):
            if not signalled and threading.current_thread() is threading.main_thread():
                signalled.append(True)
                signal.raise_signal(signal.SIGINT)
            return real_getresponse(connection)
        with monkeypatch.context() as patch:
            patch.setattr(http.client.HTTPConnection, "getresponse", getresponse)
            with pytest.raises(KeyboardInterrupt):
                session.submit()
        assert signalled
        assert t.state is not None and session.task_count == 0
        session.submit()  # nothing left to send
        assert t.output.fetch().get_bytes() == b"released"

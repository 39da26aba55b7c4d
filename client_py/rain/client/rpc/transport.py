"""HTTP transport to the server: JSON requests over keep-alive connections, one per thread.

Long polls block the calling thread's connection, so every thread gets its own. A request that
does not end normally (Ctrl-C, i.e. KeyboardInterrupt, in the middle of a wait; a broken
response) leaves its connection in an unknown state: the connection is dropped at once and the
next request opens a fresh one, so an interrupted client stays usable.
"""

from __future__ import annotations

import http.client
import json
import select
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from types import FrameType
from typing import Any, TypeVar, Union

from ...common.errors import RainException, SessionException, TaskException
from .secret import find_secret

API_PREFIX = "/api/v1"
CONNECT_TIMEOUT = 30.0
#: Seconds the client keeps trying to reach a server it lost (a restarted server restores the
#: client's sessions: docs/guide/server-restart.md), as governors' ``--server-lost-timeout``.
DEFAULT_SERVER_LOST_TIMEOUT = 60.0
#: First and longest pause between two attempts to reach the server again.
RETRY_FIRST_PAUSE = 0.05
RETRY_MAX_PAUSE = 1.0

_T = TypeVar("_T")

# What the signal module reports as a handler (None: installed outside Python).
_Handler = Union["signal._HANDLER", None]  # pyright: ignore[reportPrivateUsage]
# A request body: bytes, or chunks of bytes sent in order (a generator cannot be resent).
Body = Union[bytes, Iterable[Union[bytes, memoryview]], None]

_ERROR_CLASSES: dict[str, type[RainException]] = {
    "SessionFailed": TaskException,
    "TaskFailed": TaskException,  # tasks failed or were cancelled; the session goes on
    "SessionClosed": SessionException,
}

# A kept-alive connection the server closed while idle fails like this on its next use;
# the request never reached the server, so sending it again is safe.
_STALE_CONNECTION_ERRORS = (http.client.RemoteDisconnected, BrokenPipeError,
                            ConnectionResetError)


def _closed_by_peer(connection: http.client.HTTPConnection) -> bool:
    """True if an idle kept-alive connection was closed by the server (it is readable: EOF)."""
    sock = connection.sock
    if sock is None:
        return True
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)  # an idle HTTP connection has nothing to read unless it was closed


class DeferredInterrupt:
    """Holds back SIGINT (Ctrl-C) while a request must not be cut short, e.g. once a submit's
    body is sent (the server applies it, so the client must learn that it did).

    ``start()`` installs a handler that only records the signal (main thread only: elsewhere
    Python delivers no signals anyway); ``finish()`` restores the previous handler and
    re-delivers a recorded signal to it, so Ctrl-C still interrupts, just a little later.
    """

    def __init__(self) -> None:
        self.pending = False
        self._previous: _Handler = None
        self._active = False

    def start(self) -> None:
        if self._active or threading.current_thread() is not threading.main_thread():
            return
        previous = signal.getsignal(signal.SIGINT)
        if previous is None:  # installed outside Python: leave it alone
            return
        self._previous = previous
        signal.signal(signal.SIGINT, self._record)
        self._active = True

    def _record(self, signum: int, frame: FrameType | None) -> None:
        self.pending = True

    def finish(self) -> None:
        """Restores the handler; delivers a held-back Ctrl-C (raises what its handler raises,
        usually KeyboardInterrupt)."""
        if not self._active:
            return
        self._active = False
        signal.signal(signal.SIGINT, self._previous)
        if self.pending:
            self.pending = False
            signal.raise_signal(signal.SIGINT)

    def cancel(self) -> None:
        """Restores the handler, forgetting a held-back Ctrl-C (an error is already on its way)."""
        if self._active:
            self._active = False
            self.pending = False
            signal.signal(signal.SIGINT, self._previous)


class ServerUnreachable(RainException):
    """The server cannot be reached, or the connection broke before the answer was complete:
    the request may be sent again (``Transport.retrying``)."""


def server_error(kind: str, message: str) -> RainException:
    """The exception for an ``ErrorResponse``: TaskException for a failed session,
    SessionException for a closed one, RainException otherwise; ``kind`` is kept on it."""
    error = _ERROR_CLASSES.get(kind, RainException)(message)
    error.kind = kind
    return error


class Transport:
    def __init__(self, host: str, port: int | str, secret: str | None = None,
                 server_lost_timeout: float = DEFAULT_SERVER_LOST_TIMEOUT) -> None:
        self.host = host
        self.port = int(port)
        self.server_lost_timeout = server_lost_timeout
        #: The server ended the client's lifeline itself (an orderly stop): no retries.
        self.server_stopped = False
        if secret is None:
            # $RAIN_SECRET, else the secret a local server of this user published (secret.py)
            secret = find_secret(host, self.port)
        self._headers = {"Authorization": "Bearer " + secret} if secret else {}
        self._local = threading.local()
        self._all_connections: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    # --- connections --------------------------------------------------------------------------

    def open_connection(self) -> http.client.HTTPConnection:
        """A new connection; blocking reads without timeout (waits are long polls)."""
        connection = http.client.HTTPConnection(self.host, self.port, timeout=CONNECT_TIMEOUT)
        try:
            connection.connect()
        except OSError as error:
            raise ServerUnreachable(
                f"cannot connect to Rain server at {self.host}:{self.port}: {error}") from error
        connection.sock.settimeout(None)
        connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection

    def _thread_connection(self) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is not None and _closed_by_peer(connection):
            self._drop_thread_connection()
            connection = None
        if connection is None:
            connection = self.open_connection()
            self._local.connection = connection
            self._local.used = False
            with self._lock:
                self._all_connections.append(connection)
        return connection

    def _drop_thread_connection(self) -> None:
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None
            with self._lock:
                if connection in self._all_connections:
                    self._all_connections.remove(connection)

    def close(self) -> None:
        with self._lock:
            connections, self._all_connections = self._all_connections, []
        for connection in connections:
            connection.close()

    # --- requests -----------------------------------------------------------------------------

    def retrying(self, attempt: Callable[[], _T], retry: bool = True) -> _T:
        """``attempt()``, tried again while the server cannot be reached (it restarts), with
        pauses growing from RETRY_FIRST_PAUSE to RETRY_MAX_PAUSE, for at most
        ``server_lost_timeout`` seconds from the first failure."""
        deadline: float | None = None
        pause = RETRY_FIRST_PAUSE
        while True:
            try:
                return attempt()
            except ServerUnreachable:
                now = time.monotonic()
                if deadline is None:
                    deadline = now + self.server_lost_timeout
                if not retry or now >= deadline or self.server_stopped:
                    raise
                time.sleep(min(pause, deadline - now))
                pause = min(pause * 2, RETRY_MAX_PAUSE)

    def request(self, method: str, path: str, body: Body = None,
                headers: Mapping[str, str] | None = None,
                retry: bool = True) -> http.client.HTTPResponse:
        """Sends a request on this thread's connection; returns the response (status < 400)
        with its body unread. Error responses are raised as exceptions. A request whose body
        can be sent again is retried while the server cannot be reached (``retrying``)."""
        resendable = isinstance(body, (bytes, type(None)))
        return self.retrying(lambda: self._request_once(method, path, body, headers),
                             retry and resendable)

    def _request_once(self, method: str, path: str, body: Body,
                      headers: Mapping[str, str] | None,
                      fresh: bool = False) -> http.client.HTTPResponse:
        all_headers = dict(self._headers)
        if headers:
            all_headers.update(headers)
        response: http.client.HTTPResponse | None = None
        if fresh and getattr(self._local, "used", False):
            self._drop_thread_connection()
        for attempt in (1, 2):
            connection = self._thread_connection()
            reused: bool = self._local.used
            try:
                connection.request(method, API_PREFIX + path, body=body, headers=all_headers)
                response = connection.getresponse()
                break
            except _STALE_CONNECTION_ERRORS as error:
                self._drop_thread_connection()
                # A generator body is consumed, and a fresh connection has no excuse.
                if attempt == 2 or not reused or not isinstance(body, (bytes, type(None))):
                    raise ServerUnreachable(f"connection to Rain server lost: {error}") from error
            except (OSError, http.client.HTTPException) as error:
                self._drop_thread_connection()
                raise ServerUnreachable(f"connection to Rain server lost: {error}") from error
            except BaseException:
                # Interrupted (KeyboardInterrupt) halfway: the connection is unusable.
                self._drop_thread_connection()
                raise
        assert response is not None  # the loop ends by break or by raising
        self._local.used = True
        if response.status >= 400:
            try:
                error = self._error_from(response)
            except BaseException:
                self._drop_thread_connection()
                raise
            raise error
        return response

    def _error_from(self, response: http.client.HTTPResponse) -> RainException:
        raw = response.read()
        try:
            error = json.loads(raw.decode("utf-8"))["error"]
            return server_error(error["kind"], error["message"])
        except (ValueError, KeyError, TypeError):
            text = raw[:1000].decode("utf-8", "replace")
            return server_error("Internal",
                                f"server answered {response.status} {response.reason}: {text}")

    def call(self, method: str, path: str, payload: Any = None, retry: bool = True) -> Any:
        """A JSON request; returns the decoded JSON answer. Sent again while the server cannot
        be reached (``retry``; the server's requests are safe to repeat)."""
        body = None
        headers = None
        if payload is not None:
            body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
            headers = {"Content-Type": "application/json"}

        def attempt() -> bytes:
            response = self._request_once(method, path, body, headers)
            return self.read_body(response)

        raw = self.retrying(attempt, retry)
        return json.loads(raw.decode("utf-8")) if raw.strip() else {}

    def read_body(self, response: http.client.HTTPResponse) -> bytes:
        """The whole body of ``response``; the connection is dropped if reading fails or is
        interrupted."""
        try:
            return response.read()
        except (OSError, http.client.HTTPException) as error:
            self._drop_thread_connection()
            raise ServerUnreachable(f"connection to Rain server lost: {error}") from error
        except BaseException:
            self._drop_thread_connection()
            raise

    def stream(self, method: str, path: str, body: Body = None,
               headers: Mapping[str, str] | None = None,
               fresh: bool = False) -> http.client.HTTPResponse:
        """A request whose response body the caller reads; it must be read to the end
        (or the connection dropped with ``abandon_stream``) before the next request. Not
        retried: the caller retries the request and its reading together. ``fresh``: sent as
        the first request of a new connection (the server answers bulk data straight on such
        a connection, server/direct_fetch.ts, and closes it afterwards)."""
        return self._request_once(method, path, body, headers, fresh)

    def abandon_stream(self) -> None:
        """Forgets this thread's connection after a response was not read to the end."""
        self._drop_thread_connection()

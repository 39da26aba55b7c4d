"""The client's lifeline: ``GET /api/v1/connect``, held open for the client's whole life.

The first line names the client; then the server sends a heartbeat every few seconds. When
this stream breaks the server closes all sessions of the client, so it is how the server
learns that the client has gone away (a restarted server waits for its restored clients to
connect again: ``GET /api/v1/connect?client=ID``).
"""

# Lifeline shares the transport's headers and error decoding.
# pyright: reportPrivateUsage=false

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from typing import Any

from ...common.errors import RainException
from .transport import (API_PREFIX, RETRY_FIRST_PAUSE, RETRY_MAX_PAUSE, ServerUnreachable,
                        Transport)

PROTOCOL_VERSION = 2


class Lifeline:
    """The stream, and a thread reading its heartbeats. If the stream breaks without ``close()``
    (the server went away), the thread connects again under the same client id for the
    transport's ``server_lost_timeout``: a restarted server restores this client's sessions
    when it comes back (docs/guide/server-restart.md)."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport
        self._closed = False
        self.client_id: int = 0
        self._connect(None)
        self._thread = threading.Thread(target=self._read_heartbeats, daemon=True,
                                        name=f"rain-lifeline-{self.client_id}")
        self._thread.start()

    def _connect(self, resume: int | None) -> None:
        transport = self._transport
        connection = transport.open_connection()
        path = API_PREFIX + "/connect" + ("" if resume is None else f"?client={resume}")
        try:
            connection.request("GET", path, headers=transport._headers)
            response = connection.getresponse()
            if response.status >= 400:
                raise transport._error_from(response)
            first_line = response.readline()
        except OSError as error:
            connection.close()
            raise ServerUnreachable(f"cannot connect to Rain server at {transport.host}:"
                                    f"{transport.port}: {error}") from error
        except BaseException:
            connection.close()
            raise
        try:
            hello: dict[str, Any] = json.loads(first_line.decode("utf-8"))
            client_id: int = hello["client_id"]
        except (ValueError, KeyError, TypeError):
            connection.close()
            raise RainException(f"unexpected answer to connect: {first_line[:200]!r}")
        self.protocol_version: int | None = hello.get("protocol_version")
        self.server_version: str | None = hello.get("server_version")
        if self.protocol_version != PROTOCOL_VERSION:
            connection.close()
            raise RainException(
                f"server speaks protocol {self.protocol_version}, this client {PROTOCOL_VERSION}")
        self.client_id = client_id
        self._connection = connection
        self._response = response
        self.alive = True

    def _read_heartbeats(self) -> None:
        while True:
            try:
                while self._response.read1(4096):
                    pass
                # The server ended the stream: it stopped on purpose (rain stop), so requests
                # fail at once instead of waiting for it to come back.
                self._transport.server_stopped = True
                self.alive = False
                return
            except (OSError, ValueError, AttributeError, http.client.HTTPException):
                pass  # closed by close(), or the server went away (a crash)
            self.alive = False
            if self._closed or not self._reconnect():
                return

    def _reconnect(self) -> bool:
        """Connects again under this client's id, with growing pauses, until the transport's
        ``server_lost_timeout`` passes; False if it did not come back."""
        deadline = time.monotonic() + self._transport.server_lost_timeout
        pause = RETRY_FIRST_PAUSE
        while not self._closed and time.monotonic() < deadline:
            try:
                self._connect(self.client_id)
                return not self._closed
            except RainException:
                time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
                pause = min(pause * 2, RETRY_MAX_PAUSE)
        return False

    def close(self) -> None:
        """Breaks the stream, which makes the server close this client's sessions."""
        self._closed = True
        self.alive = False
        sock = self._connection.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._connection.close()

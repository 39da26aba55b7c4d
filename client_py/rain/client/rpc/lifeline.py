"""The client's lifeline: ``GET /api/v1/connect``, held open for the client's whole life.

The first line names the client; then the server sends a heartbeat every few seconds. When
this stream breaks the server closes all sessions of the client, so it is how the server
learns that the client has gone away.
"""

# Lifeline shares the transport's headers and error decoding.
# pyright: reportPrivateUsage=false

from __future__ import annotations

import http.client
import json
import socket
import threading
from typing import Any

from ...common.errors import RainException
from .transport import API_PREFIX, Transport

PROTOCOL_VERSION = 2


class Lifeline:
    def __init__(self, transport: Transport) -> None:
        self._connection = transport.open_connection()
        try:
            self._connection.request("GET", API_PREFIX + "/connect",
                                     headers=transport._headers)
            response = self._connection.getresponse()
            if response.status >= 400:
                raise transport._error_from(response)
            first_line = response.readline()
        except OSError as error:
            self._connection.close()
            raise RainException(f"cannot connect to Rain server at {transport.host}:"
                                f"{transport.port}: {error}") from error
        except BaseException:
            self._connection.close()
            raise
        try:
            hello: dict[str, Any] = json.loads(first_line.decode("utf-8"))
            self.client_id: int = hello["client_id"]
        except (ValueError, KeyError, TypeError):
            self._connection.close()
            raise RainException(f"unexpected answer to connect: {first_line[:200]!r}")
        self.protocol_version: int | None = hello.get("protocol_version")
        self.server_version: str | None = hello.get("server_version")
        if self.protocol_version != PROTOCOL_VERSION:
            self._connection.close()
            raise RainException(
                f"server speaks protocol {self.protocol_version}, this client {PROTOCOL_VERSION}")
        self.alive = True
        self._response = response
        self._thread = threading.Thread(target=self._read_heartbeats, daemon=True,
                                        name=f"rain-lifeline-{self.client_id}")
        self._thread.start()

    def _read_heartbeats(self) -> None:
        try:
            while self._response.read1(4096):
                pass
        except (OSError, ValueError, AttributeError, http.client.HTTPException):
            pass  # closed by close(), or the server went away
        finally:
            self.alive = False

    def close(self) -> None:
        """Breaks the stream, which makes the server close this client's sessions."""
        self.alive = False
        sock = self._connection.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._connection.close()

"""Frames of the executor protocol (common/executor_protocol.ts, docs/executors.md).

A hand-written codec on the standard library only. Every frame, both directions::

    N  4 bytes  big-endian length of everything after this field
    H  4 bytes  big-endian length of the JSON header
    header      H bytes of UTF-8 JSON: one message (a dict with "type")
    parts       the message's binary parts back to back; message["parts"] lists their lengths

A message refers to binary part k as ``"part": k``. Data is never base64-encoded.
"""

from __future__ import annotations

import json
import socket
import struct
from collections.abc import Sequence
from typing import Any

# One message of the protocol and its binary parts.
Message = dict[str, Any]
Buffer = bytes | bytearray | memoryview

_U32 = struct.Struct(">I")
_U32x2 = struct.Struct(">II")
# Frames up to this size are joined and sent with one call.
_JOIN_LIMIT = 1 << 16
_dumps = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode


class ProtocolError(Exception):
    """The other side sent something that is not a valid frame."""


class Connection:
    """Frames over a connected stream socket."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buf = bytearray()

    def read(self) -> tuple[Message, list[memoryview]] | None:
        """The next ``(message, parts)``, parts as memoryviews; None at the end of the stream."""
        buf = self._buf
        recv = self._sock.recv
        while True:
            have = len(buf)
            if have >= 4:
                n = _U32.unpack_from(buf, 0)[0]
                if have >= 4 + n:
                    break
                need = 4 + n - have
            else:
                need = 4 - have
            chunk = recv(need if need > 65536 else 65536)
            if not chunk:
                if buf:
                    raise ProtocolError("the stream ended inside a frame")
                return None
            buf += chunk
        frame = bytes(buf[4:4 + n])
        del buf[:4 + n]
        if n < 4:
            raise ProtocolError("frame too short")
        h = _U32.unpack_from(frame, 0)[0]
        if 4 + h > n:
            raise ProtocolError("frame header exceeds the frame")
        message = json.loads(frame[4:4 + h])
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            raise ProtocolError("frame header is not a message")
        lengths = message.get("parts")
        parts: list[memoryview] = []
        offset = 4 + h
        if lengths:
            view = memoryview(frame)
            for length in lengths:
                parts.append(view[offset:offset + length])
                offset += length
        if offset != n:
            raise ProtocolError("frame parts do not match its length")
        return message, parts

    def send(self, message: Message, parts: Sequence[Buffer] = ()) -> None:
        """Sends one message with its binary parts (bytes-like objects)."""
        if parts:
            message["parts"] = [len(p) for p in parts]
        header = _dumps(message).encode("utf-8")
        size = len(header) + sum(len(p) for p in parts)
        prefix = _U32x2.pack(4 + size, len(header))
        sendall = self._sock.sendall
        if size <= _JOIN_LIMIT:
            sendall(b"".join((prefix, header, *parts)) if parts else prefix + header)
        else:
            sendall(prefix + header)
            for p in parts:
                sendall(p)

"""Binary bodies of submit and fetch: 4-byte big-endian header length, JSON header, raw data.

See common/framing.ts.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator, Sequence
from typing import Any, Protocol


class _Readable(Protocol):
    def read(self, size: int, /) -> bytes: ...


from ...common.errors import RainException

SUBMIT_CONTENT_TYPE = "application/x-rain-submit"
OBJECT_CONTENT_TYPE = "application/x-rain-object"
MAX_HEADER_BYTES = 1 << 30

# Small constants are joined into chunks of about this size, so that a submit with many tiny
# objects costs a few large writes instead of one write per object.
_CHUNK_BYTES = 1 << 20


def frame_submit(header: Any, constants: Sequence[bytes]) -> tuple[int, Iterator[bytes]]:
    """Body of a submit: returns ``(total_length, iterable of bytes chunks)``.

    ``header`` is the ``SubmitHeader`` (plain lists/dicts); ``constants`` the data of the
    objects that have ``data_size``, in the same order.
    """
    # No cycle check: the header is built by the client from plain lists and dicts.
    header_bytes = json.dumps(header, separators=(",", ":"), check_circular=False) \
        .encode("utf-8")
    prefix = struct.pack(">I", len(header_bytes)) + header_bytes
    length = len(prefix) + sum(map(len, constants))
    return length, body_chunks(prefix, constants)


def body_chunks(prefix: bytes, constants: Sequence[bytes]) -> Iterator[bytes]:
    """``prefix`` then the constants, small ones joined into chunks of about 1 MiB."""
    pending = [prefix]
    pending_size = len(prefix)
    for data in constants:
        if len(data) >= _CHUNK_BYTES:
            if pending:
                yield b"".join(pending)
                pending, pending_size = [], 0
            yield data
            continue
        pending.append(data)
        pending_size += len(data)
        if pending_size >= _CHUNK_BYTES:
            yield b"".join(pending)
            pending, pending_size = [], 0
    if pending:
        yield b"".join(pending)


def read_exact(stream: _Readable, size: int) -> bytes:
    """Exactly ``size`` bytes from a file-like ``stream``; RainException if it ends early."""
    data = stream.read(size)
    if len(data) != size:
        raise RainException(
            f"server response ended early: expected {size} bytes, got {len(data)}")
    return data


def read_header(stream: _Readable) -> dict[str, Any]:
    """Reads a framed JSON header from ``stream``."""
    length: int
    (length,) = struct.unpack(">I", read_exact(stream, 4))
    if length > MAX_HEADER_BYTES:
        raise RainException(f"response header of {length} bytes is too large")
    return json.loads(read_exact(stream, length).decode("utf-8"))

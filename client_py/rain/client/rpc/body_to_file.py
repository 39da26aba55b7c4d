"""Writing the rest of a fetched blob's HTTP body to a file, past http.client (issue 15).

``HTTPResponse.readinto`` in large chunks and a write of each got a third of what ``curl -o
FILE`` gets on the same endpoint: each chunk crosses Python's buffered reader, and a chunk larger
than the CPU cache goes through memory twice. Here the bytes http.client read ahead are written
first, then the socket is spliced into the file through a pipe (splice(2): the bytes never enter
Python), or, where splice is missing, received into one cache-sized buffer and written.
"""

from __future__ import annotations

import errno
import http.client
import os
import socket
from collections.abc import Callable
from typing import Any

#: Bytes per splice(2) or receive: fits the CPU cache (4 MiB reads measured slower).
COPY_BYTES = 1 << 20


def direct_body_length(response: http.client.HTTPResponse) -> int | None:
    """Bytes left in the body if it can be read straight from the socket: a plain
    ``content-length`` body (not chunked), else None."""
    length = response.length
    if response.chunked or length is None:
        return None
    return length


def copy_body_to_file(response: http.client.HTTPResponse, fd: int, size: int,
                      header: dict[str, Any]) -> None:
    """Writes the next ``size`` bytes of the body (all that is left of it, per
    ``direct_body_length``) to ``fd``. Raises ConnectionError if the body ends short."""
    left = size
    if left > 0:
        first = response.read1(left)  # what was read ahead, or one read
        _write_all(fd, first)
        left -= len(first)
    response.length = 0  # read from here on past http.client, which must not read again
    source = response.fileno()
    if left > 0 and hasattr(os, "splice"):
        left = _splice(source, fd, left, header)
    if left > 0:
        _receive(source, fd, left, header)


def _splice(source: int, fd: int, left: int, header: dict[str, Any]) -> int:
    """Moves ``left`` bytes by splice(2). Returns what is left: 0, or all of it when this system
    cannot splice from a socket (then nothing was moved)."""
    read_end, write_end = os.pipe()
    try:
        try:
            import fcntl
            fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, COPY_BYTES)
        except (ImportError, AttributeError, OSError):
            pass  # a smaller pipe only means more calls
        moved = False
        while left > 0:
            try:
                n = os.splice(source, write_end, min(left, COPY_BYTES))
            except OSError as error:
                if not moved and error.errno in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
                    return left
                raise
            if n == 0:
                raise _short(header, left)
            moved = True
            left -= n
            while n > 0:
                n -= os.splice(read_end, fd, n)
        return 0
    finally:
        os.close(read_end)
        os.close(write_end)


def _receive(source: int, fd: int, left: int, header: dict[str, Any]) -> None:
    sock = socket.socket(fileno=os.dup(source))
    try:
        copy_in_chunks(sock.recv_into, fd, left, lambda short: _short(header, short))
    finally:
        sock.close()


def copy_in_chunks(read_into: Callable[[memoryview], int], fd: int, left: int,
                   short: Callable[[int], Exception]) -> None:
    """Copies ``left`` bytes from ``read_into`` (a socket's ``recv_into``, a response's
    ``readinto``) to ``fd`` through one cache-sized buffer; ``short(missing)`` is raised when the
    reader ends early."""
    buffer = memoryview(bytearray(min(COPY_BYTES, max(left, 1))))
    while left > 0:
        n = read_into(buffer[:min(left, len(buffer))])
        if not n:
            raise short(left)
        _write_all(fd, buffer[:n])
        left -= n


def _write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _short(header: dict[str, Any], left: int) -> ConnectionError:
    return ConnectionError(f"the stream of object {header.get('id')} ended {left} bytes short")

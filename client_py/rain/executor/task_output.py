"""A call's output to the files the governor named (``call["output"]``, issue 17).

File descriptors 1 and 2 themselves are pointed at the files for the call, so that what the
task prints through ``print``, ``sys.stderr``, C extensions or programs it starts all lands
there; the executor's own descriptors come back afterwards. The governor reads the files once
the call is answered, keeps their head and tail as the task's output and empties them.

The files are opened once (appending: the governor truncates them between calls) and kept
open, so that a call costs a few dup2 calls and no open.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Generator, Mapping
from typing import Any

# Open descriptors of the output files, by path (the governor names the same two every call).
_open: dict[str, int] = {}


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):
            pass


def _target(path: str) -> int:
    fd = _open.get(path)
    if fd is None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND | os.O_CLOEXEC,
                     0o600)
        _open[path] = fd
    return fd


@contextlib.contextmanager
def redirected_output(files: Mapping[str, Any] | None) -> Generator[None, None, None]:
    """Points fd 1 and 2 at ``files["stdout"]`` and ``files["stderr"]`` while the block runs;
    without ``files`` (an older governor) nothing changes."""
    if not files:
        yield
        return
    _flush()
    saved = [os.dup(1), os.dup(2)]
    try:
        os.dup2(_target(files["stdout"]), 1)
        os.dup2(_target(files["stderr"]), 2)
        yield
    finally:
        _flush()
        for fd, original in zip((1, 2), saved):
            os.dup2(original, fd)
            os.close(original)

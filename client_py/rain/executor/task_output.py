"""A call's output to the files the governor named (``call["output"]``, issue 17).

File descriptors 1 and 2 themselves are pointed at the files for the call, so that what the
task prints through ``print``, ``sys.stderr``, C extensions or programs it starts all lands
there; the executor's own descriptors come back afterwards. The governor reads the files once
the call is answered and keeps their head and tail as the task's output.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Generator, Mapping
from typing import Any


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):
            pass


@contextlib.contextmanager
def redirected_output(files: Mapping[str, Any] | None) -> Generator[None, None, None]:
    """Points fd 1 and 2 at ``files["stdout"]`` and ``files["stderr"]`` (truncated) while the
    block runs; without ``files`` (an older governor) nothing changes."""
    if not files:
        yield
        return
    _flush()
    saved = [os.dup(1), os.dup(2)]
    opened: list[int] = []
    try:
        for fd, path in ((1, files["stdout"]), (2, files["stderr"])):
            target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            opened.append(target)
            os.dup2(target, fd)
        yield
    finally:
        _flush()
        for fd, original in zip((1, 2), saved):
            os.dup2(original, fd)
            os.close(original)
        for target in opened:
            os.close(target)

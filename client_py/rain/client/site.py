"""Where in the user's code a task was created, for error messages."""

from __future__ import annotations

import functools
import linecache
import os
import sys

# Where a task was created: (file name, line, function).
Site = tuple[str, int, str]

_RAIN_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


@functools.lru_cache(maxsize=256)
def _inside_rain(filename: str) -> bool:
    return os.path.abspath(filename).startswith(_RAIN_DIR)


def capture_site() -> Site | None:
    """``(filename, line, function)`` of the innermost frame outside the rain package.

    Cheap (no traceback objects): it runs once per created task.
    """
    frame = sys._getframe(1)  # pyright: ignore[reportPrivateUsage]
    while frame is not None and _inside_rain(frame.f_code.co_filename):
        frame = frame.f_back
    if frame is None:
        return None
    return frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name


def format_site(site: Site | None) -> str:
    """A traceback-style description of a captured site."""
    if site is None:
        return "  (unknown place)"
    filename, line, function = site
    text = f'  File "{filename}", line {line}, in {function}'
    source = linecache.getline(filename, line).strip()
    if source:
        text += "\n    " + source
    return text

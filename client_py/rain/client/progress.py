"""Progress bars for ``Session.wait_all()`` / ``Session.wait()`` (finished / total, rate, ETA).

Off by default: enabled per call (``wait_all(progress=True)``) or for every wait by the
environment variable ``RAIN_PROGRESS=1`` (``progress=False`` still turns it off). A bar is drawn
only where it cannot garble anything: on stderr when it is a terminal (one line redrawn with
``\\r``), or in a Jupyter notebook (one output updated in place). Otherwise nothing is written.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from collections.abc import Callable
from typing import Any, Protocol, TextIO

PROGRESS_ENV = "RAIN_PROGRESS"
# Seconds between two looks at the server's counts while a bar is shown.
POLL_SECONDS = 0.5
# Least seconds between two redraws (the last one is always drawn).
REDRAW_SECONDS = 0.1
BAR_WIDTH = 30


def progress_wanted(progress: bool | None) -> bool:
    """``progress`` argument (True / False / None) and RAIN_PROGRESS -> bool."""
    if progress is not None:
        return bool(progress)
    return os.environ.get(PROGRESS_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def in_jupyter() -> bool:
    """True inside a Jupyter (IPython kernel) session."""
    ipython: Any = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except Exception:
        return False
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def _duration(seconds: float) -> str:
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, whole = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{whole:02d}"
    return f"{minutes}:{whole:02d}"


def format_progress(label: str, finished: int, total: int, elapsed: float,
                    unit: str = "tasks") -> str:
    """One line: ``label [#####.....] finished/total pct rate ETA`` (pure, for tests)."""
    fraction = finished / total if total else 1.0
    fraction = min(max(fraction, 0.0), 1.0)
    filled = int(round(fraction * BAR_WIDTH))
    bar = "#" * filled + "." * (BAR_WIDTH - filled)
    parts = [f"{label} [{bar}] {finished:,}/{total:,} {fraction * 100:5.1f}%"]
    if elapsed > 0 and finished > 0:
        rate = finished / elapsed
        parts.append(f"{rate:,.0f} {unit}/s" if rate >= 10 else f"{rate:.2f} {unit}/s")
        if finished < total:
            parts.append("ETA " + _duration((total - finished) / rate))
    if finished >= total:
        parts.append("done in " + _duration(elapsed))
    return "  ".join(parts)


class _Output(Protocol):
    """Where a bar is drawn."""

    def show(self, line: str) -> None: ...

    def close(self) -> None: ...


class _TerminalOutput:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.width = 0

    def show(self, line: str) -> None:
        pad = " " * max(0, self.width - len(line))
        self.width = len(line)
        self.stream.write("\r" + line + pad)
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


class _JupyterOutput:
    def __init__(self, display: Callable[..., Any]) -> None:
        self.display = display
        self.handle: Any = None

    def show(self, line: str) -> None:
        if self.handle is None:
            self.handle = self.display({"text/plain": line}, raw=True, display_id=True)
        else:
            self.handle.update({"text/plain": line}, raw=True)

    def close(self) -> None:
        pass


class ProgressBar:
    """Draws ``finished / total`` as it changes; ``output`` None means draw nothing.

    Built by ``ProgressBar.create(label)``, which picks the output: Jupyter, else stderr if it is
    a terminal, else none. ``stream``, ``jupyter`` and ``clock`` can be given (tests).
    """

    def __init__(self, label: str, output: _Output | None,
                 clock: Callable[[], float] = time.monotonic, unit: str = "tasks") -> None:
        self.label = label
        self.output = output
        self.clock = clock
        self.unit = unit
        self.started = clock()
        self.last_draw: float | None = None
        self.last: tuple[int, int] | None = None
        self.closed = False

    @classmethod
    def create(cls, label: str, stream: TextIO | None = None, jupyter: bool | None = None,
               clock: Callable[[], float] = time.monotonic, unit: str = "tasks") -> ProgressBar:
        if jupyter is None:
            jupyter = in_jupyter()
        if jupyter:
            try:
                # Optional, and only inside Jupyter: imported when a bar is drawn there.
                display = importlib.import_module("IPython.display").display
                return cls(label, _JupyterOutput(display), clock, unit)
            except Exception:
                pass
        stream = sys.stderr if stream is None else stream
        try:
            tty = stream is not None and stream.isatty()
        except Exception:
            tty = False
        return cls(label, _TerminalOutput(stream) if tty and stream is not None else None, clock,
                   unit)

    @property
    def active(self) -> bool:
        return self.output is not None

    def update(self, finished: int, total: int, final: bool = False) -> None:
        if self.output is None or self.closed:
            return
        now = self.clock()
        state = (finished, total)
        if not final:
            if state == self.last:
                return
            if self.last_draw is not None and now - self.last_draw < REDRAW_SECONDS:
                return
        self.last = state
        self.last_draw = now
        self.output.show(format_progress(self.label, finished, total, now - self.started,
                                         self.unit))

    def close(self) -> None:
        if self.output is None or self.closed:
            return
        self.closed = True
        self.output.close()

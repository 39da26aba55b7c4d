"""Progress bars for ``Session.wait_all()`` / ``Session.wait()`` (finished / total, rate, ETA).

Off by default: enabled per call (``wait_all(progress=True)``) or for every wait by the
environment variable ``RAIN_PROGRESS=1`` (``progress=False`` still turns it off). A bar is drawn
only where it cannot garble anything: on stderr when it is a terminal (one line redrawn with
``\\r``), or in a Jupyter notebook (one output updated in place). Otherwise nothing is written.
"""

import os
import sys
import time

PROGRESS_ENV = "RAIN_PROGRESS"
# Seconds between two looks at the server's counts while a bar is shown.
POLL_SECONDS = 0.5
# Least seconds between two redraws (the last one is always drawn).
REDRAW_SECONDS = 0.1
BAR_WIDTH = 30


def progress_wanted(progress):
    """``progress`` argument (True / False / None) and RAIN_PROGRESS -> bool."""
    if progress is not None:
        return bool(progress)
    return os.environ.get(PROGRESS_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def in_jupyter():
    """True inside a Jupyter (IPython kernel) session."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except Exception:
        return False
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def _duration(seconds):
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return "{}:{:02d}:{:02d}".format(hours, minutes, seconds)
    return "{}:{:02d}".format(minutes, seconds)


def format_progress(label, finished, total, elapsed, unit="tasks"):
    """One line: ``label [#####.....] finished/total pct rate ETA`` (pure, for tests)."""
    fraction = finished / total if total else 1.0
    fraction = min(max(fraction, 0.0), 1.0)
    filled = int(round(fraction * BAR_WIDTH))
    bar = "#" * filled + "." * (BAR_WIDTH - filled)
    parts = ["{} [{}] {:,}/{:,} {:5.1f}%".format(label, bar, finished, total, fraction * 100)]
    if elapsed > 0 and finished > 0:
        rate = finished / elapsed
        parts.append("{:,.0f} {}/s".format(rate, unit) if rate >= 10
                     else "{:.2f} {}/s".format(rate, unit))
        if finished < total:
            parts.append("ETA " + _duration((total - finished) / rate))
    if finished >= total:
        parts.append("done in " + _duration(elapsed))
    return "  ".join(parts)


class _TerminalOutput:
    def __init__(self, stream):
        self.stream = stream
        self.width = 0

    def show(self, line):
        pad = " " * max(0, self.width - len(line))
        self.width = len(line)
        self.stream.write("\r" + line + pad)
        self.stream.flush()

    def close(self):
        self.stream.write("\n")
        self.stream.flush()


class _JupyterOutput:
    def __init__(self, display):
        self.display = display
        self.handle = None

    def show(self, line):
        if self.handle is None:
            self.handle = self.display({"text/plain": line}, raw=True, display_id=True)
        else:
            self.handle.update({"text/plain": line}, raw=True)

    def close(self):
        pass


class ProgressBar:
    """Draws ``finished / total`` as it changes; ``output`` None means draw nothing.

    Built by ``ProgressBar.create(label)``, which picks the output: Jupyter, else stderr if it is
    a terminal, else none. ``stream``, ``jupyter`` and ``clock`` can be given (tests).
    """

    def __init__(self, label, output, clock=time.monotonic, unit="tasks"):
        self.label = label
        self.output = output
        self.clock = clock
        self.unit = unit
        self.started = clock()
        self.last_draw = None
        self.last = None
        self.closed = False

    @classmethod
    def create(cls, label, stream=None, jupyter=None, clock=time.monotonic, unit="tasks"):
        if jupyter is None:
            jupyter = in_jupyter()
        if jupyter:
            try:
                from IPython.display import display
                return cls(label, _JupyterOutput(display), clock, unit)
            except Exception:
                pass
        stream = sys.stderr if stream is None else stream
        try:
            tty = stream.isatty()
        except Exception:
            tty = False
        return cls(label, _TerminalOutput(stream) if tty else None, clock, unit)

    @property
    def active(self):
        return self.output is not None

    def update(self, finished, total, final=False):
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

    def close(self):
        if self.output is None or self.closed:
            return
        self.closed = True
        self.output.close()

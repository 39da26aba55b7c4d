"""The Python executor's fork server: one warm process per governor that forks a fresh executor
for each session, so that isolating sessions costs a fork (~ms), not an interpreter start.

A governor starts ``python3 -m rain.executor`` with ``RAIN_EXECUTOR_FORK_SERVER=1`` (see
governor/executors/fork_server.ts). This process imports the executor, its Python-task support
and cloudpickle (if present), then serves frames (the executor framing of ``framing.py``) on its
stdin/stdout:

- governor -> server: ``{"type": "fork", "key": K, "cwd": DIR, "env": {NAME: VALUE}}``;
- server -> governor: ``{"type": "forked", "key": K, "pid": P}`` or
  ``{"type": "fork_failed", "key": K, "error": TEXT}``; ``{"type": "output", "key": K,
  "stream": 1|2}`` with the bytes as part 0; ``{"type": "exited", "key": K, "code": C,
  "signal": NAME|null}`` once the child is reaped (after its last output).

A child starts its own session (``setsid``: its process group is the executor's), gets
``/dev/null`` as stdin and pipes read here as stdout/stderr, closes every other descriptor,
moves to ``cwd``, adds ``env`` to its environment and runs the ``py`` executor. It never sees
what another child changed (environment, rlimits, modules): each is a copy of this process,
which runs no task code itself. The server exits, killing its children, when its stdin closes
(the governor is gone).
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import struct
import sys
import traceback
from typing import Any

FORK_SERVER_ENV = "RAIN_EXECUTOR_FORK_SERVER"

_U32 = struct.Struct(">I")
_U32x2 = struct.Struct(">II")
_dumps = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode


def _preload() -> None:
    """What every executor needs, imported once here instead of once per executor."""
    from . import executor, pytask  # noqa: F401 - imported for the children

    try:
        import cloudpickle  # noqa: F401
    except ImportError:
        pass


class _Child:
    def __init__(self, key: str, pid: int, out: int, err: int) -> None:
        self.key = key
        self.pid = pid
        self.pipes = {out: 1, err: 2}
        self.status: int | None = None


class ForkServer:
    def __init__(self, frames_in: int, frames_out: int) -> None:
        self.frames_in = frames_in
        self.frames_out = frames_out
        self.buffer = bytearray()
        self.children: dict[int, _Child] = {}
        self.selector = selectors.DefaultSelector()
        self.wakeup_r, self.wakeup_w = os.pipe()
        os.set_blocking(self.wakeup_w, False)
        os.set_blocking(self.wakeup_r, False)

    def send(self, message: dict[str, Any], part: bytes = b"") -> None:
        if part:
            message["parts"] = [len(part)]
        header = _dumps(message).encode()
        data = _U32x2.pack(4 + len(header) + len(part), len(header)) + header + part
        view = memoryview(data)
        while view:
            view = view[os.write(self.frames_out, view):]

    def serve(self) -> None:
        signal.set_wakeup_fd(self.wakeup_w)
        # A handler (not SIG_DFL) so that SIGCHLD writes to the wakeup pipe.
        signal.signal(signal.SIGCHLD, lambda _signum, _frame: None)
        self.selector.register(self.frames_in, selectors.EVENT_READ, "frames")
        self.selector.register(self.wakeup_r, selectors.EVENT_READ, "wakeup")
        try:
            while True:
                for key, _ in self.selector.select():
                    what = key.data
                    if what == "frames":
                        if not self._read_frames():
                            return
                    elif what == "wakeup":
                        try:
                            os.read(self.wakeup_r, 4096)
                        except BlockingIOError:
                            pass
                    else:
                        self._read_output(key.fd, what)
                self._reap()
        finally:
            for child in self.children.values():
                try:
                    os.killpg(child.pid, signal.SIGKILL)
                except OSError:
                    pass

    def _read_frames(self) -> bool:
        chunk = os.read(self.frames_in, 65536)
        if not chunk:
            return False
        buf = self.buffer
        buf += chunk
        while len(buf) >= 4:
            n = _U32.unpack_from(buf, 0)[0]
            if len(buf) < 4 + n:
                break
            h = _U32.unpack_from(buf, 4)[0]
            message = json.loads(bytes(buf[8:8 + h]))
            del buf[:4 + n]
            if message.get("type") == "fork":
                self._fork(message)
        return True

    def _fork(self, message: dict[str, Any]) -> None:
        key = str(message["key"])
        try:
            out_r, out_w = os.pipe()
            err_r, err_w = os.pipe()
        except OSError as e:
            self.send({"type": "fork_failed", "key": key, "error": str(e)})
            return
        try:
            pid = os.fork()
        except OSError as e:
            for fd in (out_r, out_w, err_r, err_w):
                os.close(fd)
            self.send({"type": "fork_failed", "key": key, "error": str(e)})
            return
        if pid == 0:
            _become_executor(message, out_w, err_w)
        os.close(out_w)
        os.close(err_w)
        child = _Child(key, pid, out_r, err_r)
        self.children[pid] = child
        for fd in (out_r, err_r):
            self.selector.register(fd, selectors.EVENT_READ, child)
        self.send({"type": "forked", "key": key, "pid": pid})

    def _read_output(self, fd: int, child: _Child) -> None:
        try:
            data = os.read(fd, 65536)
        except OSError:
            data = b""
        if data:
            self.send({"type": "output", "key": child.key, "stream": child.pipes[fd]}, data)
            return
        self.selector.unregister(fd)
        os.close(fd)
        del child.pipes[fd]
        self._report_if_done(child)

    def _reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            child = self.children.get(pid)
            if child is not None:
                child.status = status
                self._report_if_done(child)

    def _report_if_done(self, child: _Child) -> None:
        """``exited`` once the child is reaped and its output read to the end (a descendant
        that keeps the pipes open cannot delay it for long: the process group is killed)."""
        if child.status is None:
            return
        if child.pipes:
            try:
                os.killpg(child.pid, signal.SIGKILL)
            except OSError:
                pass
            for fd in list(child.pipes):
                self._drain(fd, child)
        del self.children[child.pid]
        status = child.status
        sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
        self.send({"type": "exited", "key": child.key,
                   "code": os.waitstatus_to_exitcode(status) if sig is None else 128 + sig,
                   "signal": signal.Signals(sig).name if sig is not None else None})

    def _drain(self, fd: int, child: _Child) -> None:
        """Reads what is left in a dead child's pipe without blocking, then closes it."""
        os.set_blocking(fd, False)
        try:
            while data := os.read(fd, 65536):
                self.send({"type": "output", "key": child.key, "stream": child.pipes[fd]}, data)
        except OSError:
            pass
        self.selector.unregister(fd)
        os.close(fd)
        del child.pipes[fd]


def _become_executor(message: dict[str, Any], out_w: int, err_w: int) -> None:
    """In the forked child: becomes a fresh ``py`` executor; never returns."""
    code = 1
    try:
        os.setsid()
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out_w, 1)
        os.dup2(err_w, 2)
        os.closerange(3, os.sysconf("SC_OPEN_MAX") if hasattr(os, "sysconf") else 65536)
        os.chdir(message["cwd"])
        os.environ.pop(FORK_SERVER_ENV, None)
        os.environ.update({str(k): str(v) for k, v in message["env"].items()})
        from . import main

        main()
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    except BaseException:  # noqa: B902 - report anything, then exit
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def serve_forks() -> None:
    """Runs the fork server on stdin/stdout until stdin closes."""
    _preload()
    frames_out = os.dup(1)
    # Stray prints must not corrupt the frames.
    os.dup2(2, 1)
    ForkServer(0, frames_out).serve()

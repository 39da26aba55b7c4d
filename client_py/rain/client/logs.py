"""What a task printed (issue 17): ``task.logs()`` and the live echo of ``new_session(echo=True)``.

The governor captures a task's standard output and error that are not mapped to an output (a
program's; everything a Python or other executor task prints), keeps the head and the tail of
each (a line says how much was dropped between) and the server records them in its event log;
both answers below come from there, so they work after the session closed too.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from ..common.errors import RainException

if TYPE_CHECKING:
    from .session import Session
    from .task import Task

#: Seconds between two asks for new output while echoing.
ECHO_INTERVAL = 0.5


@dataclass(frozen=True)
class TaskLogs:
    """A task's output: ``stdout`` and ``stderr`` ("" when it printed nothing), of its latest
    ``attempt`` that printed anything (None: none did), and its ``state`` in the event log
    (output is known once an attempt has ended: "" while it runs)."""

    stdout: str
    stderr: str
    attempt: int | None = None
    state: str = "finished"

    def __str__(self) -> str:
        return self.stdout + self.stderr


def task_logs(task: Task) -> TaskLogs:
    session = task.session
    if session.client is None:
        raise RainException(f"{session} is offline (it has no client)")
    if task.state is None:
        raise RainException(f"task {task.id} has not been submitted")
    answer = session.client._api.task_output(session.session_id, task.id.id)  # pyright: ignore[reportPrivateUsage]
    return TaskLogs(stdout=answer.get("stdout", ""), stderr=answer.get("stderr", ""),
                    attempt=answer.get("attempt"), state=answer.get("state", "finished"))


def _label(session: Session, task_id: int) -> str:
    task = session._submitted_tasks.get(task_id)  # pyright: ignore[reportPrivateUsage]
    name = task.name if task is not None else None
    return f"task {session.session_id}/{task_id}" + (f" {name}" if name else "")


class OutputEcho:
    """Prints each task's output in the client as it is recorded, every line prefixed by the
    task (``(task 1/12 name) line``): stdout to ``sys.stdout``, stderr to ``sys.stderr``. A
    background thread asks the server every ECHO_INTERVAL s; ``stop()`` prints what is left."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._after = 0
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name=f"rain-echo-{session.session_id}",
                                        daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stopping.wait(ECHO_INTERVAL):
            try:
                self.poll()
            except RainException:
                pass  # the server is gone or busy: the next poll (or stop()) tries again

    def poll(self) -> None:
        """Prints the outputs recorded since the last poll."""
        client = self._session.client
        if client is None:
            return
        with self._lock:
            while True:
                page: dict[str, Any] = client._api.session_output(  # pyright: ignore[reportPrivateUsage]
                    self._session.session_id, self._after)
                for row in page.get("outputs", []):
                    label = _label(self._session, row["task"])
                    _print_prefixed(sys.stdout, label, row.get("stdout", ""))
                    _print_prefixed(sys.stderr, label, row.get("stderr", ""))
                nxt = int(page.get("next", self._after))
                if nxt == self._after or not page.get("outputs"):
                    return
                self._after = nxt

    def stop(self) -> None:
        """Stops the thread after printing what was recorded so far."""
        self._stopping.set()
        self._thread.join()
        try:
            self.poll()
        except RainException:
            pass


def _print_prefixed(stream: TextIO, label: str, text: str) -> None:
    if not text:
        return
    lines = text[:-1].split("\n") if text.endswith("\n") else text.split("\n")
    stream.write("".join(f"({label}) {line}\n" for line in lines))
    stream.flush()

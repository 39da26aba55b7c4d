"""The server's client API, one method per endpoint (see docs/protocol.md)."""

from __future__ import annotations

import http.client
import os
import shutil
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from ...common.dir_archive import unpack_directory_stream
from ...common.errors import RainException
from ...common.ids import ID
from .body_to_file import copy_body_to_file, copy_in_chunks, direct_body_length
from .framing import OBJECT_CONTENT_TYPE, SUBMIT_CONTENT_TYPE, frame_submit, read_header
from .lifeline import Lifeline
from .transport import DEFAULT_SERVER_LOST_TIMEOUT, DeferredInterrupt, ServerUnreachable, Transport

# Seconds a wait request blocks on the server before it answers {"done": false}.
WAIT_POLL_SECONDS = 20


def _interrupts_held_for_last_byte(chunks: Iterable[bytes],
                                   deferral: DeferredInterrupt) -> Iterator[bytes | memoryview]:
    """The body ``chunks``, with Ctrl-C held back from just before the last byte on.

    The server applies a submit once its whole body has arrived. Interrupted before that, the
    server drops the truncated body and nothing was submitted; after it, the client waits for
    the answer so that it knows the submit happened (KeyboardInterrupt comes right after)."""
    previous: bytes | None = None
    for chunk in chunks:
        if previous is not None:
            yield previous
        previous = chunk
    if previous:
        view = memoryview(previous)
        yield view[:-1]
        deferral.start()
        yield view[-1:]


def _remove_path(path: str) -> None:
    """Removes what a broken fetch wrote at ``path`` (a file or an unpacked directory)."""
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        os.remove(path)


def _ids(value: Iterable[Sequence[int]]) -> list[ID]:
    return [ID(sid, i) for sid, i in value]


#: Bytes read per call when streaming an object (large reads: few Python-level calls).
FETCH_CHUNK_BYTES = 4 * 1024 * 1024


def _read_into(response: http.client.HTTPResponse, target: memoryview,
               header: dict[str, Any]) -> None:
    """Fills ``target`` from ``response``, in chunks of at most FETCH_CHUNK_BYTES."""
    done = 0
    while done < len(target):
        n = response.readinto(target[done:done + FETCH_CHUNK_BYTES])
        if not n:
            raise _truncated(header)
        done += n


def _truncated(header: dict[str, Any]) -> ServerUnreachable:
    """The stream of an object ended early: the connection broke (the server or the governor
    sending it went away); the fetch is tried again."""
    return ServerUnreachable(f"connection to Rain server lost while fetching object "
                             f"{header.get('id')} ({header['size']} bytes announced)")


def _size_error(header: dict[str, Any], how: str) -> RainException:
    return RainException(f"fetched object {header.get('id')} announced {header['size']} bytes "
                         f"but sent {how}")


class ServerApi:
    def __init__(self, host: str, port: int | str, secret: str | None = None,
                 server_lost_timeout: float = DEFAULT_SERVER_LOST_TIMEOUT) -> None:
        self.transport = Transport(host, port, secret, server_lost_timeout)
        self.lifeline = Lifeline(self.transport)

    @property
    def client_id(self) -> int:
        return self.lifeline.client_id

    def close(self) -> None:
        self.lifeline.close()
        self.transport.close()

    def new_session(self, spec: dict[str, Any]) -> int:
        answer = self.transport.call("POST", "/sessions",
                                     {"client_id": self.client_id, "spec": spec})
        return answer["session_id"]

    def close_session(self, session_id: int) -> None:
        # Not retried: a client closing while its server is gone does not wait for it.
        self.transport.call("POST", f"/sessions/{session_id}/close", retry=False)

    def submit(self, session_id: int, tasks: list[dict[str, Any]],
               objects: list[dict[str, Any]], constants: Sequence[bytes]) -> None:
        """``tasks``/``objects``: JSON-ready ``SubmitHeader`` lists; ``constants``: data of the
        objects having ``data_size``, in order. (Session.submit sends ``submit_encoded``
        instead, in the compact encoding.)"""
        self.submit_encoded(
            session_id, SUBMIT_CONTENT_TYPE,
            lambda: frame_submit({"tasks": tasks, "objects": objects}, constants))

    def submit_body(self, session_id: int, content_type: str, length: int,
                    chunks: Iterable[bytes]) -> None:
        """Sends an encoded submit body (rpc/framing.py or rpc/compact.py), given as chunks."""
        parts = list(chunks)  # references, not copies: the same bytes for each attempt
        self.submit_encoded(session_id, content_type, lambda: (length, iter(parts)))

    def submit_encoded(self, session_id: int, content_type: str,
                       encode: Callable[[], tuple[int, Iterable[bytes]]]) -> None:
        """Sends the submit body ``encode()`` gives (its length and its chunks), encoded anew
        for each attempt while the server cannot be reached (it restarts): the same bytes,
        which the server recognises if an earlier attempt was applied and only its answer was
        lost.

        Ctrl-C during the upload: KeyboardInterrupt, nothing submitted. Ctrl-C once the body is
        sent: held back until the server answers, then KeyboardInterrupt with
        ``rain_submitted = True`` (the server has the graph)."""
        def attempt() -> None:
            length, chunks = encode()
            deferral = DeferredInterrupt()
            try:
                response = self.transport.stream(
                    "POST", f"/sessions/{session_id}/submit",
                    body=_interrupts_held_for_last_byte(chunks, deferral),
                    headers={"Content-Type": content_type, "Content-Length": str(length)})
                self.transport.read_body(response)
            except BaseException:
                deferral.cancel()
                raise
            try:
                deferral.finish()
            except KeyboardInterrupt as interrupt:
                # Ctrl-C came after the server had the whole submit: it was applied.
                setattr(interrupt, "rain_submitted", True)
                raise

        self.transport.retrying(attempt)

    def wait(self, session_id: int, task_ids: list[int], object_ids: list[int],
             mode: str = "all") -> tuple[list[int], list[int]]:
        """Blocks until done (re-asking after each poll); returns the finished
        ``(task_ids, object_ids)``."""
        request = {"tasks": task_ids, "objects": object_ids, "mode": mode,
                   "timeout": WAIT_POLL_SECONDS}
        path = f"/sessions/{session_id}/wait"
        while True:
            answer = self.transport.call("POST", path, request)
            if answer.get("done"):
                return answer.get("tasks", []), answer.get("objects", [])

    def wait_all(self, session_id: int) -> None:
        path = f"/sessions/{session_id}/wait_all"
        while not self.transport.call("POST", path, {"timeout": WAIT_POLL_SECONDS}).get("done"):
            pass

    def wait_once(self, session_id: int, task_ids: list[int], object_ids: list[int], mode: str,
                  timeout: float) -> tuple[bool, list[int], list[int]]:
        """One wait request of at most ``timeout`` s: ``(done, finished task ids, finished
        object ids)``."""
        answer = self.transport.call(
            "POST", f"/sessions/{session_id}/wait",
            {"tasks": task_ids, "objects": object_ids, "mode": mode, "timeout": timeout})
        return bool(answer.get("done")), answer.get("tasks", []), answer.get("objects", [])

    def wait_all_once(self, session_id: int, timeout: float) -> bool:
        """One wait_all request of at most ``timeout`` s: True when done."""
        return bool(self.transport.call("POST", f"/sessions/{session_id}/wait_all",
                                        {"timeout": timeout}).get("done"))

    def session_progress(self, session_id: int) -> tuple[int, int] | None:
        """``(finished, submitted)`` task counts of the session (GET /status), or None."""
        status = self.transport.call("GET", f"/status?session={session_id}")
        for s in status.get("sessions", []):
            if s.get("session_id") == session_id:
                return s.get("tasks_finished", 0), s.get("tasks_submitted", 0)
        return None

    def update(self, session_id: int, task_ids: list[int], object_ids: list[int]) -> Any:
        return self.transport.call("POST", f"/sessions/{session_id}/update",
                                   {"tasks": task_ids, "objects": object_ids})

    def unkeep(self, session_id: int, object_ids: list[int]) -> None:
        self.transport.call("POST", f"/sessions/{session_id}/unkeep", {"objects": object_ids})

    def fetch(self, session_id: int, object_id: int) -> tuple[dict[str, Any], bytearray]:
        """Returns ``(FetchHeader, data)``; the body is read as it streams in, into one
        buffer (no second copy: a large object costs its size once)."""
        return self.transport.retrying(lambda: self._fetch_once(session_id, object_id))

    def _fetch_once(self, session_id: int, object_id: int) -> tuple[dict[str, Any], bytearray]:
        response = self._fetch_response(session_id, object_id)
        try:
            header = read_header(response)
            if header.get("data_type", "blob") == "blob":
                data = bytearray(header["size"])
                _read_into(response, memoryview(data), header)
                if response.read(1):
                    raise _size_error(header, "more")
            else:
                data = bytearray(response.read())
        except (ServerUnreachable, ConnectionError, http.client.HTTPException) as error:
            self.transport.abandon_stream()
            if isinstance(error, ServerUnreachable):
                raise
            raise ServerUnreachable(f"connection to Rain server lost: {error}") from error
        except BaseException:
            self.transport.abandon_stream()
            raise
        return header, data

    def fetch_to(self, session_id: int, object_id: int, path: str) -> dict[str, Any]:
        """Streams an object to ``path`` in O(1) memory: a blob to a new file, a directory
        unpacked into a new directory. Returns the FetchHeader. A broken stream is fetched again
        (what was written is removed first)."""
        return self.transport.retrying(lambda: self._fetch_to_once(session_id, object_id, path))

    def _fetch_to_once(self, session_id: int, object_id: int, path: str) -> dict[str, Any]:
        response = self._fetch_response(session_id, object_id)
        created = False
        try:
            header = read_header(response)
            if header.get("data_type", "blob") == "blob":
                left = header["size"]
                direct = direct_body_length(response)
                if direct is not None and direct != left:
                    raise _size_error(header, f"{direct} bytes")
                with open(path, "xb", buffering=0) as f:
                    created = True
                    if direct is not None:
                        copy_body_to_file(response, f.fileno(), left, header)
                    else:  # chunked: through http.client
                        copy_in_chunks(response.readinto, f.fileno(), left,
                                       lambda _: _truncated(header))
                if response.read(1):
                    raise _size_error(header, "more")
            else:
                created = not os.path.lexists(path)
                unpack_directory_stream(response, path)  # type: ignore[arg-type]
                while response.read(FETCH_CHUNK_BYTES):  # tar padding after the end blocks
                    pass
        except (ServerUnreachable, ConnectionError, http.client.HTTPException) as error:
            self.transport.abandon_stream()
            if created:
                _remove_path(path)  # written in part: the next attempt writes it again
            if isinstance(error, ServerUnreachable):
                raise
            raise ServerUnreachable(f"connection to Rain server lost: {error}") from error
        except BaseException:
            self.transport.abandon_stream()
            raise
        return header

    def _fetch_response(self, session_id: int, object_id: int) -> http.client.HTTPResponse:
        return self.transport.stream(
            "GET", f"/sessions/{session_id}/objects/{object_id}/data",
            headers={"Accept": OBJECT_CONTENT_TYPE}, fresh=True)

    def cancel(self, session_id: int, task_ids: list[int]) -> list[int]:
        """Stops the tasks and their dependents; the ids stopped."""
        return self.transport.call("POST", f"/sessions/{session_id}/cancel",
                                   {"tasks": task_ids})["tasks"]

    def failed_tasks(self, session_id: int) -> list[dict[str, Any]]:
        """``[{id, error}]`` of the failed tasks of a "continue" session."""
        return self.transport.call("GET", f"/sessions/{session_id}/failed_tasks")["tasks"]

    def rerun_failed(self, session_id: int) -> list[int]:
        """Runs the failed tasks of a "continue" session and their dependents again."""
        return self.transport.call("POST", f"/sessions/{session_id}/rerun_failed")["tasks"]

    def task_output(self, session_id: int, task_id: int) -> dict[str, Any]:
        """What a task printed (from the event log): ``{stdout, stderr, attempt, state, ...}``."""
        return self.transport.call("GET", f"/sessions/{session_id}/tasks/{task_id}/output")

    def session_output(self, session_id: int, after: int) -> dict[str, Any]:
        """Tasks' output recorded after cursor ``after``: ``{outputs: [...], next}``."""
        return self.transport.call("GET", f"/sessions/{session_id}/output?after={after}")

    def server_info(self) -> dict[str, Any]:
        info = self.transport.call("GET", "/server_info")
        for governor in info.get("governors", []):
            for key in ("tasks", "objects", "objects_to_delete"):
                governor[key] = _ids(governor.get(key, []))
        return info

    def shutdown(self) -> None:
        self.transport.call("POST", "/shutdown", retry=False)


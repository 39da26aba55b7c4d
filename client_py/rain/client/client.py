"""Client: one connection to a Rain server."""

# The modules of rain.client share their objects' underscore attributes.
# pyright: reportPrivateUsage=false

from __future__ import annotations

from collections.abc import Iterable
from types import TracebackType
from typing import Any

from ..common.errors import RainException
from .data import DataObject
from .logs import OutputEcho
from .rpc.api import ServerApi
from .rpc.transport import DEFAULT_SERVER_LOST_TIMEOUT
from .session import Session
from .task import Task


class Client:
    """A connection to the server at ``host:port``.

    The server keeps the client's sessions while the client lives; ``close()`` (or the end of
    the process) closes them all. ``secret`` is the cluster secret, sent as a bearer token;
    default: env ``RAIN_SECRET``, else the secret a server of this user on this machine
    published for ``host:port`` (``~/.rain/secrets``, see docs/security.md), else none.

    ``server_lost_timeout``: seconds the client keeps trying to reach a server it lost; a
    restarted server restores the client's sessions, and a ``wait``, ``wait_all``, ``fetch`` or
    ``submit`` in progress simply continues (docs/guide/server-restart.md).
    """

    def __init__(self, host: str = "localhost", port: int | str = 7210,
                 secret: str | None = None,
                 server_lost_timeout: float = DEFAULT_SERVER_LOST_TIMEOUT) -> None:
        self._api = ServerApi(host, port, secret, server_lost_timeout)
        self.host = host
        self.port = int(port)
        self._sessions: list[Session] = []

    @property
    def client_id(self) -> int | None:
        return self._api.client_id

    def new_session(self, name: str = "Unnamed Session", default: bool = False,
                    wait_for_resources: bool = False, on_failure: str = "fail",
                    echo: bool = False) -> Session:
        """Opens a session on the server; ``default=True`` makes it the default session.

        ``wait_for_resources=True``: a task no connected governor can ever run (it asks for
        more cpus, memory, gpus or custom resources than any has) waits for such a governor
        instead of failing the submit.

        ``on_failure``: ``"fail"`` (Rain 0.4: the first failed task fails the session) or
        ``"continue"`` (a failed task fails only its dependents; docs/policies.md).

        ``echo=True``: what each task prints is printed here too, each line prefixed by the
        task (``rain.client.logs.OutputEcho``; docs/guide/task-output.md)."""
        if on_failure not in ("fail", "continue"):
            raise RainException(
                f'on_failure must be "fail" or "continue", not {on_failure!r}')
        spec: dict[str, Any] = {"name": name}
        if on_failure != "fail":
            spec["on_failure"] = on_failure
        if wait_for_resources:
            spec["wait_for_resources"] = True
        session_id = self._api.new_session(spec)
        session = Session(self, session_id, name=name)
        session.on_failure = on_failure
        if echo:
            session._echo = OutputEcho(session)  # pyright: ignore[reportPrivateUsage]
        self._sessions.append(session)
        if default:
            session.set_as_default()
        return session

    def get_server_info(self) -> dict[str, Any]:
        """``{"governors": [{"governor_id", "tasks", "objects", "objects_to_delete",
        "resources"}]}`` with ids as ``rain.common.ID``."""
        return self._api.server_info()

    def update(self, items: Iterable[Task | DataObject]) -> None:
        """Downloads the state and info of tasks/objects, which may be of several sessions."""
        by_session: dict[int, tuple[Session, list[Task | DataObject]]] = {}
        for item in items:
            session: Session | None = getattr(item, "session", None)
            if session is None:
                raise TypeError(f"cannot update {item!r}: only tasks and data objects")
            if session.client is not self:
                raise RainException(f"{item!r} belongs to another client")
            by_session.setdefault(id(session), (session, []))[1].append(item)
        for session, session_items in by_session.values():
            session.update(session_items)

    def close(self) -> None:
        """Disconnects; the server closes all sessions of this client."""
        for session in self._sessions:
            if session.active:
                try:
                    session.close()
                except RainException:
                    pass  # the server is going away anyway
        self._api.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc_value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Client {self.host}:{self.port} id={self.client_id}>"

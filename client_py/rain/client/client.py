"""Client: one connection to a Rain server."""

from ..common.errors import RainException
from .rpc.api import ServerApi
from .session import Session


class Client:
    """A connection to the server at ``host:port``.

    The server keeps the client's sessions while the client lives; ``close()`` (or the end of
    the process) closes them all. ``secret`` is the cluster secret, sent as a bearer token;
    default: env ``RAIN_SECRET``, else the secret a server of this user on this machine
    published for ``host:port`` (``~/.rain/secrets``, see docs/security.md), else none.
    """

    def __init__(self, host="localhost", port=7210, secret=None):
        self._api = ServerApi(host, port, secret)
        self.host = host
        self.port = int(port)
        self._sessions = []

    @property
    def client_id(self):
        return self._api.client_id

    def new_session(self, name="Unnamed Session", default=False):
        """Opens a session on the server; ``default=True`` makes it the default session."""
        session_id = self._api.new_session({"name": name})
        session = Session(self, session_id, name=name)
        self._sessions.append(session)
        if default:
            session.set_as_default()
        return session

    def get_server_info(self):
        """``{"governors": [{"governor_id", "tasks", "objects", "objects_to_delete",
        "resources"}]}`` with ids as ``rain.common.ID``."""
        return self._api.server_info()

    def update(self, items):
        """Downloads the state and info of tasks/objects, which may be of several sessions."""
        by_session = {}
        for item in items:
            session = getattr(item, "session", None)
            if session is None:
                raise TypeError("cannot update {!r}: only tasks and data objects".format(item))
            if session.client is not self:
                raise RainException("{!r} belongs to another client".format(item))
            by_session.setdefault(id(session), (session, []))[1].append(item)
        for session, session_items in by_session.values():
            session.update(session_items)

    def close(self):
        """Disconnects; the server closes all sessions of this client."""
        for session in self._sessions:
            if session.active:
                try:
                    session.close()
                except RainException:
                    pass  # the server is going away anyway
        self._api.close()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        self.close()

    def __repr__(self):
        return "<Client {}:{} id={}>".format(self.host, self.port, self.client_id)

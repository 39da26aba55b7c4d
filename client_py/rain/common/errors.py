"""Exceptions shared by the client and (later) the executor."""


class RainException(Exception):
    """Any error reported by Rain.

    Errors that come from the server carry its error kind (e.g. ``"InvalidGraph"``) in
    ``kind``; client-side errors leave it ``None``.
    """

    kind = None


class SessionException(RainException):
    """An error of a whole session (it was closed, or it failed)."""


class TaskException(SessionException):
    """A task failed, which failed its session."""


class RainWarning(Warning):
    """Raised (not merely warned) when Rain suspects a mistake, e.g. a huge pickled argument."""

"""Identifiers of tasks and data objects: ``ID(session_id, id)``, ``[sid, id]`` on the wire."""

from collections import namedtuple

ID = namedtuple("ID", ["session_id", "id"])
ID.__doc__ = "Id of a task or data object: the session id and the per-session number."

# Per session, tasks and objects share one counter that starts here.
FIRST_ID = 10


def id_from_wire(value):
    """``[sid, id]`` (a JSON array) -> ``ID``."""
    return ID(value[0], value[1])


def format_id(id):
    """The ``sid/id`` form used in the server's messages."""
    return "{}/{}".format(id[0], id[1])

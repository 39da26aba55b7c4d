"""Identifiers of tasks and data objects: ``ID(session_id, id)``, ``[sid, id]`` on the wire."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple


class ID(NamedTuple):
    """Id of a task or data object: the session id and the per-session number."""

    session_id: int
    id: int


# Per session, tasks and objects share one counter that starts here.
FIRST_ID = 10


def id_from_wire(value: Sequence[int]) -> ID:
    """``[sid, id]`` (a JSON array) -> ``ID``."""
    return ID(value[0], value[1])


def format_id(id: Sequence[int]) -> str:
    """The ``sid/id`` form used in the server's messages."""
    return f"{id[0]}/{id[1]}"

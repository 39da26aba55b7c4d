"""Identifiers of tasks and data objects: ``ID(session_id, id)``, ``[sid, id]`` on the wire."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, cast


class ID(NamedTuple):
    """Id of a task or data object: the session id and the per-session number."""

    session_id: int
    id: int


# ``new_id(ID, (session_id, number))`` is ``ID(session_id, number)`` without NamedTuple's
# Python-level __new__: every task and object of a graph gets one.
new_id = cast(Callable[[type[ID], tuple[int, int]], ID], cast(Any, tuple).__new__)

# Per session, tasks and objects share one counter that starts here.
FIRST_ID = 10


def id_from_wire(value: Sequence[int]) -> ID:
    """``[sid, id]`` (a JSON array) -> ``ID``."""
    return ID(value[0], value[1])


def format_id(id: Sequence[int]) -> str:
    """The ``sid/id`` form used in the server's messages."""
    return f"{id[0]}/{id[1]}"

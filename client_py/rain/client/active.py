"""The active session: the session new tasks and objects go to.

It is the top of the stack that ``with session:`` and ``session.bind_only()`` push, or else the
default session. A module of its own so that data.py and task.py, which session.py imports,
need nothing from session.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..common.errors import RainException

if TYPE_CHECKING:
    from .session import Session

_session_stack: list[Session] = []
_default_session: Session | None = None


def get_active_session() -> Session:
    """The session new tasks and objects go to; RainException if there is none."""
    if _session_stack:
        return _session_stack[-1]
    if _default_session is not None:
        return _default_session
    raise RainException("There is no active session: use 'with session:', "
                        "session.bind_only() or a default session")


def push_session(session: Session) -> None:
    _session_stack.append(session)


def pop_session(session: Session) -> None:
    """Removes the latest entry of ``session`` (the top one when blocks are properly nested)."""
    for index in range(len(_session_stack) - 1, -1, -1):
        if _session_stack[index] is session:
            del _session_stack[index]
            return


def set_default_session(session: Session | None) -> None:
    global _default_session
    _default_session = session


def default_session() -> Session | None:
    return _default_session

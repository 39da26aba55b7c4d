"""Task policies: retries, time limits, crash limits (docs/policies.md).

Every task kind takes them as keywords (``max_retries=``, ``retry_on=``, ``time_limit=``,
``crash_limit=``); they travel in ``spec.policy``.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any, Union

from ..common.attributes import JsonObject
from ..common.errors import RainException

# A ``retry_on`` entry: an exit code, an exception class (or its name), or "time_limit".
RetryOn = Union[int, str, type]

POLICY_KEYWORDS = ("max_retries", "retry_on", "time_limit", "crash_limit")


def _count(name: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise RainException(f"{name} must be a non-negative integer, not {value!r}")
    return value


def _retry_entry(entry: object) -> int | str:
    if isinstance(entry, type) and issubclass(entry, BaseException):
        return entry.__name__
    if isinstance(entry, str) and entry:
        return entry
    if isinstance(entry, int) and not isinstance(entry, bool):
        return entry
    raise RainException(
        f"retry_on takes exit codes, exception classes or their names, not {entry!r}")


def make_policy(max_retries: int | None = None,
                retry_on: RetryOn | Iterable[RetryOn] | None = None,
                time_limit: float | None = None,
                crash_limit: int | None = None) -> JsonObject | None:
    """The ``spec.policy`` dict (None when nothing is set); RainException naming a bad value."""
    policy: JsonObject = {}
    if max_retries is not None:
        policy["max_retries"] = _count("max_retries", max_retries)
    if crash_limit is not None:
        policy["crash_limit"] = _count("crash_limit", crash_limit)
    if time_limit is not None:
        # (bool first: pyright does not count bool among the Reals.)
        if isinstance(time_limit, bool) or not isinstance(time_limit, numbers.Real) or \
                not 0 < time_limit < float("inf"):
            raise RainException(
                f"time_limit must be a positive number of seconds, not {time_limit!r}")
        policy["time_limit"] = float(time_limit)
    if retry_on is not None:
        entries: Iterable[Any] = [retry_on] \
            if isinstance(retry_on, (int, str, type)) else retry_on
        policy["retry_on"] = [_retry_entry(e) for e in entries]
    return policy or None


def merge_policy(base: JsonObject | None, override: JsonObject | None) -> JsonObject | None:
    """``override``'s fields over ``base``'s (a per-call policy over a definition's)."""
    if not base:
        return override
    if not override:
        return base
    return {**base, **override}

"""Keeps a graph being built out of the cyclic GC's scans until it is submitted.

A graph is nothing but long-lived objects, and CPython runs a full collection each time those
grow by a quarter, scanning the whole graph again: two thirds of the cost of building a big graph
(docs/architecture.md, "Where the time goes"). So, every ``FREEZE_EVERY`` tasks or objects a
session creates, ``gc.freeze()`` moves everything the GC tracks to its permanent generation (a
constant-time move, nothing is copied); the session's ``submit()`` and ``close()`` put it back with
``gc.unfreeze()``, and collections go on as before. Only cyclic garbage made while a graph is being
built waits for that (reference counting frees everything else as usual).

Nothing is done while the GC is disabled, while someone else has frozen objects (``gc.freeze()``
before forking, say: their freeze is left alone), or with ``RAIN_GC_FREEZE=0``.
"""
from __future__ import annotations

import gc
import os

FREEZE_EVERY = 2000

# Sessions holding a freeze: the last one to thaw unfreezes.
_holders = 0


def freezing_enabled() -> bool:
    return os.environ.get("RAIN_GC_FREEZE", "1") != "0"


class GraphFreeze:
    """A session's part: ``tick()`` every ``FREEZE_EVERY`` creations, ``thaw()`` when done."""

    __slots__ = ("enabled", "holding")

    def __init__(self) -> None:
        self.enabled = freezing_enabled()
        self.holding = False

    def tick(self) -> None:
        global _holders
        if not self.enabled or not gc.isenabled():
            return
        if not self.holding:
            if _holders == 0 and gc.get_freeze_count() > 0:
                return  # frozen by someone else
            _holders += 1
            self.holding = True
        gc.freeze()

    def thaw(self) -> None:
        global _holders
        if not self.holding:
            return
        self.holding = False
        _holders -= 1
        if _holders == 0:
            gc.unfreeze()

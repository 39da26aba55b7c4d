"""Resource requests of tasks: cpus, memory, gpus and custom resources (docs/resources.md).

A task's ``spec.resources`` is ``{"cpus": N}`` plus, when asked for, ``"memory"`` (bytes),
``"gpus"`` (a whole number of devices, or a fraction < 1 of one device) and ``"custom"``
(``{name: amount}``). The server never oversubscribes a governor and gives GPU tasks specific
device ids.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .errors import RainException

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")
_UNITS = {
    "": 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9,
    "t": 10**12, "tb": 10**12, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40,
}
# GPU shares are exact to this many parts (as on the server).
GPU_UNITS = 10_000
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


def parse_size(size: int | str) -> int:
    """Bytes from an int or a string such as ``"4GiB"``, ``"512MB"``, ``"1.5g"``."""
    if isinstance(size, bool):
        raise RainException(f"memory must be bytes or a size such as '4GiB', not {size!r}")
    if isinstance(size, int):
        if size < 0:
            raise RainException(f"memory must not be negative, got {size}")
        return size
    if isinstance(size, str):
        m = _SIZE.match(size)
        unit = _UNITS.get(m.group(2).lower()) if m else None
        if m and unit is not None:
            return round(float(m.group(1)) * unit)
    raise RainException(f"memory must be bytes or a size such as '4GiB', not {size!r}")


def make_resources(cpus: int = 1, memory: int | str | None = None,
                   gpus: float | None = None,
                   resources: Mapping[str, float] | None = None) -> dict[str, Any]:
    """The ``spec.resources`` of a task, checked (RainException naming the bad value)."""
    if not isinstance(cpus, int) or isinstance(cpus, bool) or cpus < 1:
        raise RainException(f"cpus must be a positive integer, not {cpus!r}")
    out: dict[str, Any] = {"cpus": cpus}
    if memory is not None:
        nbytes = parse_size(memory)
        if nbytes > 0:
            out["memory"] = nbytes
    if gpus is not None and gpus != 0:
        ok = (isinstance(gpus, (int, float)) and not isinstance(gpus, bool) and gpus > 0
              and (float(gpus).is_integer()
                   or (gpus < 1 and abs(gpus * GPU_UNITS - round(gpus * GPU_UNITS)) < 1e-6)))
        if not ok:
            raise RainException(
                f"gpus must be a whole number of gpus or a fraction of one (e.g. 0.25), "
                f"not {gpus!r}")
        out["gpus"] = int(gpus) if float(gpus).is_integer() else round(gpus * GPU_UNITS) / GPU_UNITS
    if resources:
        custom: dict[str, float] = {}
        for name, amount in resources.items():
            if not isinstance(name, str) or not _NAME.match(name) or name in (
                    "cpus", "memory", "gpus"):
                raise RainException(
                    f"{name!r} is not a custom resource name (use cpus=, memory=, gpus= for "
                    "those)")
            if (not isinstance(amount, (int, float)) or isinstance(amount, bool)
                    or amount < 0):
                raise RainException(f"resource {name!r} needs a non-negative amount, "
                                    f"not {amount!r}")
            if amount > 0:
                custom[name] = amount
        if custom:
            out["custom"] = custom
    return out

"""Exceptions shared by the client and (later) the executor."""

from __future__ import annotations

import importlib
from types import ModuleType


class RainException(Exception):
    """Any error reported by Rain.

    Errors that come from the server carry its error kind (e.g. ``"InvalidGraph"``) in
    ``kind``; client-side errors leave it ``None``.
    """

    kind: str | None = None


class SessionException(RainException):
    """An error of a whole session (it was closed, or it failed)."""


class TaskException(SessionException):
    """A task failed, which failed its session."""


class RainWarning(Warning):
    """Raised (not merely warned) when Rain suspects a mistake, e.g. a huge pickled argument."""


# Optional packages: (pip name, Debian package or None) by module name.
_OPTIONAL_PACKAGES: dict[str, tuple[str, str | None]] = {
    "cloudpickle": ("cloudpickle", "python3-cloudpickle"),
    "cbor2": ("cbor2", "python3-cbor2"),
    "pyarrow": ("pyarrow", None),  # not packaged by Debian 12
}


def missing_package_error(module: str, feature: str) -> RainException:
    """The RainException for ``feature`` needing the optional package of ``module``."""
    pip_name, debian = _OPTIONAL_PACKAGES.get(module, (module, None))
    debian_hint = f" (Debian: apt-get install {debian})" if debian else ""
    return RainException(
        f"{feature} needs the Python package {module}: pip install {pip_name}{debian_hint}")


def import_optional(module: str, feature: str) -> ModuleType:
    """Imports the optional package ``module`` (e.g. "cloudpickle"); a RainException naming the
    package and how to install it if it is missing (the client itself needs only the standard
    library)."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise missing_package_error(module, feature) from None

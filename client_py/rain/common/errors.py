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


# Optional packages: (pip name, Debian package or None) by module name.
_OPTIONAL_PACKAGES = {
    "cloudpickle": ("cloudpickle", "python3-cloudpickle"),
    "cbor2": ("cbor2", "python3-cbor2"),
    "pyarrow": ("pyarrow", None),  # not packaged by Debian 12
}


def missing_package_error(module, feature):
    """The RainException for ``feature`` needing the optional package of ``module``."""
    pip_name, debian = _OPTIONAL_PACKAGES.get(module, (module, None))
    return RainException("{} needs the Python package {}: pip install {}{}".format(
        feature, module, pip_name,
        " (Debian: apt-get install {})".format(debian) if debian else ""))


def import_optional(module, feature):
    """Imports the optional package ``module`` (e.g. "cloudpickle"); a RainException naming the
    package and how to install it if it is missing (the client itself needs only the standard
    library)."""
    import importlib
    try:
        return importlib.import_module(module)
    except ImportError:
        raise missing_package_error(module, feature) from None

"""Rain: a distributed task-pipeline framework (Python client)."""

from ._version import __version__

__all__ = ["__version__"]

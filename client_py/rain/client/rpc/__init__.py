"""Talking to the server: HTTP + JSON, framed binary bodies for submit and fetch."""

from . import common
from .api import ServerApi

__all__ = ["common", "ServerApi"]

"""Keeps rain/_version.py equal to the repository's VERSION before setuptools builds.

All metadata lives in pyproject.toml; building from an sdist (no VERSION beside it) keeps the
_version.py it contains.
"""

import os

from setuptools import setup

HERE = os.path.dirname(os.path.abspath(__file__))
VERSION_FILE = os.path.join(HERE, "..", "VERSION")
VERSION_MODULE = os.path.join(HERE, "rain", "_version.py")


def sync_version():
    if not os.path.exists(VERSION_FILE):
        return
    with open(VERSION_FILE) as f:
        version = f.read().strip()
    text = ("# Generated from the repository's VERSION file by client_py/setup.py; "
            "do not edit by hand.\n__version__ = {!r}\n".format(version))
    with open(VERSION_MODULE) as f:
        if f.read() == text:
            return
    with open(VERSION_MODULE, "w") as f:
        f.write(text)


sync_version()
setup()

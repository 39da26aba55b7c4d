"""Data type of an object: a single blob or a directory."""

from __future__ import annotations

import enum


class DataType(str, enum.Enum):
    """``DataType.BLOB`` ("blob") or ``DataType.DIRECTORY`` ("dir").

    A ``str`` enum so that it serializes to JSON as its wire name.
    """

    BLOB = "blob"
    DIRECTORY = "dir"

    @classmethod
    def from_str(cls, name: str) -> DataType:
        for member in cls:
            if member.value == name:
                return member
        raise ValueError(f"unknown data type {name!r} (expected 'blob' or 'dir')")

    def to_str(self) -> str:
        return self.value

    def __str__(self) -> str:
        return self.value

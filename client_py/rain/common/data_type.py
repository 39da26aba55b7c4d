"""Data type of an object: a single blob or a directory."""

import enum


class DataType(str, enum.Enum):
    """``DataType.BLOB`` ("blob") or ``DataType.DIRECTORY`` ("dir").

    A ``str`` enum so that it serializes to JSON as its wire name.
    """

    BLOB = "blob"
    DIRECTORY = "dir"

    @classmethod
    def from_str(cls, name):
        for member in cls:
            if member.value == name:
                return member
        raise ValueError("unknown data type {!r} (expected 'blob' or 'dir')".format(name))

    def to_str(self):
        return self.value

    def __str__(self):
        return self.value

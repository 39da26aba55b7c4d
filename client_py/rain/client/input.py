"""Input: how a task sees one of its input objects (label, file path, loading)."""

from __future__ import annotations

from typing import ClassVar

from ..common.content_type import check_content_type
from ..common.data_type import DataType
from ..common.errors import RainException
from .data import DataLike, DataObject, to_dataobj


class InputBase:
    """An input of a task. ``path`` (default: the label) is where Execute maps the data;
    ``write=True`` gives the program a private writable copy; ``load``/``content_type`` are
    for Python tasks."""

    DATA_TYPE: ClassVar[DataType | None] = None

    def __init__(self, label: str | None = None, path: str | None = None,
                 dataobj: DataLike | None = None, load: bool | None = None,
                 content_type: str | None = None, write: bool = False) -> None:
        check_content_type(content_type)
        obj: DataObject | None = None
        if dataobj is not None:
            obj = to_dataobj(dataobj)
            if obj.data_type != self.DATA_TYPE:
                wanted = self.DATA_TYPE.value if self.DATA_TYPE is not None else None
                raise RainException(f"{type(self).__name__} needs a {wanted} object, but {obj} "
                                    f"is a {obj.data_type.value}")
        self.label = label
        self.path = path
        self.dataobj = obj
        self.load = load
        self.content_type = content_type
        self.write = write

    @property
    def effective_path(self) -> str | None:
        """The file name in the task's working directory (None: not chosen yet)."""
        return self.path if self.path is not None else self.label

    def with_dataobj(self, dataobj: DataLike) -> InputBase:
        """A copy of this (data-less) pattern bound to ``dataobj``."""
        return type(self)(self.label, path=self.path, dataobj=dataobj, load=self.load,
                          content_type=self.content_type, write=self.write)

    def __repr__(self) -> str:
        data = f" data={self.dataobj!r}" if self.dataobj is not None else ""
        return f"<{type(self).__name__} {self.label!r} path={self.path!r}{data}>"


class Input(InputBase):
    """An input blob."""

    DATA_TYPE = DataType.BLOB


class InputDir(InputBase):
    """An input directory."""

    DATA_TYPE = DataType.DIRECTORY

"""Output: the declaration of a task's output object (label, path, content type)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from ..common.content_type import check_content_type
from ..common.data_type import DataType
from ..common.errors import RainException
from .data import DataObject

if TYPE_CHECKING:
    from .session import Session


class OutputBase:
    """An output of a task. ``path`` (default: the label) is the file Execute moves out;
    ``encode`` is how a Python task serializes the returned value (it sets the content type);
    ``size_hint`` is an estimate of the size in bytes."""

    DATA_TYPE: ClassVar[DataType | None] = None

    def __init__(self, label: str | None = None, *, size_hint: int | None = None,
                 content_type: str | None = None, encode: str | None = None,
                 path: str | None = None) -> None:
        check_content_type(content_type)
        check_content_type(encode)
        if encode is not None:
            if content_type is not None and content_type != encode:
                raise RainException(
                    f"content_type {content_type!r} contradicts encode={encode!r}")
            content_type = encode
        if content_type and self.DATA_TYPE == DataType.DIRECTORY:
            raise RainException("a directory has no content type")
        self.label = label
        self.path = path
        self.size_hint = size_hint
        self.content_type = content_type
        self.encode = encode

    @property
    def effective_path(self) -> str | None:
        return self.path if self.path is not None else self.label

    def create_data_object(self, session: Session, label: str | None = None) -> DataObject:
        """The DataObject this declaration describes, in ``session``."""
        return DataObject(label if label is not None else self.label, session=session,
                          data_type=DataType(self.DATA_TYPE), content_type=self.content_type)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.label!r} path={self.path!r}>"


class Output(OutputBase):
    """An output blob."""

    DATA_TYPE = DataType.BLOB


class OutputDir(OutputBase):
    """An output directory."""

    DATA_TYPE = DataType.DIRECTORY

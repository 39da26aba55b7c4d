"""Output: the declaration of a task's output object (label, path, content type)."""

from ..common.content_type import check_content_type
from ..common.data_type import DataType
from ..common.errors import RainException


class OutputBase:
    """An output of a task. ``path`` (default: the label) is the file Execute moves out;
    ``encode`` is how a Python task serializes the returned value (it sets the content type);
    ``size_hint`` is an estimate of the size in bytes."""

    DATA_TYPE = None

    def __init__(self, label=None, *, size_hint=None, content_type=None, encode=None,
                 path=None):
        check_content_type(content_type)
        check_content_type(encode)
        if encode is not None:
            if content_type is not None and content_type != encode:
                raise RainException("content_type {!r} contradicts encode={!r}"
                                    .format(content_type, encode))
            content_type = encode
        if content_type and self.DATA_TYPE == DataType.DIRECTORY:
            raise RainException("a directory has no content type")
        self.label = label
        self.path = path
        self.size_hint = size_hint
        self.content_type = content_type
        self.encode = encode

    @property
    def effective_path(self):
        return self.path if self.path is not None else self.label

    def create_data_object(self, session, label=None):
        """The DataObject this declaration describes, in ``session``."""
        from .data import DataObject
        return DataObject(label if label is not None else self.label, session=session,
                          data_type=self.DATA_TYPE, content_type=self.content_type)

    def __repr__(self):
        return "<{} {!r} path={!r}>".format(type(self).__name__, self.label, self.path)


class Output(OutputBase):
    """An output blob."""

    DATA_TYPE = DataType.BLOB


class OutputDir(OutputBase):
    """An output directory."""

    DATA_TYPE = DataType.DIRECTORY

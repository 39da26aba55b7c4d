"""Input: how a task sees one of its input objects (label, file path, loading)."""

from ..common.content_type import check_content_type
from ..common.data_type import DataType
from ..common.errors import RainException


class InputBase:
    """An input of a task. ``path`` (default: the label) is where Execute maps the data;
    ``write=True`` gives the program a private writable copy; ``load``/``content_type`` are
    for Python tasks."""

    DATA_TYPE = None

    def __init__(self, label=None, path=None, dataobj=None, load=None, content_type=None,
                 write=False):
        check_content_type(content_type)
        if dataobj is not None:
            from .data import to_dataobj
            dataobj = to_dataobj(dataobj)
            if dataobj.data_type != self.DATA_TYPE:
                raise RainException("{} needs a {} object, but {} is a {}".format(
                    type(self).__name__, self.DATA_TYPE.value, dataobj,
                    dataobj.data_type.value))
        self.label = label
        self.path = path
        self.dataobj = dataobj
        self.load = load
        self.content_type = content_type
        self.write = write

    @property
    def effective_path(self):
        """The file name in the task's working directory (None: not chosen yet)."""
        return self.path if self.path is not None else self.label

    def with_dataobj(self, dataobj):
        """A copy of this (data-less) pattern bound to ``dataobj``."""
        return type(self)(self.label, path=self.path, dataobj=dataobj, load=self.load,
                          content_type=self.content_type, write=self.write)

    def __repr__(self):
        return "<{} {!r} path={!r}{}>".format(
            type(self).__name__, self.label, self.path,
            " data={!r}".format(self.dataobj) if self.dataobj is not None else "")


class Input(InputBase):
    """An input blob."""

    DATA_TYPE = DataType.BLOB


class InputDir(InputBase):
    """An input directory."""

    DATA_TYPE = DataType.DIRECTORY

"""Data objects of a session's graph, and the constants uploaded with a submit."""

from ..common.attributes import ObjectSpec
from ..common.content_type import check_content_type, encode_value
from ..common.data_type import DataType
from ..common.dir_archive import pack_directory
from ..common.errors import RainException
from ..common.ids import format_id
from .rpc.common import DataObjectState
from .session import get_active_session


class DataObject:
    """A blob or directory in a session's graph: a constant or the output of a task.

    ``state`` is None until submitted; ``info`` is None until ``update()`` or ``fetch()``.
    """

    def __init__(self, label=None, session=None, data_type=DataType.BLOB, content_type=None):
        if session is None:
            session = get_active_session()
        check_content_type(content_type)
        self.session = session
        self.id = session._register_object(self)
        self.spec = ObjectSpec(self.id, label, content_type or None, DataType(data_type))
        self.info = None
        self.state = None
        self.data = None  # bytes of a constant
        self._keep = False
        self._producer = None  # the task whose output this is

    @property
    def label(self):
        return self.spec.label

    # The attributes' names in Rain 0.4; scripts use them.
    @property
    def _session(self):
        return self.session

    @property
    def _data(self):
        return self.data

    @property
    def data_type(self):
        return self.spec.data_type

    @property
    def content_type(self):
        """The content type set at run time if known, else the declared one."""
        if self.info is not None and self.info.content_type:
            return self.info.content_type
        return self.spec.content_type

    def keep(self):
        """Asks the server to keep the object after use (so it can be fetched or reused)."""
        if self.state is not None:
            raise RainException("cannot keep {}: it was already submitted".format(self))
        self._keep = True

    def unkeep(self):
        self.session.unkeep((self,))

    def is_kept(self):
        return self._keep

    def wait(self):
        self.session.wait((self,))

    def fetch(self):
        """The object's data (a DataInstance); it must be kept."""
        return self.session.fetch(self)

    def update(self):
        self.session.update((self,))

    def _mark_finished(self):
        self.state = DataObjectState.finished

    def __repr__(self):
        return "<DataObject {} {}{}{}>".format(
            format_id(self.id), self.spec.data_type.value,
            " {!r}".format(self.spec.label) if self.spec.label is not None else "",
            " kept" if self._keep else "")


def to_dataobj(value):
    """A DataObject from a DataObject or a task with exactly one output."""
    if isinstance(value, DataObject):
        return value
    from .task import Task
    if isinstance(value, Task):
        return value.output
    raise TypeError("expected a DataObject or a Task with one output, got {!r}".format(value))


def blob(value, label="const", content_type=None, encode=None):
    """A constant blob: bytes as they are, a str as text, anything else with ``encode=``."""
    if encode is not None:
        if content_type is not None and content_type != encode:
            raise RainException("content_type {!r} contradicts encode={!r}"
                                .format(content_type, encode))
        content_type = encode
        data = encode_value(value, encode)
    elif isinstance(value, str):
        # A str is stored as UTF-8 text; its content type may say more (e.g. "json").
        content_type = content_type or "text"
        check_content_type(content_type)
        data = encode_value(value, content_type if content_type.startswith("text-") else "text")
    else:
        data = value
    if not isinstance(data, bytes):
        if isinstance(data, (bytearray, memoryview)):
            data = bytes(data)
        else:
            raise RainException("blob() needs bytes or str, not {} (use encode=...)"
                                .format(type(data).__name__))
    obj = DataObject(label, data_type=DataType.BLOB, content_type=content_type)
    obj.data = data
    return obj


def pickled(value, label="pickle"):
    """A constant holding ``pickle.dumps(value)``, content type "pickle"."""
    return blob(value, label, encode="pickle")


def directory(path, label="const_dir"):
    """A constant directory: the local directory ``path`` packed as a tar archive."""
    data = pack_directory(path)
    obj = DataObject(label, data_type=DataType.DIRECTORY)
    obj.data = data
    return obj

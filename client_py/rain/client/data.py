"""Data objects of a session's graph, and the constants uploaded with a submit."""

# The modules of rain.client share their objects' underscore attributes.
# pyright: reportPrivateUsage=false

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias, cast

from ..common.attributes import ObjectInfo, ObjectSpec
from ..common.content_type import check_content_type, encode_value
from ..common.data_instance import DataInstance
from ..common.data_type import DataType
from ..common.dir_archive import StrPath, pack_directory
from ..common.errors import RainException
from ..common.ids import ID, format_id, new_id
from .active import get_active_session
from .rpc.common import DataObjectState

if TYPE_CHECKING:
    from .session import Session
    from .task import Task

# What tasks take as an input object: a data object, or a task with exactly one output.
DataLike: TypeAlias = "DataObject | Task"


class DataObject:
    """A blob or directory in a session's graph: a constant or the output of a task.

    ``state`` is None until submitted; ``info`` is None until ``update()`` or ``fetch()``.
    ``spec`` (an ObjectSpec) is made when first asked for; from then on it is what is submitted.
    """

    # Slots, and a spec made only when asked for: a big graph has millions of these.
    __slots__ = ("session", "id", "_label", "_content_type", "_data_type", "_spec", "info",
                 "state", "data", "_keep", "_producer", "__weakref__",
                 "__dict__")  # the user's own attributes, as in Rain 0.4 (made when set)

    def __init__(self, label: str | None = None, session: Session | None = None,
                 data_type: DataType | str = DataType.BLOB,
                 content_type: str | None = None) -> None:
        if session is None:
            session = get_active_session()
        if content_type is not None:
            check_content_type(content_type)
        self.session: Session = session
        # session._register_object(self), inlined: it runs for every object of a graph.
        if not session.active:
            session._check_open()
        session._unsubmitted_objects.append(self)
        self.id: ID = new_id(ID, (session.session_id, next(session._ids)))
        self._label = label
        self._content_type = content_type or None
        self._data_type = data_type if data_type is DataType.BLOB else DataType(data_type)
        self._spec: ObjectSpec | None = None
        self.info: ObjectInfo | None = None
        self.state: DataObjectState | None = None
        self.data: bytes | None = None  # bytes of a constant
        self._keep = False
        self._producer: Task | None = None  # the task whose output this is

    @property
    def spec(self) -> ObjectSpec:
        spec = self._spec
        if spec is None:
            spec = self._spec = ObjectSpec(self.id, self._label, self._content_type,
                                           self._data_type)
        return spec

    @property
    def label(self) -> str | None:
        return self._label if self._spec is None else self._spec.label

    # The attributes' names in Rain 0.4; scripts use them.
    @property
    def _session(self) -> Session:
        return self.session

    @property
    def _data(self) -> bytes | None:
        return self.data

    @property
    def data_type(self) -> DataType:
        return self._data_type if self._spec is None else self._spec.data_type

    @property
    def content_type(self) -> str | None:
        """The content type set at run time if known, else the declared one."""
        if self.info is not None and self.info.content_type:
            return self.info.content_type
        return self._content_type if self._spec is None else self._spec.content_type

    def keep(self) -> None:
        """Asks the server to keep the object after use (so it can be fetched or reused)."""
        if self.state is not None:
            raise RainException(f"cannot keep {self}: it was already submitted")
        self._keep = True

    def unkeep(self) -> None:
        self.session.unkeep((self,))

    def is_kept(self) -> bool:
        return self._keep

    def wait(self) -> None:
        self.session.wait((self,))

    def fetch(self, path: StrPath | None = None) -> DataInstance:
        """The object's data (a DataInstance); it must be kept. ``path``: streamed to a new
        file or directory there instead of memory."""
        return self.session.fetch(self, path)

    def update(self) -> None:
        self.session.update((self,))

    def _mark_finished(self) -> None:
        self.state = DataObjectState.finished

    def __repr__(self) -> str:
        label = f" {self.label!r}" if self.label is not None else ""
        kept = " kept" if self._keep else ""
        return f"<DataObject {format_id(self.id)} {self.data_type.value}{label}{kept}>"


class OutputsOwner:
    """The base of Task (task.py): something with outputs; ``to_dataobj`` takes one that has a
    single output. Defined here so that this module needs nothing from task.py, which imports
    it."""

    __slots__ = ()

    @property
    def output(self) -> DataObject:
        """The only output."""
        raise NotImplementedError


def to_dataobj(value: object) -> DataObject:
    """A DataObject from a DataObject or a task with exactly one output."""
    if isinstance(value, DataObject):
        return value
    if isinstance(value, OutputsOwner):
        return value.output
    raise TypeError(f"expected a DataObject or a Task with one output, got {value!r}")


def blob(value: Any, label: str = "const", content_type: str | None = None,
         encode: str | None = None) -> DataObject:
    """A constant blob: bytes as they are, a str as text, anything else with ``encode=``."""
    if type(value) is bytes and encode is None and content_type is None:
        # The common case, kept short: graphs of many tiny constants are built with this.
        obj = DataObject(label)
        obj.data = value
        return obj
    data: object
    if encode is not None:
        if content_type is not None and content_type != encode:
            raise RainException(f"content_type {content_type!r} contradicts encode={encode!r}")
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
            data = bytes(cast("bytearray | memoryview[int]", data))
        else:
            raise RainException(
                f"blob() needs bytes or str, not {type(data).__name__} (use encode=...)")
    obj = DataObject(label, data_type=DataType.BLOB, content_type=content_type)
    obj.data = data
    return obj


def pickled(value: Any, label: str = "pickle") -> DataObject:
    """A constant holding ``pickle.dumps(value)``, content type "pickle"."""
    return blob(value, label, encode="pickle")


def directory(path: StrPath, label: str = "const_dir") -> DataObject:
    """A constant directory: the local directory ``path`` packed as a tar archive."""
    data = pack_directory(path)
    obj = DataObject(label, data_type=DataType.DIRECTORY)
    obj.data = data
    return obj

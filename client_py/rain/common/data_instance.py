"""DataInstance: the actual data of a data object, with its spec and info."""

from __future__ import annotations

import os
import shutil
from typing import TYPE_CHECKING, Any

from .attributes import ObjectInfo, ObjectSpec
from .content_type import decode_value
from .data_type import DataType
from .dir_archive import StrPath, pack_directory, unpack_directory
from .errors import RainException

if TYPE_CHECKING:
    from ..client.data import DataObject

_NOT_LOADED = object()


class DataInstance:
    """Data of an object, held in memory (``data``) or in the file system (``path``).

    A directory's bytes are a tar archive of it. ``info`` is always an ``ObjectInfo`` (empty
    when nothing is known), so a task may fill ``info.user`` of an instance it returns.
    """

    # True on outputs made by ctx.stage_file()/stage_directory() (set there, read with getattr).
    _staged: bool

    def __init__(self, data: bytes | bytearray | memoryview | None = None, *,
                 path: StrPath | None = None, data_type: DataType | str | None = None,
                 content_type: str | None = None, spec: ObjectSpec | None = None,
                 info: ObjectInfo | None = None, data_object: DataObject | None = None) -> None:
        if (data is None) == (path is None):
            raise RainException("a DataInstance needs exactly one of 'data' and 'path'")
        self._data = data
        self._path = path
        self.spec = spec
        self.info = info if info is not None else ObjectInfo()
        self.data_object = data_object
        if data_type is None:
            data_type = spec.data_type if spec is not None else DataType.BLOB
        self.data_type = DataType(data_type)
        self._content_type = content_type
        self._loaded: Any = _NOT_LOADED

    @property
    def content_type(self) -> str | None:
        """The run-time content type if known, else the declared one."""
        if self.info.content_type:
            return self.info.content_type
        if self._content_type:
            return self._content_type
        return self.spec.content_type if self.spec is not None else None

    def _stored_path(self) -> StrPath:
        assert self._path is not None  # exactly one of _data and _path is set
        return self._path

    def get_bytes(self) -> bytes:
        """The data as bytes (a tar archive for a directory)."""
        if self._data is not None:
            return bytes(self._data)
        if self.data_type == DataType.DIRECTORY:
            return pack_directory(self._stored_path())
        with open(self._stored_path(), "rb") as f:
            return f.read()

    def get_str(self) -> str:
        """The data as text, in the encoding of a ``text-<encoding>`` type, else UTF-8."""
        content_type = self.content_type or ""
        encoding = content_type[5:] if content_type.startswith("text-") else "utf-8"
        return self.get_bytes().decode(encoding)

    def load(self, cache: bool = False) -> Any:
        """The data decoded according to its content type."""
        if cache and self._loaded is not _NOT_LOADED:
            return self._loaded
        if self.data_type == DataType.DIRECTORY:
            raise RainException("a directory cannot be loaded; use write() or get_bytes()")
        content_type = self.content_type
        if not content_type:
            raise RainException(f"{self._describe()} has no content type, so it cannot be loaded")
        value = decode_value(self.get_bytes(), content_type)
        if cache:
            self._loaded = value
        return value

    def write(self, path: StrPath) -> None:
        """Creates a writable copy at ``path``: a file, or the directory extracted."""
        if self.data_type == DataType.DIRECTORY:
            if self._path is not None:
                # The stored directory is read-only; the copy is the caller's to change.
                shutil.copytree(self._path, path, symlinks=True, copy_function=shutil.copyfile)
                for directory, _, _ in os.walk(path):
                    os.chmod(directory, 0o755)
            else:
                assert self._data is not None
                unpack_directory(self._data, path)
            return
        if self._path is not None:
            shutil.copyfile(self._path, path)
        else:
            assert self._data is not None
            with open(path, "wb") as f:
                f.write(self._data)

    def link(self, path: StrPath) -> None:
        """A read-only symlink to the stored data when it is file-backed, else ``write``."""
        if self._path is None:
            self.write(path)
        else:
            os.symlink(os.path.abspath(self._path), path)

    def _describe(self) -> str:
        if self.spec is not None and self.spec.id is not None:
            return f"data object {self.spec.id[0]}/{self.spec.id[1]} ({self.spec.label!r})"
        return "data instance"

    def __str__(self) -> str:
        # print(instance) shows small in-memory blobs as their bytes (as the user guide's
        # "Hello world" example does); anything else as the repr.
        if self._data is not None and self.data_type == DataType.BLOB and \
                len(self._data) <= 4096:
            return str(bytes(self._data))
        return repr(self)

    def __repr__(self) -> str:
        where = f"{len(self._data)} bytes" if self._data is not None else repr(self._path)
        return f"<DataInstance {self.data_type.value} {self._describe()} {where}>"

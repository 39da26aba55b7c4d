"""Directories travel as tar archives; this packs and unpacks them."""

from __future__ import annotations

import io
import os
import stat
import tarfile

from collections.abc import Iterable, Iterator
from typing import BinaryIO, Union

from .errors import RainException

# A file system path as os functions take it.
StrPath = Union[str, "os.PathLike[str]"]


def pack_directory(path: StrPath) -> bytes:
    """A tar archive (bytes) of everything inside ``path``, empty directories included.

    Entries are relative ("a", "a/b.txt"), in sorted order, so equal trees give equal archives.
    """
    if not os.path.isdir(path):
        raise RainException(f"{path!r} is not a directory")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name in sorted(os.listdir(path)):
            archive.add(os.path.join(path, name), arcname=name)  # recursive, sorted
    return buffer.getvalue()


def _safe_members(archive: tarfile.TarFile, target: StrPath,
                  members: Iterable[tarfile.TarInfo] | None = None) -> Iterator[tarfile.TarInfo]:
    """Refuses entries that would land outside ``target`` or are not plain files/dirs/links.
    ``members``: the archive itself for a stream (checked as they come)."""
    root = os.path.realpath(target)
    for member in archive.getmembers() if members is None else members:
        name = member.name
        destination = os.path.realpath(os.path.join(root, name))
        if os.path.isabs(name) or not (destination == root or
                                       destination.startswith(root + os.sep)):
            raise RainException(f"unsafe path {name!r} in directory archive")
        if not (member.isfile() or member.isdir() or member.issym()):
            raise RainException(f"unsupported entry {name!r} in directory archive")
        if member.issym() and (os.path.isabs(member.linkname) or
                               ".." in member.linkname.split("/")):
            raise RainException(f"unsafe link {name!r} in directory archive")
        yield member


def unpack_directory(data: bytes | bytearray | memoryview, target: StrPath) -> None:
    """Extracts a tar archive (bytes) into a new directory ``target``, all of it writable."""
    os.makedirs(target, exist_ok=False)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
        archive.extractall(target, members=list(_safe_members(archive, target)))
    _make_writable(target)


def unpack_directory_stream(stream: BinaryIO, target: StrPath) -> None:
    """Extracts a tar stream (read once, in order, in O(1) memory) into a new directory."""
    os.makedirs(target, exist_ok=False)
    with tarfile.open(fileobj=stream, mode="r|") as archive:
        archive.extractall(target, members=_safe_members(archive, target, archive))
    _make_writable(target)


def _make_writable(target: StrPath) -> None:
    # The archive may come from read-only storage; the copy is the user's to change.
    for directory, dirnames, filenames in os.walk(target):
        for name in [directory] + [os.path.join(directory, n) for n in dirnames + filenames]:
            if not os.path.islink(name):
                mode = os.stat(name).st_mode
                os.chmod(name, mode | stat.S_IWUSR | stat.S_IRUSR |
                         (stat.S_IXUSR if stat.S_ISDIR(mode) else 0))

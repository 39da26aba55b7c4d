"""Directories travel as tar archives; this packs and unpacks them."""

import io
import os
import stat
import tarfile

from .errors import RainException


def pack_directory(path):
    """A tar archive (bytes) of everything inside ``path``, empty directories included.

    Entries are relative ("a", "a/b.txt"), in sorted order, so equal trees give equal archives.
    """
    if not os.path.isdir(path):
        raise RainException("{!r} is not a directory".format(path))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name in sorted(os.listdir(path)):
            archive.add(os.path.join(path, name), arcname=name)  # recursive, sorted
    return buffer.getvalue()


def _safe_members(archive, target):
    """Refuses entries that would land outside ``target`` or are not plain files/dirs/links."""
    root = os.path.realpath(target)
    for member in archive.getmembers():
        name = member.name
        destination = os.path.realpath(os.path.join(root, name))
        if os.path.isabs(name) or not (destination == root or
                                       destination.startswith(root + os.sep)):
            raise RainException("unsafe path {!r} in directory archive".format(name))
        if not (member.isfile() or member.isdir() or member.issym()):
            raise RainException("unsupported entry {!r} in directory archive".format(name))
        if member.issym() and (os.path.isabs(member.linkname) or
                               ".." in member.linkname.split("/")):
            raise RainException("unsafe link {!r} in directory archive".format(name))
        yield member


def unpack_directory(data, target):
    """Extracts a tar archive (bytes) into a new directory ``target``, all of it writable."""
    os.makedirs(target, exist_ok=False)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
        archive.extractall(target, members=list(_safe_members(archive, target)))
    # The archive may come from read-only storage; the copy is the user's to change.
    for directory, dirnames, filenames in os.walk(target):
        for name in [directory] + [os.path.join(directory, n) for n in dirnames + filenames]:
            if not os.path.islink(name):
                mode = os.stat(name).st_mode
                os.chmod(name, mode | stat.S_IWUSR | stat.S_IRUSR |
                         (stat.S_IXUSR if stat.S_ISDIR(mode) else 0))

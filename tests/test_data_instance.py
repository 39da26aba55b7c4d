"""DataInstance: get_bytes/get_str/load/write/link, in memory and file-backed."""

import os
import stat

import pytest

from rain.common import DataInstance, DataType, RainException
from rain.common.attributes import ObjectInfo, ObjectSpec
from rain.common.dir_archive import pack_directory


def test_get_bytes_and_str():
    d = DataInstance(b"abc")
    assert d.get_bytes() == b"abc" and d.get_str() == "abc"
    assert d.data_type == DataType.BLOB and d.content_type is None
    latin = DataInstance("žluť".encode("latin2"), content_type="text-latin2")
    assert latin.get_str() == "žluť"


def test_load_by_content_type():
    assert DataInstance(b"[1, 2]", content_type="json").load() == [1, 2]
    assert DataInstance(b"text", content_type="text").load() == "text"
    with pytest.raises(RainException, match="has no content type, so it cannot be loaded"):
        DataInstance(b"[1]").load()  # no content type
    spec = ObjectSpec(content_type="text")
    info = ObjectInfo(content_type="json")
    instance = DataInstance(b"[3]", spec=spec, info=info)
    assert instance.content_type == "json"  # the run-time type wins
    first = instance.load(cache=True)
    assert instance.load(cache=True) is first
    assert instance.load() is not first


def test_write_blob(tmp_path):
    target = tmp_path / "out.bin"
    DataInstance(b"data").write(str(target))
    assert target.read_bytes() == b"data"
    target.write_bytes(b"changed")  # a writable copy


def _make_tree(root):
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "sub" / "file.txt").write_bytes(b"in sub")
    (root / "top.txt").write_bytes(b"top")
    (root / "empty").mkdir()


def test_directory_roundtrip_with_write(tmp_path):
    source = tmp_path / "source"
    _make_tree(source)
    instance = DataInstance(pack_directory(str(source)), data_type=DataType.DIRECTORY)
    assert instance.get_bytes()[:3] != b""  # a tar archive
    target = tmp_path / "copy"
    instance.write(str(target))
    assert (target / "top.txt").read_bytes() == b"top"
    assert (target / "sub" / "file.txt").read_bytes() == b"in sub"
    assert (target / "sub" / "deeper").is_dir() and (target / "empty").is_dir()
    with pytest.raises(RainException, match="a directory cannot be loaded"):
        instance.load()


def test_write_makes_read_only_content_writable(tmp_path):
    source = tmp_path / "ro"
    _make_tree(source)
    os.chmod(source / "top.txt", stat.S_IRUSR)
    os.chmod(source / "sub", stat.S_IRUSR | stat.S_IXUSR)
    data = pack_directory(str(source))
    os.chmod(source / "sub", stat.S_IRWXU)
    target = tmp_path / "rw"
    DataInstance(data, data_type="dir").write(str(target))
    (target / "top.txt").write_bytes(b"mine now")
    (target / "sub" / "new.txt").write_bytes(b"new")


def test_unsafe_archives_are_refused(tmp_path):
    import io
    import tarfile
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo("../escape.txt")
        info.size = 1
        archive.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(RainException, match="unsafe path '../escape.txt'"):
        DataInstance(buffer.getvalue(), data_type="dir").write(str(tmp_path / "t"))
    assert not (tmp_path / "escape.txt").exists()


def test_file_backed_instances_and_link(tmp_path):
    path = tmp_path / "stored"
    path.write_bytes(b"stored data")
    instance = DataInstance(path=str(path), content_type="text")
    assert instance.get_bytes() == b"stored data" and instance.load() == "stored data"
    instance.link(str(tmp_path / "link"))
    assert os.path.islink(tmp_path / "link")
    assert (tmp_path / "link").read_bytes() == b"stored data"
    instance.write(str(tmp_path / "copy"))
    assert not os.path.islink(tmp_path / "copy")
    in_memory = DataInstance(b"mem")
    in_memory.link(str(tmp_path / "fallback"))  # no file behind it: written instead
    assert (tmp_path / "fallback").read_bytes() == b"mem"
    tree = tmp_path / "tree"
    _make_tree(tree)
    dir_instance = DataInstance(path=str(tree), data_type=DataType.DIRECTORY)
    dir_instance.write(str(tmp_path / "tree-copy"))
    assert (tmp_path / "tree-copy" / "sub" / "file.txt").read_bytes() == b"in sub"
    restored = tmp_path / "restored"
    DataInstance(dir_instance.get_bytes(), data_type="dir").write(str(restored))
    assert (restored / "empty").is_dir()


def test_exactly_one_source():
    with pytest.raises(RainException, match="needs exactly one of 'data' and 'path'"):
        DataInstance()
    with pytest.raises(RainException, match="needs exactly one of 'data' and 'path'"):
        DataInstance(b"x", path="/x")

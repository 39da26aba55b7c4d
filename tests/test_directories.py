"""Directory objects end to end: constants, MakeDirectory, SliceDirectory, LoadDir, Store."""

import io
import os
import tarfile

from rain.client import blob, directory, tasks
from rain.common import DataType


def make_tree(root):
    os.makedirs(os.path.join(root, "sub", "deeper"))
    os.makedirs(os.path.join(root, "empty"))
    with open(os.path.join(root, "top.txt"), "wb") as f:
        f.write(b"top")
    with open(os.path.join(root, "sub", "file.txt"), "wb") as f:
        f.write(b"in sub")
    with open(os.path.join(root, "sub", "deeper", "x.bin"), "wb") as f:
        f.write(bytes(range(256)) * 100)


def tree(root):
    """{relative path: bytes, or None for a directory}"""
    result = {}
    for directory_path, dirnames, filenames in os.walk(root):
        for name in dirnames:
            result[os.path.relpath(os.path.join(directory_path, name), root)] = None
        for name in filenames:
            path = os.path.join(directory_path, name)
            with open(path, "rb") as f:
                result[os.path.relpath(path, root)] = f.read()
    return result


def test_directory_constant_roundtrip(client, tmp_path):
    source = str(tmp_path / "source")
    make_tree(source)
    with client.new_session() as session:
        d = directory(source)
        d.keep()
        passed = tasks.Sleep(d, 0)
        passed.output.keep()
        session.submit()
        for obj in (d, passed.output):
            instance = obj.fetch()
            assert instance.data_type == DataType.DIRECTORY
            names = tarfile.open(fileobj=io.BytesIO(instance.get_bytes())).getnames()
            assert "empty" in [n.rstrip("/") for n in names]
            target = str(tmp_path / "copy-{}".format(obj.id.id))
            instance.write(target)
            assert tree(target) == tree(source)


def test_make_and_slice_directory(client, tmp_path):
    source = str(tmp_path / "source")
    make_tree(source)
    with client.new_session() as session:
        d = directory(source)
        data1 = blob(b"12345")
        data2 = blob(b"67890")
        d2 = tasks.MakeDirectory([
            ("myfile.txt", data1),
            ("adir", d),
            ("a/deep/path/x", data2),
        ])
        d2.output.keep()
        file_slice = tasks.SliceDirectory(d2, "a/deep/path/x")
        file_slice.output.keep()
        dir_slice = tasks.SliceDirectory(d2, "a/deep/")
        dir_slice.output.keep()
        nested_slice = tasks.SliceDirectory(d2, "adir/sub/file.txt")
        nested_slice.output.keep()
        from_dict = tasks.MakeDirectory({"only.txt": data1})
        from_dict.output.keep()
        session.submit()

        target = str(tmp_path / "made")
        d2.output.fetch().write(target)
        assert tree(target) == dict(
            {"myfile.txt": b"12345", "a": None, "a/deep": None, "a/deep/path": None,
             "a/deep/path/x": b"67890", "adir": None},
            **{os.path.join("adir", k): v for k, v in tree(source).items()})
        fetched = file_slice.output.fetch()
        assert fetched.data_type == DataType.BLOB and fetched.get_bytes() == b"67890"
        sliced_dir = dir_slice.output.fetch()
        assert sliced_dir.data_type == DataType.DIRECTORY
        sliced_dir.write(str(tmp_path / "sliced"))
        assert tree(str(tmp_path / "sliced")) == {"path": None, "path/x": b"67890"}
        assert nested_slice.output.fetch().get_bytes() == b"in sub"
        from_dict.output.fetch().write(str(tmp_path / "dict"))
        assert tree(str(tmp_path / "dict")) == {"only.txt": b"12345"}


def test_load_dir_and_store(client, tmp_path):
    source = str(tmp_path / "source")
    make_tree(source)
    stored_dir = str(tmp_path / "stored-dir")
    stored_file = str(tmp_path / "stored-file")
    with client.new_session() as session:
        loaded = tasks.LoadDir(source)
        loaded.output.keep()
        tasks.Store(loaded, stored_dir)
        tasks.Store(tasks.SliceDirectory(loaded, "top.txt"), stored_file)
        session.submit()
        session.wait_all()
        loaded.output.fetch().write(str(tmp_path / "fetched"))
    assert tree(str(tmp_path / "fetched")) == tree(source)
    assert tree(stored_dir) == tree(source)
    with open(stored_file, "rb") as f:
        assert f.read() == b"top"


def test_directory_info_size(client, tmp_path):
    source = str(tmp_path / "source")
    make_tree(source)
    with client.new_session() as session:
        loaded = tasks.LoadDir(source)
        loaded.output.keep()
        session.submit()
        loaded.output.wait()
        loaded.output.update()
        assert loaded.output.info.size >= 3 + 6 + 25600  # approximate, but covers the files

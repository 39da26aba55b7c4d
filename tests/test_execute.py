"""External programs (tasks.Execute, Program, Input/Output, directories) through real governors.

Most tests are the examples of the user documentation ("Running external programs",
"Directories"), with programs that exist on every machine instead of wget or git.
"""

import hashlib
import os

import pytest

from rain.client import (Input, InputDir, Output, OutputDir, Program, RainException, blob,
                         directory, tasks)
from rain.common import DataType


def fetch(obj):
    return obj.fetch().get_bytes()


def test_grep_a_data_object_in_the_arguments(client):
    with client.new_session() as session:
        data = blob(b"It is\nrainy day\n")
        task = tasks.Execute(["grep", "rain", data], stdout=True)
        task.output.keep()
        session.submit()
        assert task.output.fetch().get_bytes() == b"rainy day\n"


def test_tee_stdin_to_a_file_and_stdout(client):
    with client.new_session() as session:
        data = blob(b"cat data | tee output1 > output2\n")
        t = tasks.Execute(["tee", Output("output1")], stdout="output2", stdin=data)
        t.keep_outputs()
        session.submit()
        assert t.outputs.labels == ["output2", "output1"]
        assert t.outputs["output1"].fetch().get_bytes() == data.data
        assert t.outputs["output2"].fetch().get_bytes() == data.data
        assert [d.get_bytes() for d in t.fetch_outputs()] == [data.data, data.data]


def test_argument_forms_shell_and_sleep(client):
    with client.new_session() as session:
        t1 = tasks.Execute("sleep 0")
        t2 = tasks.Execute(("sleep", "0"))
        t3 = tasks.Execute("sleep 0 && echo 'a  b' && echo $((6 * 7))", shell=True, stdout=True)
        t4 = tasks.Execute(["printf", "%s|", "one two", 3, "'quoted'"], stdout=True)
        t5 = tasks.Execute("printf '%s|' 'one two' \"x y\"", stdout=True)
        for t in (t3, t4, t5):
            t.output.keep()
        session.submit()
        session.wait_all()
        assert fetch(t3.output) == b"a  b\n42\n"
        assert fetch(t4.output) == b"one two|3|'quoted'|"
        assert fetch(t5.output) == b"one two|x y|"
        session.update([t1, t2])
        assert t1.info.governor and t2.info.governor  # both ran


def test_stdout_forms(client):
    with client.new_session() as session:
        ts = [tasks.Execute("ls /", stdout=True),
              tasks.Execute("ls /", stdout="my_label"),
              tasks.Execute("ls /", stdout=Output("my_label"))]
        for t in ts:
            t.output.keep()
        session.submit()
        assert [t.outputs.labels for t in ts] == [["stdout"], ["my_label"], ["my_label"]]
        listings = [fetch(t.output) for t in ts]
        assert b"proc\n" in listings[0] and listings[0] == listings[1] == listings[2]


def test_output_paths_forms(client):
    # The wget examples, with a shell script standing in for wget.
    wget = "echo '<html>' > index.html; echo fetched > log"
    with client.new_session() as session:
        t1 = tasks.Execute(wget, shell=True, output_paths=[Output("index", path="index.html")])
        t2 = tasks.Execute(wget, shell=True, output_paths=["index.html"])
        t3 = tasks.Execute(wget, shell=True, output_paths=["index.html", "log"])
        t4 = tasks.Execute(["sh", "-c", 'echo "<html>" > index.html; echo fetched > "$0"',
                            Output("log")], output_paths=["index.html"])
        for t in (t1, t2, t3, t4):
            t.keep_outputs()
        session.submit()
        assert t1.output.label == "index" and fetch(t1.output) == b"<html>\n"
        assert t2.output.label == "index.html" and fetch(t2.output) == b"<html>\n"
        assert t3.outputs.labels == ["index.html", "log"] and fetch(t3.outputs["log"]) == \
            b"fetched\n"
        assert t4.outputs.labels == ["index.html", "log"]
        assert [d.get_bytes() for d in t4.fetch_outputs()] == [b"<html>\n", b"fetched\n"]


def test_input_forms(client):
    with client.new_session() as session:
        my_data = blob(b"line one\nline two\n")
        t1 = tasks.Execute(["wc", "-l", Input("my_label", path="myfile", dataobj=my_data)],
                           stdout=True)
        t2 = tasks.Execute(["wc", "-l", "myfile"],
                           input_paths=[Input("my_label", path="myfile", dataobj=my_data)],
                           stdout=True)
        t3 = tasks.Execute(["wc", "-l"], stdin=my_data, stdout=True)
        t4 = tasks.Execute("cat sub/dir/f", shell=True, stdout=True,
                           input_paths=[Input("f", path="sub/dir/f", dataobj=my_data)])
        for t in (t1, t2, t3, t4):
            t.output.keep()
        session.submit()
        assert t1.inputs.labels == ["my_label"]
        assert fetch(t1.output) == b"2 myfile\n"
        assert fetch(t2.output) == b"2 myfile\n"
        assert fetch(t3.output) == b"2\n"
        assert fetch(t4.output) == my_data.data


def test_program_patterns(client):
    rain_grep = Program(["grep", "rain", Input("my_input", path="my_file")], stdout=True)
    sort = Program("sort", stdin=Input("lines"), stdout=Output("sorted", content_type="text"))
    join = Program(("sh", "-c", "cat a b > joined"),
                   input_paths=[Input("first", path="a"), Input("second", path="b")],
                   output_paths=["joined"], name="join", cpus=2)
    with client.new_session() as session:
        data = blob(b"It is\nrainy day\n")
        task = rain_grep(my_input=data)
        sorted_task = sort(lines=blob(b"b\nc\na\n"))
        joined = join(first=blob(b"1\n"), second=blob(b"2\n"))
        for t in (task, sorted_task, joined):
            t.output.keep()
        session.submit()
        assert task.spec.config["args"] == ["grep", "rain", "my_file"]
        assert fetch(task.output) == b"rainy day\n"
        assert sorted_task.output.fetch().load() == "a\nb\nc\n"
        assert (joined.spec.name, joined.spec.resources) == ("join", {"cpus": 2})
        assert fetch(joined.output) == b"1\n2\n"
        with pytest.raises(KeyError, match="my_input"):
            rain_grep(other=data)


def test_content_types_are_declared_checked_and_loadable(client):
    with client.new_session() as session:
        t = tasks.Execute("echo '{\"a\": [1, 2]}'", shell=True,
                          stdout=Output("json", content_type="json"))
        t.output.keep()
        latin = tasks.Execute(["cat", Input("x", dataobj=blob("ž".encode("iso8859-2"),
                                                             content_type="text-latin2"),
                                            content_type="text")],
                              stdout=Output(content_type="text-latin2"))
        latin.output.keep()
        pickled = blob([1], encode="pickle")
        with pytest.raises(RainException, match="json"):
            tasks.Execute(["cat", Input("x", dataobj=pickled, content_type="json")])
        session.submit()
        result = t.output.fetch()
        assert result.load() == {"a": [1, 2]}
        t.output.update()
        assert t.output.info.content_type == "json"
        assert latin.output.fetch().load() == "ž"


def test_cpus_and_names(client):
    with client.new_session() as session:
        wide = tasks.Execute("nproc", cpus=2)
        named = tasks.Execute("true", name="my name")
        shell = tasks.Execute("sleep 0 && true", shell=True)
        session.submit()
        session.wait_all()
        assert wide.spec.resources == {"cpus": 2}
        assert (wide.name, named.name, shell.name) == (None, "my name", None)


def test_writable_copy_leaves_the_object_unchanged(client):
    with client.new_session() as session:
        obj = blob(b"original\n")
        obj.keep()
        t = tasks.Execute("echo 'New line' >> myfile; cat myfile", shell=True, stdout=True,
                          input_paths=[Input("myfile", dataobj=obj, write=True)])
        t.output.keep()
        session.submit()
        assert fetch(t.output) == b"original\nNew line\n"
        assert fetch(obj) == b"original\n"


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


def test_directories_through_programs(client, tmp_path):
    source = tmp_path / "source"
    (source / "sub").mkdir(parents=True)
    (source / "empty").mkdir()
    (source / "top.txt").write_bytes(b"top\n")
    (source / "sub" / "file.txt").write_bytes(b"in sub\n")
    with client.new_session() as session:
        d = directory(str(source))
        listing = tasks.Execute(["find", InputDir("d", dataobj=d)], stdout=True)
        listing.output.keep()
        from_args = tasks.Execute(["cat", "d/sub/file.txt"], stdout=True,
                                  input_paths=[InputDir("d", dataobj=d)])
        from_args.output.keep()
        made = tasks.Execute("mkdir -p out/deep/er out/void && echo x > out/deep/er/x", shell=True,
                             output_paths=[OutputDir("out")])
        made.output.keep()
        nested = tasks.Execute("mkdir mydir && echo a > mydir/a && echo b > mydir/b", shell=True,
                               output_paths=["mydir/a", OutputDir("mydir")])
        nested.keep_outputs()
        d2 = tasks.MakeDirectory([("myfile.txt", blob(b"12345")), ("adir", d),
                                  ("a/deep/path/x", blob(b"67890"))])
        counted = tasks.Execute(["sh", "-c", "find tree -type f | sort; cat tree/a/deep/path/x"],
                                input_paths=[InputDir("tree", dataobj=d2)], stdout=True)
        counted.output.keep()
        sliced = tasks.SliceDirectory(made, "deep/er/x")
        sliced.output.keep()
        sliced_dir = tasks.SliceDirectory(made, "deep/")
        sliced_dir.output.keep()
        session.submit()
        assert sorted(fetch(listing.output).split()) == [
            b"d", b"d/empty", b"d/sub", b"d/sub/file.txt", b"d/top.txt"]
        assert fetch(from_args.output) == b"in sub\n"
        assert made.output.data_type == DataType.DIRECTORY
        made.output.fetch().write(str(tmp_path / "made"))
        assert tree(str(tmp_path / "made")) == {"deep": None, "deep/er": None, "void": None,
                                                "deep/er/x": b"x\n"}
        assert fetch(nested.outputs["mydir/a"]) == b"a\n"
        nested.outputs["mydir"].fetch().write(str(tmp_path / "mydir"))
        assert tree(str(tmp_path / "mydir")) == {"a": b"a\n", "b": b"b\n"}
        assert fetch(counted.output) == (b"tree/a/deep/path/x\ntree/adir/sub/file.txt\n"
                                         b"tree/adir/top.txt\ntree/myfile.txt\n67890")
        assert fetch(sliced.output) == b"x\n"
        sliced_dir.output.fetch().write(str(tmp_path / "sliced"))
        assert tree(str(tmp_path / "sliced")) == {"er": None, "er/x": b"x\n"}


def test_empty_outputs(client, tmp_path):
    with client.new_session() as session:
        t = tasks.Execute("touch empty; mkdir void", shell=True, stdout=True,
                          output_paths=["empty", OutputDir("void")])
        t.keep_outputs()
        session.submit()
        stdout, empty, void = t.fetch_outputs()
        assert (stdout.get_bytes(), empty.get_bytes()) == (b"", b"")
        void.write(str(tmp_path / "void"))
        assert os.listdir(str(tmp_path / "void")) == []


def test_directory_with_an_11_mib_file_through_a_program_and_back(client, tmp_path):
    source = tmp_path / "big"
    source.mkdir()
    payload = os.urandom(11 * 1024 * 1024)
    (source / "payload.bin").write_bytes(payload)
    (source / "note.txt").write_bytes(b"note\n")
    with client.new_session() as session:
        d = directory(str(source))
        copied = tasks.Execute("cp -r in out && echo more >> out/note.txt && sha256sum "
                               "in/payload.bin", shell=True, stdout=True,
                               input_paths=[InputDir("in", dataobj=d)],
                               output_paths=[OutputDir("out")])
        copied.keep_outputs()
        session.submit()
        digest = hashlib.sha256(payload).hexdigest().encode()
        assert fetch(copied.outputs["stdout"]) == digest + b"  in/payload.bin\n"
        copied.outputs["out"].fetch().write(str(tmp_path / "back"))
        assert tree(str(tmp_path / "back")) == {"payload.bin": payload, "note.txt": b"note\nmore\n"}


def test_large_stdout(client):
    size = 24 * 1024 * 1024
    with client.new_session() as session:
        t = tasks.Execute("head -c {} /dev/zero | tr '\\0' a".format(size), shell=True,
                          stdout=True)
        t.output.keep()
        counted = tasks.Execute("wc -c", stdin=t.output, stdout=True)
        counted.output.keep()
        session.submit()
        assert fetch(counted.output) == b"%d\n" % size
        data = fetch(t.output)
        assert len(data) == size and data == b"a" * size


def test_an_object_used_by_several_programs_on_a_governor_is_stored_once(rain_cluster):
    cluster = rain_cluster(governors=[2])
    client = cluster.client()
    with client.new_session() as session:
        big = tasks.Execute("head -c 3000000 /dev/zero", shell=True, stdout=True)
        readers = [tasks.Execute(["stat", "-c", "%i %h %s", Input("f", dataobj=big.output)],
                                 stdout=True) for _ in range(3)]
        for r in readers:
            r.output.keep()
        session.submit()
        stats = [fetch(r.output).split() for r in readers]
    inodes = {inode for inode, _, _ in stats}
    assert len(inodes) == 1, "every program sees the one stored file: {}".format(stats)
    assert all(int(links) >= 2 and size == b"3000000" for _, links, size in stats), \
        "a hard link to the store, not a copy: {}".format(stats)

"""Rain 0.4 behaviours of the executor side (reference §8): inputs of Python tasks carry a
writable ``info.user`` that travels with an input returned as an output; ``ctx.stage_file`` /
``ctx.stage_directory`` take the file out of the working directory at once; Execute outputs may
lie inside a read-only input directory."""

import os

import pytest

from rain.client import (InputDir, Output, OutputDir, TaskException, blob, directory, remote,
                         tasks)
from rain.common import DataInstance
from rain.common.attributes import ObjectInfo
from rain.executor.context import Context


def stored_path(cluster, obj):
    """Where a governor of ``cluster`` stores the file-backed object ``obj`` (or None)."""
    for index in range(cluster.governor_count):
        path = cluster.path("governor-{}-work".format(index), "data", str(obj.id.session_id),
                            str(obj.id.id))
        if os.path.exists(path):
            return path
    return None


# --- inputs' info.user -------------------------------------------------------------------------

def test_a_data_instance_always_has_an_info():
    assert DataInstance(b"x").info == ObjectInfo()
    instance = DataInstance(b"x")
    instance.info.user["k"] = 1
    assert instance.info.user == {"k": 1}
    assert DataInstance(b"x").info.user == {}, "every instance has an info of its own"


def test_returning_an_input_carries_the_user_info_it_was_given(client):
    @remote(outputs=("tagged", "untouched"))
    def tag(ctx, first, second):
        assert isinstance(first.info, ObjectInfo) and first.info.user == {}
        first.info.user["seen"] = first.get_str()
        first.info.user["nested"] = {"n": [1, 2]}
        return first, second

    with client.new_session() as session:
        a = blob("alpha")
        b = blob(b"beta")
        t = tag(a, b)
        t.keep_outputs()
        session.submit()
        tagged = t.outputs["tagged"].fetch()
        assert tagged.get_bytes() == b"alpha" and tagged.content_type == "text"
        assert tagged.info.user == {"seen": "alpha", "nested": {"n": [1, 2]}}
        assert t.outputs["tagged"].info.user == {"seen": "alpha", "nested": {"n": [1, 2]}}
        assert t.outputs["untouched"].fetch().info.user == {}
        t.outputs["tagged"].update()
        assert t.outputs["tagged"].info.user == {"seen": "alpha", "nested": {"n": [1, 2]}}


def test_user_info_of_an_output_reaches_the_next_task_and_is_carried_on(client):
    @remote()
    def make(ctx):
        made = ctx.blob(b"payload")
        made.info.user["made_by"] = "make"
        return made

    @remote()
    def relay(ctx, data):
        seen = dict(data.info.user)
        data.info.user["relayed"] = seen
        return data

    with client.new_session() as session:
        first = make()
        second = relay(first)
        second.output.keep()
        session.submit()
        result = second.output.fetch()
        assert result.get_bytes() == b"payload"
        assert result.info.user == {"made_by": "make", "relayed": {"made_by": "make"}}


# --- stage_file / stage_directory ----------------------------------------------------------------

def test_staging_moves_the_file_out_of_the_working_directory_at_once(tmp_path):
    work = tmp_path / "task"
    work.mkdir()
    os.chdir(str(work))
    try:
        ctx = Context({"spec": {"id": [1, 2]}, "outputs": []}, [], work_dir=str(work),
                      staging_dir=str(tmp_path / ".staged"))
        (work / "out.txt").write_text("one")
        inode = os.stat("out.txt").st_ino
        first = ctx.stage_file("out.txt")
        assert os.listdir(".") == []
        assert os.stat(first._path).st_ino == inode, "moved, not copied"
        assert os.path.dirname(first._path) == str(tmp_path / ".staged")
        (work / "out.txt").write_text("two")
        second = ctx.stage_file("out.txt", content_type="text")
        assert (first.get_bytes(), second.get_str()) == (b"one", "two")
        (work / "d" / "sub").mkdir(parents=True)
        (work / "d" / "sub" / "x").write_text("x")
        staged_dir = ctx.stage_directory("d")
        assert os.listdir(".") == []
        assert os.listdir(os.path.join(staged_dir._path, "sub")) == ["x"]
        # A file outside the working directory is the task's to read, not to give away.
        outside = tmp_path / "outside.txt"
        outside.write_text("kept")
        copied = ctx.stage_file(str(outside))
        assert outside.read_text() == "kept" and copied.get_bytes() == b"kept"
    finally:
        os.chdir(str(tmp_path))


def test_a_staged_name_can_be_written_again(cluster, client, tmp_path):
    big = 1024 * 1024  # file-backed on the governor (larger than what it keeps in memory)

    @remote(outputs=("first", "second", OutputDir("dir_a"), OutputDir("dir_b"), "big"))
    def reuse(ctx):
        facts = {}
        with open("out.txt", "w") as f:
            f.write("one")
        first = ctx.stage_file("out.txt")
        facts["after_first"] = os.listdir(".")
        with open("out.txt", "w") as f:
            f.write("two")
        second = ctx.stage_file("out.txt", content_type="text")
        dirs = []
        for content in ("A", "B"):
            os.makedirs("d/sub")
            with open("d/sub/f.txt", "w") as f:
                f.write(content)
            dirs.append(ctx.stage_directory("d"))
        with open("big.bin", "wb") as f:
            f.write(b"z" * big)
        big_out = ctx.stage_file("big.bin")
        facts["inode"] = os.stat(big_out._path).st_ino
        facts["left"] = os.listdir(".")
        facts["staged_outside"] = not big_out._path.startswith(os.getcwd() + os.sep)
        ctx.info.user.update(facts)
        return first, second, dirs[0], dirs[1], big_out

    with client.new_session() as session:
        t = reuse()
        t.keep_outputs()
        session.submit()
        assert t.outputs["first"].fetch().get_bytes() == b"one"
        second = t.outputs["second"].fetch()
        assert second.get_str() == "two" and second.content_type == "text"
        for label, content in (("dir_a", "A"), ("dir_b", "B")):
            target = str(tmp_path / label)
            t.outputs[label].fetch().write(target)
            with open(os.path.join(target, "sub", "f.txt")) as f:
                assert f.read() == content
        assert t.outputs["big"].fetch().get_bytes() == b"z" * big
        t.update()
        facts = t.info.user
        assert facts["after_first"] == [] and facts["left"] == []
        assert facts["staged_outside"]
        # The governor took the staged file into its store by a rename: the same inode.
        path = stored_path(cluster, t.outputs["big"])
        assert path is not None, "the big output is a file in a governor's store"
        assert os.stat(path).st_ino == facts["inode"]


def test_staged_but_not_returned_files_do_not_leak_into_the_next_task(client):
    @remote()
    def stage_and_fail(ctx):
        with open("x", "w") as f:
            f.write("x")
        ctx.stage_file("x")
        raise RuntimeError("failed after staging")

    @remote()
    def look(ctx):
        staging = ctx.staging_dir
        return repr((os.listdir("."), os.listdir(staging) if os.path.isdir(staging) else []))

    with client.new_session() as session:
        stage_and_fail()
        session.submit()
        with pytest.raises(TaskException, match="failed after staging"):
            session.wait_all()
    with client.new_session() as session:
        # Several tasks: the executors of both governors run one each at least once.
        checks = [look() for _ in range(4)]
        for c in checks:
            c.output.keep()
        session.submit()
        for c in checks:
            assert c.output.fetch().get_str() == repr(([], []))


# --- Execute outputs inside a read-only input directory -------------------------------------------

@pytest.fixture
def sample_dir(tmp_path):
    root = tmp_path / "sample"
    (root / "a" / "deep").mkdir(parents=True)
    (root / "f.txt").write_text("file f")
    (root / "a" / "x.txt").write_text("file x")
    (root / "a" / "deep" / "y.txt").write_text("file y")
    (root / "big.bin").write_bytes(b"b" * (1024 * 1024))
    return str(root)


def test_execute_outputs_inside_a_read_only_input_directory(client, sample_dir, tmp_path):
    with client.new_session() as session:
        d = directory(sample_dir)
        t = tasks.Execute(
            "test -f mydir/f.txt && test -d mydir/a", shell=True,
            input_paths=[InputDir("mydir", dataobj=d)],
            output_paths=[Output("f", path="mydir/f.txt"), OutputDir("a", path="mydir/a"),
                          Output("big", path="mydir/big.bin"), OutputDir("all", path="mydir")])
        t.keep_outputs()
        session.submit()
        assert t.outputs["f"].fetch().get_bytes() == b"file f"
        assert t.outputs["big"].fetch().get_bytes() == b"b" * (1024 * 1024)
        t.outputs["a"].fetch().write(str(tmp_path / "a"))
        assert (tmp_path / "a" / "x.txt").read_text() == "file x"
        assert (tmp_path / "a" / "deep" / "y.txt").read_text() == "file y"
        t.outputs["all"].fetch().write(str(tmp_path / "all"))
        assert sorted(os.listdir(str(tmp_path / "all"))) == ["a", "big.bin", "f.txt"]
        assert (tmp_path / "all" / "a" / "deep" / "y.txt").read_text() == "file y"

        # The input directory is unchanged for a later task.
        check = tasks.Execute("cat mydir/f.txt mydir/a/x.txt", shell=True, stdout=True,
                              input_paths=[InputDir("mydir", dataobj=t.outputs["all"])])
        check.output.keep()
        session.submit()
        assert check.output.fetch().get_bytes() == b"file ffile x"


# The governor as an ordinary user (file permissions bind it; they do not bind root).
from test_execute_permissions import user_cluster, user_client  # noqa: E402,F401 (fixtures)


def test_outputs_inside_an_input_directory_of_a_governor_that_is_not_root(user_client,
                                                                           sample_dir, tmp_path):
    with user_client.new_session() as session:
        d = directory(sample_dir)
        t = tasks.Execute(
            "true", input_paths=[InputDir("mydir", dataobj=d)],
            output_paths=[Output("big", path="mydir/big.bin"), OutputDir("a", path="mydir/a")])
        t.keep_outputs()
        session.submit()
        assert t.outputs["big"].fetch().get_bytes() == b"b" * (1024 * 1024)
        t.outputs["a"].fetch().write(str(tmp_path / "a"))
        assert (tmp_path / "a" / "deep" / "y.txt").read_text() == "file y"

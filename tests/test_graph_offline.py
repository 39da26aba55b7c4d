"""Building graphs without a server: ids, specs and configs, the session stack, errors."""

import os

import pytest

from offline_helpers import recording_session
from rain.client import (DataObject, Input, InputDir, Output, OutputDir, Program, RainException,
                         Session, Task, blob, directory, pickled, tasks)
from rain.client.rpc.common import DataObjectState, TaskState
from rain.client.session import get_active_session
from rain.common import ID, DataType, LabeledList
from rain.common.attributes import TaskSpecInput


@pytest.fixture
def session():
    with Session(None, 1) as s:
        yield s


# --- ids and the session stack --------------------------------------------------------------

def test_ids_start_at_10_and_are_shared_by_tasks_and_objects(session):
    a = blob(b"a")
    b = blob(b"b")
    t = tasks.Concat((a, b))
    assert (a.id, b.id) == (ID(1, 10), ID(1, 11))
    assert t.id == ID(1, 12) and t.output.id == ID(1, 13)
    assert isinstance(t.id, ID) and t.id.session_id == 1 and t.id.id == 12
    assert tasks.Concat((a, b)).id == ID(1, 14)
    other = Session(None, 2)
    assert blob(b"x").id == ID(1, 16)
    with other:
        assert blob(b"y").id == ID(2, 10)


def test_no_active_session_raises():
    with pytest.raises(RainException, match="no active session"):
        get_active_session()
    with pytest.raises(RainException, match="no active session"):
        blob(b"x")


def test_with_stacks_sessions_and_closes_them():
    a = Session(None, 1)
    b = Session(None, 2)
    with a:
        assert get_active_session() is a
        with b:
            assert get_active_session() is b
        assert not b.active
        assert get_active_session() is a
    assert not a.active
    with pytest.raises(RainException, match="no active session"):
        get_active_session()
    with pytest.raises(RainException, match="is closed"):
        with a:
            pass


def test_bind_only_does_not_close():
    s = Session(None, 3)
    with s.bind_only() as bound:
        assert bound is s and get_active_session() is s
    assert s.active
    with pytest.raises(RainException, match="no active session"):
        get_active_session()
    s.close()
    with pytest.raises(RainException, match="is closed"):
        with s.bind_only():
            pass


def test_default_session_is_active_when_stack_is_empty():
    default = Session(None, 4)
    default.set_as_default()
    assert get_active_session() is default
    with Session(None, 5) as other:
        assert get_active_session() is other
    assert get_active_session() is default
    default.close()
    with pytest.raises(RainException, match="no active session"):
        get_active_session()


def test_closing_an_entered_session_leaves_it_on_the_stack():
    outer = Session(None, 1)
    with outer:
        inner = Session(None, 2)
        with inner.bind_only():
            inner.close()
            assert get_active_session() is inner
            with pytest.raises(RainException, match="closed"):
                blob(b"x")
            with pytest.raises(RainException, match="is closed"):
                DataObject(session=inner)
        assert get_active_session() is outer


def test_counts_of_unsubmitted(session):
    assert session.task_count == 0 and session.dataobj_count == 0
    tasks.Concat((blob(b"a"), blob(b"b")))
    assert session.task_count == 1 and session.dataobj_count == 3


def test_offline_session_cannot_submit_but_closes(session):
    blob(b"x")
    with pytest.raises(RainException, match="is offline \\(it has no client\\)"):
        session.submit()
    session.close()
    assert not session.active


# --- tasks -----------------------------------------------------------------------------------

def test_concat_spec(session):
    a, b = blob(b"a", label="first"), blob("b")
    t = tasks.Concat([a, b], name="joined")
    assert t.spec.task_type == "buildin/concat" and t.task_type == "buildin/concat"
    assert t.spec.config is None and t.spec.name == "joined"
    assert t.spec.inputs == [TaskSpecInput(a.id), TaskSpecInput(b.id)]
    assert t.spec.outputs == [t.output.id]
    assert t.spec.resources == {"cpus": 1}
    assert t.output.data_type == DataType.BLOB
    assert t.state is None and t.info is None
    assert t.spec.to_json() == {
        "id": (1, 12), "task_type": "buildin/concat",
        "inputs": [{"id": (1, 10)}, {"id": (1, 11)}], "outputs": [(1, 13)],
        "resources": {"cpus": 1}, "name": "joined"}


def test_sleep_keeps_data_and_content_type(session):
    t = tasks.Sleep(blob("x", content_type="json"), 1.0, cpus=2)
    assert t.spec.task_type == "buildin/sleep"
    assert t.spec.config == {"seconds": 1.0}
    assert t.spec.resources["cpus"] == 2
    assert t.output.content_type == "json" and t.output.data_type == DataType.BLOB
    d = tasks.Sleep(directory(os.path.dirname(__file__)), 0)
    assert d.output.data_type == DataType.DIRECTORY and d.spec.config == {"seconds": 0}
    with pytest.raises(RainException, match="Sleep needs a number of seconds >= 0, not -1"):
        tasks.Sleep(blob(b"x"), -1)


def test_sleep_of_a_task_uses_its_output(session):
    first = tasks.Sleep(blob(b"x"), 0.5)
    second = tasks.Sleep(first, 0.5)
    assert second.spec.inputs[0].id == first.output.id


def test_load_loaddir_store(session):
    load = tasks.Load("/data/in.txt", content_type="text", name="load")
    assert (load.spec.task_type, load.spec.config) == ("buildin/open", {"path": "/data/in.txt"})
    assert load.output.content_type == "text" and load.spec.name == "load"
    load_dir = tasks.LoadDir("/data/dir")
    assert load_dir.spec.task_type == "buildin/open_dir"
    assert load_dir.spec.config == {"path": "/data/dir"}
    assert load_dir.output.data_type == DataType.DIRECTORY
    store = tasks.Store(load, "/data/out.txt")
    assert store.spec.task_type == "buildin/export"
    assert store.spec.config == {"path": "/data/out.txt"}
    assert store.spec.inputs[0].id == load.output.id and len(store.outputs) == 0
    with pytest.raises(RainException, match="has 0 outputs, not exactly one"):
        store.output
    # Relative paths are accepted here and fail when the task runs (Rain 0.4).
    assert tasks.Load("relative/x").spec.config == {"path": "relative/x"}
    assert tasks.LoadDir("dir").spec.config == {"path": "dir"}
    assert tasks.Store(load, "out.txt").spec.config == {"path": "out.txt"}
    for make in (lambda: tasks.Load(None), lambda: tasks.LoadDir(5),
                 lambda: tasks.Store(load, b"/out")):
        with pytest.raises(RainException, match="needs a path"):
            make()


def test_make_directory_from_pairs_or_dict(session):
    a, d = blob(b"a"), directory(os.path.dirname(__file__))
    t = tasks.MakeDirectory([("myfile.txt", a), ("adir", d), ("a/deep/path/x", a)])
    assert t.spec.task_type == "buildin/make_directory"
    assert t.spec.config == {"paths": ["myfile.txt", "adir", "a/deep/path/x"]}
    assert [i.id for i in t.spec.inputs] == [a.id, d.id, a.id]
    assert t.output.data_type == DataType.DIRECTORY
    t2 = tasks.MakeDirectory({"x": a, "y/z": d})
    assert t2.spec.config == {"paths": ["x", "y/z"]}
    for bad in ("/abs", "a/../b", ""):
        with pytest.raises(RainException, match="MakeDirectory") as error:
            tasks.MakeDirectory([(bad, a)])
        assert repr(bad) in str(error.value) or bad == ""


def test_slice_directory(session):
    d = directory(os.path.dirname(__file__))
    file_slice = tasks.SliceDirectory(d, "a/deep/path/x", content_type="text")
    assert file_slice.spec.task_type == "buildin/slice_directory"
    assert file_slice.spec.config == {"path": "a/deep/path/x"}
    assert file_slice.output.data_type == DataType.BLOB
    assert file_slice.output.content_type == "text"
    dir_slice = tasks.SliceDirectory(d, "a/deep/")
    assert dir_slice.output.data_type == DataType.DIRECTORY
    with pytest.raises(RainException, match="SliceDirectory takes a directory, but .* is a blob"):
        tasks.SliceDirectory(blob(b"x"), "a")
    with pytest.raises(RainException, match="path '/abs' must be relative"):
        tasks.SliceDirectory(d, "/abs")


def test_concat_refuses_directories(session):
    with pytest.raises(RainException, match="Concat takes blobs, but .* is a directory"):
        tasks.Concat([directory(os.path.dirname(__file__))])


def test_output_requires_exactly_one(session):
    t = Task((), 2, task_type="x/y")
    with pytest.raises(RainException, match="has 2 outputs, not exactly one"):
        t.output
    assert len(t.outputs) == 2


def test_user_task_subclass(session):
    class Hello(Task):
        TASK_TYPE = "example1/hello"

        def __init__(self, obj):
            super().__init__(inputs=(obj,), outputs=1)

    t = Hello(blob("Hello world"))
    assert t.spec.task_type == "example1/hello"
    assert len(t.outputs) == 1 and t.output.data_type == DataType.BLOB


def test_task_outputs_in_every_form(session):
    given = DataObject("given", session=session)
    t = Task([blob(b"in")], ["a", Output("b", content_type="json"), OutputDir("c"), given],
             task_type="x/y", cpus=3, name="n", user_spec={"k": 1}, config={"c": 1})
    assert isinstance(t.outputs, LabeledList)
    assert t.outputs.labels == ["a", "b", "c", "given"]
    assert t.outputs["b"].content_type == "json"
    assert t.outputs["c"].data_type == DataType.DIRECTORY
    assert t.outputs["given"] is given
    assert t.spec.resources == {"cpus": 3} and t.spec.user == {"k": 1}
    t.spec.user["more"] = [1, 2]
    assert t.spec.to_json()["user"] == {"k": 1, "more": [1, 2]}
    assert t.spec.config == {"c": 1}
    with pytest.raises(KeyError, match="duplicate output label 'same'"):
        Task((), ["same", "same"], task_type="x/y")
    with pytest.raises(RainException, match="cannot be an output: it is a constant"):
        Task((), [blob(b"constant")], task_type="x/y")
    with pytest.raises(RainException, match="cannot be an output: .* already produced"):
        Task((), [given], task_type="x/y")  # already produced by t
    with pytest.raises(TypeError, match="an output must be a label, .* not 3.5"):
        Task((), [3.5], task_type="x/y")


def test_task_inputs_with_labels(session):
    a, b = blob(b"a"), blob(b"b")
    t = Task(LabeledList([a, b], labels=["first", None]), 0, task_type="x/y")
    assert t.spec.inputs == [TaskSpecInput(a.id, "first"), TaskSpecInput(b.id)]
    assert t.inputs["first"] is a
    t2 = Task([Input("lab", dataobj=a)], 0, task_type="x/y")
    assert t2.spec.inputs == [TaskSpecInput(a.id, "lab")]


def test_task_errors(session):
    with pytest.raises(RainException, match="has no task type"):
        Task((), 1)  # no task type
    with pytest.raises(RainException, match="cpus must be a positive integer, not 0"):
        Task((), 1, task_type="x/y", cpus=0)
    with pytest.raises(TypeError, match="expected a DataObject or a Task with one output"):
        tasks.Concat(["not an object"])
    with Session(None, 9):
        foreign = blob(b"elsewhere")
    with pytest.raises(RainException, match="belongs to another session than the task"):
        tasks.Concat([foreign])
    # Failed constructions leave nothing half-registered behind.
    assert session.task_count == 0


def test_creation_site_is_the_users_line(session):
    t = tasks.Concat([blob(b"x")])  # the site
    filename, line, function = t._site
    assert filename == __file__ and function == "test_creation_site_is_the_users_line"
    with open(__file__) as f:
        assert "# the site" in f.read().splitlines()[line - 1]


# --- Execute and Program ---------------------------------------------------------------------

def test_execute_simple_forms(session):
    t = tasks.Execute("sleep 1")
    assert t.spec.task_type == "buildin/run"
    assert t.spec.config == {"args": ["sleep", "1"], "in_paths": [], "out_paths": []}
    assert len(t.outputs) == 0 and len(t.inputs) == 0
    assert tasks.Execute(("sleep", "1")).spec.config["args"] == ["sleep", "1"]
    assert tasks.Execute("echo 'a b'  c").spec.config["args"] == ["echo", "a b", "c"]
    shell = tasks.Execute("sleep 1 && sleep 1", shell=True)
    assert shell.spec.config["args"] == ["/bin/sh", "-c", "sleep 1 && sleep 1"]
    shell_list = tasks.Execute(["echo", "x", ">", "y"], shell=True)
    assert shell_list.spec.config["args"] == ["/bin/sh", "-c", "echo x > y"]
    assert tasks.Execute("a-parallel-program", cpus=4).spec.resources == {"cpus": 4}
    assert tasks.Execute(["seq", 3]).spec.config["args"] == ["seq", "3"]


def test_execute_stdout_forms(session):
    for stdout, label in ((True, "stdout"), ("my_label", "my_label"),
                          (Output("my_label", content_type="text"), "my_label")):
        t = tasks.Execute("ls /", stdout=stdout)
        assert t.outputs.labels == [label]
        assert t.spec.config["out_paths"] == ["+out"]
    assert t.output.content_type == "text"
    with pytest.raises(RainException, match="the stdout Output cannot have a path"):
        tasks.Execute("ls /", stdout=Output("x", path="file"))


def test_execute_stdin(session):
    data = blob(b"It is\nrainy day\n")
    t = tasks.Execute(["grep", "rain"], stdin=data, stdout=True)
    assert t.spec.config["in_paths"] == [{"path": "+in", "write": False}]
    assert t.spec.inputs == [TaskSpecInput(data.id, "stdin")]
    t2 = tasks.Execute("cat", stdin=Input("mine", dataobj=data, write=True))
    assert t2.spec.config["in_paths"] == [{"path": "+in", "write": True}]
    assert t2.spec.inputs[0].label == "mine"
    with pytest.raises(RainException, match="the stdin Input cannot have a path"):
        tasks.Execute("cat", stdin=Input("x", path="file", dataobj=data))


def test_execute_data_objects_in_args_get_unique_random_names(session):
    a, b = blob(b"a"), blob(b"b")
    t = tasks.Execute(["cat", a, b, a], stdout=True)
    args = t.spec.config["args"]
    paths = [p["path"] for p in t.spec.config["in_paths"]]
    assert args[0] == "cat" and args[1:] == paths
    assert len(set(paths)) == 3
    assert all(p and not p.startswith("/") and "/" not in p for p in paths)
    assert [i.id for i in t.spec.inputs] == [a.id, b.id, a.id]


def test_execute_full_ordering(session):
    stdin_obj, path_obj, arg_obj, input_obj, dir_obj = (blob(b"1"), blob(b"2"), blob(b"3"),
                                                         blob(b"4"),
                                                         directory(os.path.dirname(__file__)))
    t = tasks.Execute(
        ["prog", arg_obj, Input("inp", path="in.txt", dataobj=input_obj), Output("log"),
         InputDir("tree", dataobj=dir_obj), OutputDir("outdir")],
        stdout="out", stdin=stdin_obj,
        input_paths=[Input("mapped", path="mapped.txt", dataobj=path_obj, write=True)],
        output_paths=["index.html", Output("res", path="result.bin", content_type="json")])
    config = t.spec.config
    random_name = config["args"][1]
    assert config["args"] == ["prog", random_name, "in.txt", "log", "tree", "outdir"]
    assert config["in_paths"] == [
        {"path": "+in", "write": False}, {"path": "mapped.txt", "write": True},
        {"path": random_name, "write": False}, {"path": "in.txt", "write": False},
        {"path": "tree", "write": False}]
    assert [i.id for i in t.spec.inputs] == [stdin_obj.id, path_obj.id, arg_obj.id,
                                             input_obj.id, dir_obj.id]
    assert [i.label for i in t.spec.inputs] == ["stdin", "mapped", None, "inp", "tree"]
    assert config["out_paths"] == ["+out", "index.html", "result.bin", "log", "outdir"]
    assert t.outputs.labels == ["out", "index.html", "res", "log", "outdir"]
    assert t.outputs["res"].content_type == "json"
    assert t.outputs["outdir"].data_type == DataType.DIRECTORY
    assert t.inputs["tree"] is dir_obj


def test_execute_old_argument_names(session):
    t = tasks.Execute(("split", "-n", "2", blob(b"x")), output_files=["x00", "x01"])
    assert t.outputs.labels == ["x00", "x01"]
    t2 = tasks.Execute("cat f", input_files=[Input("f", dataobj=blob(b"y"))], stdout=True)
    assert t2.spec.config["in_paths"] == [{"path": "f", "write": False}]


def test_execute_errors(session):
    d = directory(os.path.dirname(__file__))
    with pytest.raises(RainException, match="has no data object"):
        tasks.Execute("x", input_paths=[Input("a")])  # no data
    with pytest.raises(RainException, match="input_paths takes Input/InputDir"):
        tasks.Execute("x", input_paths=[blob(b"no path")])
    with pytest.raises(RainException, match="Input needs a blob object, but .* is a dir"):
        Input("x", dataobj=d)  # a directory in a blob Input
    with pytest.raises(RainException, match="path 'same' is used twice"):
        tasks.Execute(["x", Output("same")], output_paths=["same"])
    with pytest.raises(TypeError, match="Execute argument must be a str, .* or an Output"):
        tasks.Execute(["x", object()])


def test_program(session):
    rain_grep = Program(["grep", "rain", Input("my_input", path="my_file")], stdout=True)
    data = blob(b"It is\nrainy day\n")
    t = rain_grep(my_input=data)
    assert isinstance(t, tasks.Execute)
    assert t.spec.config == {"args": ["grep", "rain", "my_file"],
                             "in_paths": [{"path": "my_file", "write": False}],
                             "out_paths": ["+out"]}
    assert t.spec.inputs == [TaskSpecInput(data.id, "my_input")]
    t2 = rain_grep(my_input=blob(b"again"))
    assert t2.id != t.id and t2.output is not t.output
    with pytest.raises(KeyError, match="my_input"):
        rain_grep()
    # A keyword naming no input is ignored.
    t3 = rain_grep(my_input=data, unknown=data)
    assert t3.spec.inputs == [TaskSpecInput(data.id, "my_input")]


def test_program_patterns(session):
    train = Program(("svm-train", Input("data"), Output("output")))
    predict = Program(("svm-predict", Input("testdata"), Input("model"), Output("prediction")),
                      stdout=Output("accuracy"), stdin=Input("feed"),
                      input_paths=[Input("cfg", path="config.txt")], name="predict", cpus=2)
    model = train(data=blob(b"d"))
    assert model.spec.config["args"] == ["svm-train", "data", "output"]
    assert model.output.label == "output"
    p = predict(model=model, testdata=blob(b"t"), feed=blob(b"f"), cfg=blob(b"c"))
    assert p.spec.name == "predict" and p.spec.resources == {"cpus": 2}
    assert [i.label for i in p.spec.inputs] == ["feed", "cfg", "testdata", "model"]
    assert p.outputs.labels == ["accuracy", "prediction"]
    assert p.spec.inputs[3].id == model.output.id
    with pytest.raises(RainException, match="a Program's inputs are Inputs without data"):
        Program(["cat", blob(b"data is session-bound")])
    with pytest.raises(RainException, match="every Input of a Program needs a label"):
        Program(["cat", Input(path="no-label")])


def test_execute_directories_paths_and_content_types(session):
    d = directory(os.path.dirname(__file__))
    t = tasks.Execute(["ls", d, Input("f", dataobj=blob(b"x"), content_type="text")])
    assert t.inputs[0] is d and t.spec.config["in_paths"][0]["write"] is False
    assert t.spec.config["in_paths"][1] == {"path": "f", "write": False, "content_type": "text"}
    with pytest.raises(RainException, match="json"):
        tasks.Execute(["cat", Input("x", dataobj=blob(b"1", encode="pickle"), content_type="json")])
    tasks.Execute(["cat", Input("x", dataobj=blob("ž", content_type="text-latin2"),
                                content_type="text")])
    for bad in ("../up", "a/../../up", "/abs/path", "", ".", "./"):
        with pytest.raises(RainException, match="^Execute: (a file path|path )"):
            tasks.Execute("true", output_paths=[Output("o", path=bad)])
        with pytest.raises(RainException, match="^Execute: (a file path|path )"):
            tasks.Execute("true", input_paths=[Input("i", path=bad, dataobj=blob(b"x"))])
    with pytest.raises(RainException, match="used twice"):
        tasks.Execute("true", output_paths=["a", Output("b", path="./a")])
    with pytest.raises(RainException, match="stdin must be a blob, not the directory"):
        tasks.Execute("cat", stdin=d)
    with pytest.raises(RainException, match="stdout is a blob, not a directory"):
        tasks.Execute("ls", stdout=OutputDir("x"))
    # A writable input may be passed on as an output under the same path.
    inplace = tasks.Execute("sed -i s/a/b/ f", output_paths=["f"],
                            input_paths=[Input("f", dataobj=blob(b"a"), write=True)])
    assert (inplace.spec.config["in_paths"][0]["path"], inplace.spec.config["out_paths"]) == \
        ("f", ["f"])


def test_execute_is_named_only_by_name(session):
    assert tasks.Execute("sleep 1").name is None
    assert tasks.Execute(["/usr/bin/svm-train", "x"]).spec.name is None
    assert tasks.Execute("sleep 1 && echo", shell=True).name is None
    assert tasks.Execute("true", name="mine").name == "mine"


# --- constants -------------------------------------------------------------------------------

def test_blob_forms(session):
    raw = blob(b"Raw data")
    assert raw.data == b"Raw data" and raw.spec.label == "const" and raw.content_type is None
    assert blob(b"Raw data", label="input data").spec.label == "input data"
    text = blob("String data")
    assert text.data == b"String data" and text.content_type == "text"
    assert blob("[1, 2, 3, 4]", content_type="json").content_type == "json"
    latin = blob("žluť", content_type="text-latin2")
    assert latin.data == "žluť".encode("latin2")
    js = blob([1, 2, 3, 4], encode="json")
    assert js.data == b"[1, 2, 3, 4]" and js.content_type == "json"
    pk = blob([1, 2, 3, 4], encode="pickle")
    assert pk.content_type == "pickle"
    p = pickled([1, 2, 3, 4])
    assert p.data == pk.data and p.content_type == "pickle" and p.spec.label == "pickle"
    assert blob(bytearray(b"ba")).data == b"ba"
    for bad in (lambda: blob([1, 2]), lambda: blob(123), lambda: blob({"a"}, encode="json"),
                lambda: blob(b"x", content_type="json", encode="pickle")):
        with pytest.raises(Exception) as error:
            bad()
        assert isinstance(error.value, (RainException, TypeError))
    with pytest.raises(ValueError, match="unknown content type 'no-such-type'"):
        blob(b"x", content_type="no-such-type")


def test_directory_constant(session, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "f.txt").write_bytes(b"hello")
    (tmp_path / "empty").mkdir()
    d = directory(str(tmp_path))
    assert d.data_type == DataType.DIRECTORY and d.spec.label == "const_dir"
    import io
    import tarfile
    names = tarfile.open(fileobj=io.BytesIO(d.data)).getnames()
    assert sorted(names) == ["a", "a/f.txt", "empty"]
    with pytest.raises(RainException, match="is not a directory"):
        directory(str(tmp_path / "a" / "f.txt"))


# --- submit (recorded, no server) ------------------------------------------------------------

def test_submit_payload_and_states():
    s = recording_session(7)
    with s:
        a = blob(b"Hello ", label="h")
        b = blob("world!")
        t = tasks.Concat((a, b))
        t.output.keep()
        t.spec.user["tag"] = "x"
        s.submit()
    (sid, header, data), = s.client._api.submits
    assert sid == 7 and data == b"Hello world!"
    assert header == {
        "tasks": [{"id": [7, 12], "task_type": "buildin/concat",
                   "inputs": [{"id": [7, 10]}, {"id": [7, 11]}], "outputs": [[7, 13]],
                   "resources": {"cpus": 1}, "user": {"tag": "x"}}],
        "objects": [
            {"spec": {"id": [7, 10], "data_type": "blob", "label": "h"}, "data_size": 6},
            {"spec": {"id": [7, 11], "data_type": "blob", "label": "const",
                      "content_type": "text"}, "data_size": 6},
            {"spec": {"id": [7, 13], "data_type": "blob"}, "keep": True},
        ]}
    assert t.state == TaskState.notAssigned and t.info is None
    assert t.output.state == DataObjectState.unfinished
    assert s.task_count == 0 and s.dataobj_count == 0


def test_client_side_errors_around_submit():
    s = recording_session()
    with s:
        obj = blob(b"x")
        kept = blob(b"y")
        kept.keep()
        t = tasks.Sleep(obj, 0)
        pending = tasks.Sleep(blob(b"z"), 0)
        with pytest.raises(RainException, match="not submitted"):
            s.wait([pending])
        with pytest.raises(RainException, match="not submitted"):
            s.wait([pending.output])
        with pytest.raises(RainException, match="it was not submitted"):
            pending.output.fetch()  # unsubmitted
        with pytest.raises(TypeError, match="cannot wait for 'not a task'"):
            s.wait(["not a task"])
        with pytest.raises(RainException, match="not kept"):
            obj.unkeep()
        s.submit()
        with pytest.raises(RainException, match="submitted"):
            obj.keep()
        with pytest.raises(RainException, match="not kept"):
            t.output.fetch()
        with pytest.raises(RainException, match="not kept"):
            s.unkeep([obj])
        tasks.Concat([kept])  # kept: may be reused
        s.submit()
        tasks.Concat([obj])  # an unkept constant: the server keeps it until the session closes
        s.submit()
        tasks.Concat([t.output])  # an unkept task output: may not be reused
        with pytest.raises(RainException, match="uses .* from an earlier submit that is not kept"):
            s.submit()


def test_unkeep_before_submit_is_local():
    s = recording_session()
    with s:
        obj = blob(b"x")
        obj.keep()
        assert obj.is_kept()
        obj.unkeep()
        assert not obj.is_kept()
        s.keep_all()
        assert obj.is_kept()
        t = tasks.Concat([obj])
        t.keep_outputs()
        assert t.output.is_kept()
        t.unkeep_outputs()
        assert not t.output.is_kept()

"""Python tasks (@remote / Remote) run by the `py` executor of real governors."""

import os
import pickle

import pytest

from rain.client import (Input, Output, OutputDir, RainException, RainWarning, Remote, Session,
                         Task, TaskException, blob, pickled, remote, tasks)
from rain.common import DataInstance, LabeledList
from rain_testing import wait_until


class Holder:
    """A user object carrying data objects (pickled by reference: tests/ is on the executor's
    PYTHONPATH)."""

    def __init__(self, items):
        self.items = items


def test_data_objects_anywhere_in_arguments_become_inputs(client):
    @remote()
    def gather(ctx, holder, mapping, get_d, again):
        assert all(isinstance(i, DataInstance) for i in holder.items)
        parts = [i.get_bytes() for i in holder.items]
        parts += [mapping["k"][0].get_bytes(), get_d(), again.get_bytes()]
        return b",".join(parts)

    with client.new_session() as session:
        a, b, c, d = blob(b"a"), blob(b"b"), blob(b"c"), blob(b"d")
        t = gather(Holder([a, b]), {"k": (c,)}, lambda: d.get_bytes(), a)
        assert t.spec.task_type == "py/"
        assert t.spec.name == "gather"
        # The function, then every distinct data object in order of appearance.
        assert [o.id for o in t.inputs][1:] == [a.id, b.id, c.id, d.id]
        assert t.inputs[0].content_type == "cloudpickle"
        assert t.inputs[0].is_kept()
        t.output.keep()
        session.submit()
        assert t.output.fetch().get_bytes() == b"a,b,c,d,a"


def test_generators_and_tasks_as_arguments(client):
    @remote()
    def total(ctx, numbers, text):
        return str(sum(numbers)) + text.get_str()

    @remote()
    def word(ctx):
        return "!"

    with client.new_session() as session:
        t = total((x * x for x in range(4)), word())
        t.output.keep()
        session.submit()
        assert t.output.fetch().get_bytes() == b"14!"


def test_loading_inputs_and_their_content_types(client):
    @remote(inputs={"data": Input(load=True)})
    def explicit(ctx, data, raw):
        return pickle.dumps((data, raw.load()))

    @remote(auto_load=True)
    def auto(ctx, first, second):
        return pickle.dumps((first, second))

    @remote()
    def annotated(ctx, data: Input(content_type="json", load=True)):
        return pickle.dumps(data)

    @remote(inputs=[Input(content_type="json")])
    def strict(ctx, data):
        return b""

    with client.new_session() as session:
        j = blob([1, 2], encode="json")
        p = pickled({"x": 1})
        untyped = blob(b'{"y": 2}')
        results = [explicit(j, p), auto(j, p), annotated(untyped)]
        for t in results:
            t.output.keep()
        session.submit()
        assert pickle.loads(results[0].output.fetch().get_bytes()) == ([1, 2], {"x": 1})
        assert pickle.loads(results[1].output.fetch().get_bytes()) == ([1, 2], {"x": 1})
        # An input without a content type gets the asked one.
        assert pickle.loads(results[2].output.fetch().get_bytes()) == {"y": 2}

    with client.new_session() as session:
        strict(blob("text"))
        session.submit()
        with pytest.raises(TaskException, match="content type 'text', but 'json' was asked"):
            session.wait_all()


def test_outputs_by_count_labels_outputs_and_annotations(client):
    @remote(outputs=2)
    def two(ctx):
        return (b"first", "second")

    @remote(outputs=("label1", "label2"))
    def labelled(ctx):
        return {"label1": b"data1", "label2": b"data2"}

    @remote(outputs=(Output(content_type="json"), Output(encode="pickle")))
    def typed(ctx):
        return ("[1, 2, 3]", {"x": 123})

    @remote()
    def hinted(ctx) -> Output(encode="json", label="result"):
        return {"a": [1]}

    @remote(auto_encode="pickle")
    def encoded(ctx):
        return {1, 2}

    @remote(outputs=0)
    def nothing(ctx):
        pass

    with client.new_session() as session:
        t2, tl, tt, th, te, tn = two(), labelled(), typed(), hinted(), encoded(), nothing()
        assert [o.label for o in t2.outputs] == ["out0", "out1"]
        assert [o.label for o in tl.outputs] == ["label1", "label2"]
        assert [o.content_type for o in tt.outputs] == ["json", "pickle"]
        assert th.output.label == "result" and th.output.content_type == "json"
        assert te.output.content_type == "pickle"
        assert len(tn.outputs) == 0
        for t in (t2, tl, tt, th, te):
            t.keep_outputs()
        session.submit()
        assert [o.fetch().get_bytes() for o in t2.outputs] == [b"first", b"second"]
        assert t2.outputs[1].fetch().content_type == "text"
        assert t2.outputs[0].fetch().content_type is None
        assert tl.outputs["label2"].fetch().get_bytes() == b"data2"
        assert tt.outputs[0].fetch().load() == [1, 2, 3]
        assert tt.outputs[1].fetch().load() == {"x": 123}
        assert th.output.fetch().load() == {"a": [1]}
        assert te.output.fetch().load() == {1, 2}
        tn.wait()


def test_per_call_output_overrides_merge_with_the_declaration(client):
    @remote(outputs=(Output("a", encode="json"), "b"))
    def pair(ctx, x):
        return (x, str(x))

    @remote()
    def single(ctx):
        return [3]

    with client.new_session() as session:
        t = pair(5, outputs=("renamed", Output(content_type="text")))
        assert [o.label for o in t.outputs] == ["renamed", "b"]
        assert t.outputs[0].content_type == "json"
        s = single(output=Output(encode="pickle"))
        assert s.output.content_type == "pickle"
        t.keep_outputs()
        s.keep_outputs()
        session.submit()
        assert t.outputs["renamed"].fetch().load() == 5
        assert t.outputs["b"].fetch().get_str() == "5"
        assert s.output.fetch().load() == [3]


def test_returning_data_instances_and_bad_values(client):
    @remote(outputs=3)
    def instances(ctx, passed):
        made = ctx.blob(b"[7]", content_type="json")
        made.info.user["made"] = True
        return LabeledList([made, passed, ctx.pickled((1, 2))])

    @remote()
    def wrong(ctx):
        return 42

    with client.new_session() as session:
        source = blob(b"passed through", content_type="text")
        t = instances(source)
        t.keep_outputs()
        session.submit()
        assert t.outputs[0].fetch().load() == [7]
        assert t.outputs[0].info.user == {"made": True}
        passed = t.outputs[1].fetch()
        assert passed.get_bytes() == b"passed through" and passed.content_type == "text"
        assert t.outputs[2].fetch().load() == (1, 2)

    with client.new_session() as session:
        wrong()
        session.submit()
        with pytest.raises(TaskException, match="cannot return a value of type int"):
            session.wait_all()


def test_context_files_directories_and_attributes(client):
    @remote(outputs=(Output("file", content_type="text"), OutputDir("dir"), "info"))
    def files(ctx, data, directory):
        assert os.listdir(".") == []
        data.write("copy.txt")
        with open("copy.txt", "a") as f:
            f.write(" and more")
        data.link("linked")
        os.makedirs("out/sub")
        directory.link("linked-dir")
        with open("out/sub/x.txt", "w") as f:
            f.write("x")
        ctx.info.user["answer"] = ctx.spec.user["question"] * 2
        ctx.debug("governor {}", ctx.info.governor)
        facts = {
            "function": ctx.function.__name__,
            "link_mode": oct(os.stat("linked").st_mode & 0o777),
            "dir_listing": sorted(os.listdir("linked-dir")),
        }
        return (ctx.stage_file("copy.txt"), ctx.stage_directory("out"), repr(facts))

    with client.new_session() as session:
        big = blob(b"y" * (300 * 1024))  # stored as a read-only file on the governor
        d = tasks.MakeDirectory([("f.txt", blob(b"f"))])
        t = files(big, d)
        t.spec.user["question"] = 21
        t.keep_outputs()
        session.submit()
        assert t.outputs["file"].fetch().get_bytes() == b"y" * (300 * 1024) + b" and more"
        listing = t.outputs["dir"].fetch()
        assert listing.data_type.value == "dir"
        facts = eval(t.outputs["info"].fetch().get_str())
        assert facts == {"function": "files", "link_mode": "0o444", "dir_listing": ["f.txt"]}
        t.update()
        assert t.info.user == {"answer": 42}
        assert t.info.debug == "governor {}".format(t.info.governor)
        assert t.info.governor and t.info.start_time and t.info.duration > 0


def test_large_inputs_and_outputs(client):
    @remote(outputs=("doubled", "relinked"))
    def big(ctx, data):
        assert data._path is not None  # a large input arrives as a read-only file
        data.link("l")
        return data.get_bytes() * 2, ctx.stage_file("l")

    with client.new_session() as session:
        payload = bytes(range(256)) * 8192  # 2 MiB
        t = big(blob(payload))
        t.keep_outputs()
        session.submit()
        assert t.outputs["doubled"].fetch().get_bytes() == payload * 2
        assert t.outputs["relinked"].fetch().get_bytes() == payload


def test_exceptions_report_the_traceback_and_debug_text(client):
    @remote()
    def remote_fn(ctx):
        a = 11
        b = a + 10
        ctx.debug("Variable a = {}", a)
        ctx.debug("Variable b = {}", b)
        raise Exception("Error occured!")

    with client.new_session() as session:
        remote_fn()
        session.submit()
        with pytest.raises(TaskException) as info:
            session.wait_all()
    text = str(info.value)
    assert "Traceback (most recent call last)" in text
    assert 'in remote_fn\n    raise Exception("Error occured!")' in text
    assert "Exception: Error occured!" in text
    assert "Debug:\nVariable a = 11\nVariable b = 21" in text
    assert "test_python_tasks.py" in text  # where the task was created
    assert "rain/executor" not in text  # no executor internals


def test_oversized_arguments_and_misuse_are_client_errors():
    session = Session(None, 1)

    @remote()
    def f(ctx, x):
        return b""

    with session.bind_only():
        with pytest.raises(RainWarning, match=r"^Pickled object x length \d+ > 262144"):
            f(b"x" * (300 * 1024))
        with pytest.raises(TypeError):
            f()
        with pytest.raises(TypeError):
            f(1, 2)
        with pytest.raises(RainException, match="context"):
            remote()(lambda: None)
        t = Remote(lambda ctx, n: b"", cpus=3, name="named")(1)
        assert t.spec.resources == {"cpus": 3} and t.spec.name == "named"
        # The function object is created once per session.
        assert f(1).inputs[0] is f(2).inputs[0]


def test_cpus_and_unknown_task_types(client):
    @remote(cpus=2)
    def wide(ctx):
        return str(len(os.sched_getaffinity(0)) >= 1)

    with client.new_session() as session:
        t = wide()
        t.output.keep()
        session.submit()
        assert t.output.fetch().get_bytes() == b"True"
    with client.new_session() as session:
        Task(task_type="py/nope", outputs=1)
        session.submit()
        with pytest.raises(TaskException, match="no method 'nope'"):
            session.wait_all()
    with client.new_session() as session:
        Task(task_type="nosuch/x", outputs=1)
        session.submit()
        with pytest.raises(TaskException, match="executor 'nosuch' is not available"):
            session.wait_all()


def test_executor_and_cached_function_are_reused(rain_cluster):
    cluster = rain_cluster(governors=[1])
    client = cluster.client()

    @remote()
    def count(ctx):
        fn = ctx.function
        fn.calls = getattr(fn, "calls", 0) + 1  # on the executor's cached function object
        return "{} {}".format(os.getpid(), fn.calls)

    with client.new_session() as session:
        ts = [count() for _ in range(30)]
        for t in ts:
            t.output.keep()
        session.submit()
        answers = [t.output.fetch().get_str().split() for t in ts]
    assert len({pid for pid, _ in answers}) == 1
    assert sorted(int(n) for _, n in answers) == list(range(1, 31))


def test_closing_a_session_kills_a_long_python_task(rain_cluster):
    cluster = rain_cluster(governors=[1])
    client = cluster.client()
    marker = os.path.join(cluster.workspace, "pid")

    @remote()
    def long(ctx, path):
        with open(path + ".tmp", "w") as f:
            f.write(str(os.getpid()))
        os.rename(path + ".tmp", path)
        import time
        time.sleep(120)

    @remote()
    def quick(ctx):
        return str(os.getpid())

    session = client.new_session()
    with session.bind_only():
        long(marker)
    session.submit()
    assert wait_until(lambda: os.path.exists(marker), timeout=30)
    pid = int(open(marker).read())
    session.close()
    assert wait_until(lambda: not _alive(pid), timeout=10)
    with client.new_session() as other:
        t = quick()
        t.output.keep()
        other.submit()
        assert int(t.output.fetch().get_str()) != pid


def test_an_executor_that_exits_at_once_fails_the_task(rain_cluster):
    cluster = rain_cluster(governors=[1], executors={
        "bad": "/bin/sh -c 'echo starting up; echo no luck >&2; exit 3'"})
    client = cluster.client()
    with client.new_session() as session:
        Task(task_type="bad/x", outputs=1)
        session.submit()
        with pytest.raises(TaskException) as info:
            session.wait_all()
    text = str(info.value)
    assert "exited before registering (exit code 3)" in text
    assert "stdout (last lines):\nstarting up" in text
    assert "stderr (last lines):\nno luck" in text
    _governor_carries_on(client)


def test_a_crash_mid_task_fails_the_task_and_the_governor_carries_on(rain_cluster):
    cluster = rain_cluster(governors=[1])
    client = cluster.client()

    @remote()
    def crash(ctx):
        import sys
        print("stdout before the crash")
        print("stderr before the crash", file=sys.stderr)
        os._exit(9)

    with client.new_session() as session:
        crash()
        session.submit()
        with pytest.raises(TaskException) as info:
            session.wait_all()
    text = str(info.value)
    assert "died while running the task (exit code 9)" in text
    assert "stdout before the crash" in text and "stderr before the crash" in text
    _governor_carries_on(client)


def _governor_carries_on(client):
    @remote()
    def ok(ctx):
        return b"ok"

    with client.new_session() as session:
        t = ok()
        c = tasks.Concat([blob(b"o"), blob(b"k")])
        t.output.keep()
        c.output.keep()
        session.submit()
        assert t.output.fetch().get_bytes() == c.output.fetch().get_bytes() == b"ok"


def _run_works(client):
    """True when buildin/run (Execute) is available on the governors."""
    with client.new_session() as session:
        t = tasks.Execute("true")
        session.submit()
        try:
            t.wait()
        except TaskException as e:
            if "unknown built-in task type 'buildin/run'" in str(e):
                return False
            raise
    return True


def test_mixed_graph_over_four_governors(rain_cluster):
    cluster = rain_cluster(governors=[1, 1, 1, 1])
    client = cluster.client()
    with_programs = _run_works(client)

    @remote()
    def square(ctx, x):
        return str(int(x.get_str()) ** 2)

    @remote(auto_load=False)
    def total(ctx, parts):
        return str(sum(int(p.get_str()) for p in parts))

    @remote()
    def describe(ctx, summed, count):
        return "{} / {} bytes".format(summed.get_str(), count.get_str().strip())

    with client.new_session() as session:
        numbers = [blob(str(i)) for i in range(8)]
        squares = [square(n) for n in numbers]  # fan-out
        joined = tasks.Concat([tasks.Sleep(s, 0) for s in squares])  # built-ins
        summed = total(squares)  # fan-in
        summed.output.keep()
        joined.output.keep()
        session.submit()
        assert summed.output.fetch().get_bytes() == b"140"
        session.update(squares)
        assert len({t.info.governor for t in squares}) >= 2

        # A second and third submit on kept objects.
        if with_programs:
            count = tasks.Execute(["wc", "-c"], stdin=joined, stdout=True)
        else:
            count = tasks.Concat([blob(str(len(joined.output.fetch().get_bytes())))])
        final = describe(summed, count)
        final.output.keep()
        session.submit()
        assert final.output.fetch().get_str() == "140 / 12 bytes"
        again = square(summed)
        again.output.keep()
        session.submit()
        assert again.output.fetch().get_bytes() == b"19600"
    if not with_programs:
        pytest.skip("buildin/run (Execute) is not available yet: the program step used Concat")


def _alive(pid):
    try:
        with open("/proc/{}/stat".format(pid)) as f:
            return f.read().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return False


def test_each_call_starts_in_an_empty_work_dir_with_its_own_environment(client):
    # A chain: on the one 2-cpu governor each call reuses the executor of the one before.
    @remote()
    def litter(ctx):
        with open("left.txt", "w") as f:
            f.write("x")
        os.mkdir("sub")
        os.chdir("sub")
        os.environ["OMP_NUM_THREADS"] = "99"
        os.environ["RAIN_TASK_ATTEMPT"] = "7"
        return str(os.getpid())

    @remote()
    def remove_work_dir(ctx, before):
        import shutil
        shutil.rmtree(os.getcwd())
        return before.get_bytes() + b" " + str(os.getpid()).encode()

    @remote(cpus=2)
    def report(ctx, before):
        return "{} {} {} {} {}".format(before.get_str(), os.getpid(), os.listdir(os.getcwd()),
                                       os.environ["OMP_NUM_THREADS"],
                                       os.environ["RAIN_TASK_ATTEMPT"])

    with client.new_session() as session:
        t = report(remove_work_dir(litter()))
        t.output.keep()
        session.submit()
        pid1, pid2, pid3, *seen = t.output.fetch().get_str().split(" ")
    assert pid1 == pid2 == pid3, "the calls ran in one executor"
    assert seen == ["[]", "2", "1"]

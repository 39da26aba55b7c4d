"""The Rust tasklib (crate rain_task in tasklib/rust): its example executor
(tasklib/rust/example) built offline with tasklib/rust/cargo_offline.sh, registered in the
governor config as `[executors.rust]` and run through a real cluster with the Python client."""

import os
import re
import shutil
import subprocess

import pytest

from rain.client import Output, OutputDir, Task, TaskException, blob, directory
from rain.common import DataType
from rain_testing import REPO, RainCluster

RUST_DIR = os.path.join(REPO, "tasklib", "rust")
CARGO_OFFLINE = os.path.join(RUST_DIR, "cargo_offline.sh")
EXAMPLE_BIN = os.path.join(RUST_DIR, "target", "debug", "rain_task_example")
BUILD_TIMEOUT = 900


def find_cargo():
    for candidate in (shutil.which("cargo"), os.path.expanduser("~/.cargo/bin/cargo"),
                      "/root/.cargo/bin/cargo"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def cargo(*args):
    """Runs cargo_offline.sh with `args`; its output on failure."""
    cargo_bin = find_cargo()
    if cargo_bin is None:
        pytest.skip("cargo not found (on PATH, in ~/.cargo/bin or /root/.cargo/bin): "
                    "the Rust tasklib cannot be built")
    done = subprocess.run(["bash", CARGO_OFFLINE, *args], cwd=RUST_DIR,
                          env=dict(os.environ, CARGO=cargo_bin), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=BUILD_TIMEOUT)
    output = done.stdout.decode("utf-8", "replace")
    assert done.returncode == 0, "cargo {} failed:\n{}".format(" ".join(args), output)
    return output


@pytest.fixture(scope="module")
def example_binary():
    cargo("build", "-p", "rain_task_example")
    assert os.access(EXAMPLE_BIN, os.X_OK)
    return EXAMPLE_BIN


@pytest.fixture(scope="module")
def rust_cluster(example_binary):
    cluster = RainCluster((2, 2), executors={"rust": [example_binary]})
    yield cluster
    cluster.stop()


@pytest.fixture
def rust_client(rust_cluster):
    client = rust_cluster.client()
    yield client
    client.close()


def rust(method, inputs=(), outputs=1, **kwargs):
    return Task(inputs=list(inputs), outputs=outputs, task_type="rust/" + method, **kwargs)


def failure_of(client, make_tasks):
    """The TaskException message of a session whose graph `make_tasks()` builds."""
    with client.new_session() as session:
        make_tasks()
        session.submit()
        with pytest.raises(TaskException) as failure:
            session.wait_all()
    return str(failure.value)


def test_crate_unit_tests(example_binary):
    # The crate's own tests: a fake governor on a real socket (every parameter shape, counts,
    # panics, large and staged outputs).
    output = cargo("test", "-p", "rain_task")
    assert re.search(r"test result: ok\. [1-9]\d* passed; 0 failed", output), output


def test_hello(rust_client):
    with rust_client.new_session() as session:
        t = rust("hello", [blob("world")])
        t.output.keep()
        session.submit()
        assert t.output.fetch().get_bytes() == b"Hello world!"


def test_fail_reports_the_error_of_the_task(rust_client):
    message = failure_of(rust_client, lambda: rust("fail", [blob("the input says no")], 0))
    assert "the input says no" in message


def test_wrong_counts_name_the_counts(rust_client):
    message = failure_of(rust_client, lambda: rust("hello", [blob("a"), blob("b")]))
    assert "task 'rust/hello' takes 1 input, but it was called with 2 inputs" in message
    message = failure_of(rust_client, lambda: rust("hello", [blob("a")], 0))
    assert "task 'rust/hello' takes 1 output, but it was called with 0 outputs" in message
    message = failure_of(rust_client, lambda: rust("fanout", [], 2))
    assert "task 'rust/fanout' takes 1 input, but it was called with 0 inputs" in message
    message = failure_of(rust_client, lambda: rust("nope", [], 0))
    assert "executor 'rust' has no method 'nope' (it has: 'abort', 'concat'," in message


@pytest.fixture
def one_cpu_client(rain_cluster, example_binary):
    # One cpu: one executor at a time, so the pid says whether it is the same process.
    cluster = rain_cluster(governors=[1], executors={"rust": [example_binary]})
    client = cluster.client()
    yield client
    client.close()


def _pid_in(session):
    t = rust("pid")
    t.output.keep()
    session.submit()
    return int(t.output.fetch().get_bytes())


def test_panic_fails_the_task_and_the_executor_goes_on(one_cpu_client):
    # An executor serves one session, so the three tasks share one (on_failure="continue" keeps
    # the session usable after the failed task).
    with one_cpu_client.new_session(on_failure="continue") as session:
        before = _pid_in(session)
        panic = rust("panic", [blob("kaboom")], 0)
        session.submit()
        with pytest.raises(TaskException) as failure:
            session.wait([panic])
        message = str(failure.value)
        assert re.search(r"the task panicked at \S*main\.rs:\d+:\d+: kaboom", message), message
        assert _pid_in(session) == before
        t = rust("hello", [blob("after the panic")])
        t.output.keep()
        session.submit()
        assert t.output.fetch().get_bytes() == b"Hello after the panic!"


def test_an_executor_crash_fails_the_task_and_a_new_executor_serves(one_cpu_client):
    with one_cpu_client.new_session(on_failure="continue") as session:
        before = _pid_in(session)
        abort = rust("abort", [], 0)
        session.submit()
        with pytest.raises(TaskException) as failure:
            session.wait([abort])
        message = str(failure.value)
        assert "died while running the task" in message
        assert "SIGABRT" in message
        assert "rain_task_example: aborting on purpose" in message  # the stderr tail
        assert _pid_in(session) != before  # a new executor serves the session


def test_meta_copies_user_attributes_and_content_type(rust_client):
    with rust_client.new_session() as session:
        data = blob(b'{"a": 1}', content_type="json")
        data.spec.user["origin"] = "client"
        first = rust("meta", [data], user_spec={"tag": "first"})
        second = rust("meta", [first], outputs=[Output("copy", content_type="json")])
        first.output.keep()
        second.output.keep()
        session.submit()
        session.wait_all()
        session.update([first, second, first.output, second.output])
        assert first.output.fetch().get_bytes() == b'{"a": 1}'
        assert first.output.content_type == "json"
        assert first.output.info.user == {"origin": "client"}
        assert first.info.user == {"input_content_type": "json", "input_size": 8,
                                   "spec_tag": "first"}
        assert first.info.debug == "copied 8 bytes"
        # The second reads what the first set at run time (info), not a client spec.
        assert second.output.fetch().get_bytes() == b'{"a": 1}'
        assert second.output.info.user == {"origin": "client"}
        assert second.info.user["input_content_type"] == "json"


def test_file_input(rust_client):
    # A small blob is sent in the call (get_path writes it to a file), a large one is a file
    # of the governor's storage.
    with rust_client.new_session() as session:
        small = rust("lines", [blob("a\nb\nc\n")])
        large = rust("lines", [blob(b"a line\n" * 100000)])
        small.output.keep()
        large.output.keep()
        session.submit()
        assert small.output.fetch().get_bytes() == b"3"
        assert large.output.fetch().get_bytes() == b"100000"


def test_directory_input(rust_client, tmp_path):
    os.makedirs(str(tmp_path / "tree" / "sub"))
    (tmp_path / "tree" / "a.txt").write_bytes(b"abc")
    (tmp_path / "tree" / "sub" / "b.bin").write_bytes(b"12345")
    with rust_client.new_session() as session:
        listing = rust("listdir", [directory(str(tmp_path / "tree"))])
        listing.output.keep()
        session.submit()
        assert listing.output.fetch().get_bytes() == b"a.txt 3\nsub/b.bin 5\n"
    message = failure_of(rust_client, lambda: rust("listdir", [blob("not a dir")]))
    assert "input 0" in message and "a directory was expected" in message


def test_staged_directory_and_file_outputs(rust_client, tmp_path):
    with rust_client.new_session() as session:
        words = rust("split_words", [blob("alpha beta")], outputs=[OutputDir("words")])
        upper = rust("upper_file", [blob("shout")])
        listing = rust("listdir", [words])
        words.output.keep()
        upper.output.keep()
        listing.output.keep()
        session.submit()
        instance = words.output.fetch()
        assert instance.data_type == DataType.DIRECTORY
        target = str(tmp_path / "words")
        instance.write(target)
        assert sorted(os.listdir(target)) == ["0.txt", "1.txt"]
        assert open(os.path.join(target, "1.txt"), "rb").read() == b"beta"
        assert listing.output.fetch().get_bytes() == b"0.txt 5\n1.txt 4\n"
        assert upper.output.fetch().get_bytes() == b"SHOUT"


def test_staging_input_paths(rust_client, tmp_path):
    # An input's own path passes its data on; a file inside an input directory is copied (the
    # governor's storage is never moved); a small input's get_path() file is moved out.
    os.makedirs(str(tmp_path / "tree" / "sub"))
    (tmp_path / "tree" / "sub" / "b.bin").write_bytes(b"12345")
    large_data = b"0123456789" * 50000
    with rust_client.new_session() as session:
        tree = directory(str(tmp_path / "tree"))
        large = blob(large_data, content_type="text")
        tree.keep()
        large.keep()
        passed_large = rust("passthrough", [large])
        passed_small = rust("passthrough", [blob(b"small")])
        passed_tree = rust("passthrough", [tree], outputs=[OutputDir("tree")])
        picked = rust("pick", [tree], config={"path": "sub/b.bin"})
        for t in (passed_large, passed_small, passed_tree, picked):
            t.output.keep()
        session.submit()
        session.wait_all()
        assert passed_large.output.fetch().get_bytes() == large_data
        assert passed_small.output.fetch().get_bytes() == b"small"
        passed_tree.output.fetch().write(str(tmp_path / "copy"))
        assert (tmp_path / "copy" / "sub" / "b.bin").read_bytes() == b"12345"
        assert picked.output.fetch().get_bytes() == b"12345"
        session.update([passed_large.output])
        assert passed_large.output.content_type == "text"
        # The inputs are still whole after those tasks ran.
        assert large.fetch().get_bytes() == large_data
        listing = rust("listdir", [tree])
        listing.output.keep()
        session.submit()
        assert listing.output.fetch().get_bytes() == b"sub/b.bin 5\n"


def test_all_inputs_all_outputs_and_config(rust_client):
    with rust_client.new_session() as session:
        joined = rust("concat", [blob("a"), blob("b"), blob("c")], config={"separator": "-"})
        fan = rust("fanout", [blob("x")], 3)
        joined.output.keep()
        fan.keep_outputs()
        session.submit()
        assert joined.output.fetch().get_bytes() == b"a-b-c"
        assert [o.fetch().get_bytes() for o in fan.outputs] == [b"0:x", b"1:x", b"2:x"]


def test_chain_of_50(rust_client):
    with rust_client.new_session() as session:
        obj = blob("x")
        for _ in range(50):
            obj = rust("hello", [obj]).output
        obj.keep()
        session.submit()
        assert obj.fetch().get_bytes() == b"Hello " * 50 + b"x" + b"!" * 50


def test_burst_of_1000(rust_client):
    with rust_client.new_session() as session:
        greetings = [rust("hello", [blob(str(i))]).output for i in range(1000)]
        joined = rust("concat", greetings, config={"separator": ","})
        joined.output.keep()
        session.submit()
        expected = ",".join("Hello {}!".format(i) for i in range(1000))
        assert joined.output.fetch().get_bytes() == expected.encode()


def test_task_output_is_the_tasks_own(one_cpu_client):
    """What a task prints is its output (task.logs()), not the next task's (issue 17)."""
    with one_cpu_client.new_session(on_failure="continue") as session:
        abort = rust("abort", [], 0)
        session.submit()
        with pytest.raises(TaskException, match="aborting on purpose"):
            session.wait([abort])
        assert "rain_task_example: aborting on purpose" in abort.logs().stderr
        t = rust("hello", [blob("quiet")])
        session.submit()
        t.wait()
        assert (t.logs().stdout, t.logs().stderr) == ("", "")

"""The C++ tasklib (tasklib/cpp): its example executor built with CMake and run by a governor
through the Python client, and the user guide's build recipe (copy tasklib/cpp as `tasklib`
next to myexecutor.cpp, the guide's CMakeLists.txt)."""

import os
import shutil
import subprocess
import tempfile

import pytest

from rain.client import OutputDir, Task, TaskException, blob, directory
from rain.client.tasks import Concat
from rain_testing import REPO, RainCluster

TASKLIB = os.path.join(REPO, "tasklib", "cpp")

pytestmark = pytest.mark.skipif(
    not (shutil.which("cmake") and shutil.which("g++") and shutil.which("make")),
    reason="cmake, make and g++ are needed to build C++ executors")

# The user guide's "C++ tasklib" section, verbatim: myexecutor.cpp and its CMakeLists.txt.
SEED_EXECUTOR = r'''#include <tasklib/executor.h>

int main()
{
  // Create executor, the argument is the name of the executor
  tasklib::Executor executor("example1");

  // Register task "hello"
  executor.add_task("hello", [](tasklib::Context &ctx, auto &inputs, auto &outputs) {

      // Check that we been called exactly with 1 argument.
      // If not, the error message is set to context
      if (!ctx.check_n_args(1)) {
          return;
      }

      // This is body of our task, in our case, it reads the input data object
      // inserts "Hello" before the input and appends "!"
      auto& input1 = inputs[0];
      std::string str = "Hello " + input1->read_as_string() + "!";

      // Create new data instance and set it as one (and only) result
      // of the task
      outputs.push_back(std::make_unique<tasklib::MemDataInstance>(str));
  });

  // Connect to governor and serve registered tasks
  // This function is never finished.
  executor.start();
}
'''

SEED_CMAKELISTS = '''cmake_minimum_required(VERSION 3.1)
project(myexecutor)

add_subdirectory(tasklib)

add_executable(myexecutor
              myexecutor.cpp)

target_include_directories(myexecutor PUBLIC ${CBOR_INCLUDE_DIRS} ${CMAKE_CURRENT_SOURCE_DIR}/src)
target_link_libraries (myexecutor tasklib ${CBOR_LIBRARIES} pthread)
'''


def run(args, cwd):
    done = subprocess.run(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 0, "{} failed:\n{}".format(" ".join(args), done.stdout.decode())


@pytest.fixture(scope="module")
def workspace():
    path = tempfile.mkdtemp(prefix="rain-tasklib-cpp-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def example_binary(workspace):
    build = os.path.join(workspace, "example-build")
    os.mkdir(build)
    run(["cmake", os.path.join(TASKLIB, "example")], build)
    run(["make", "-j2"], build)
    return os.path.join(build, "example1")


@pytest.fixture(scope="module")
def seed_binary(workspace):
    """The guide's recipe: myexecutor/{myexecutor.cpp, CMakeLists.txt, tasklib/}, then
    `mkdir _build; cd _build; cmake ..; make`."""
    project = os.path.join(workspace, "myexecutor")
    os.mkdir(project)
    with open(os.path.join(project, "myexecutor.cpp"), "w") as f:
        f.write(SEED_EXECUTOR)
    with open(os.path.join(project, "CMakeLists.txt"), "w") as f:
        f.write(SEED_CMAKELISTS)
    shutil.copytree(TASKLIB, os.path.join(project, "tasklib"),
                    ignore=shutil.ignore_patterns("_build", "build"))
    build = os.path.join(project, "_build")
    os.mkdir(build)
    run(["cmake", ".."], build)
    run(["make"], build)
    return os.path.join(build, "myexecutor")


@pytest.fixture(scope="module")
def cpp_cluster(example_binary, seed_binary):
    cluster = RainCluster((2,), executors={"example1": [example_binary],
                                           "myexecutor": [seed_binary]})
    yield cluster
    cluster.stop()


@pytest.fixture
def cpp_client(cpp_cluster):
    client = cpp_cluster.client()
    yield client
    client.close()


class Hello(Task):
    """ Task takes one blob as input and puts b"Hello " before
        and "!" after the input. """

    TASK_TYPE = "example1/hello"

    def __init__(self, obj):
        super().__init__(inputs=(obj,), outputs=1)


def example(method, inputs, outputs=1, **kwargs):
    return Task(inputs=inputs, outputs=outputs, task_type="example1/" + method, **kwargs)


def run_one(client, method, inputs, outputs=1):
    """Runs one example1 task in its own session; returns the task (outputs fetched). Inputs
    are bytes, or functions making a data object (called inside the session)."""
    with client.new_session() as session:
        task = example(method, [i() if callable(i) else blob(i) for i in inputs], outputs)
        task.keep_outputs()
        session.submit()
        task.wait()
        task.update()
        task.results = [o.fetch() for o in task.outputs]
        return task


def fails(client, method, inputs, outputs=1):
    """The TaskException text of a task that must fail."""
    with client.new_session() as session:
        example(method, [blob(i) for i in inputs], outputs)
        session.submit()
        with pytest.raises(TaskException) as failure:
            session.wait_all()
    return str(failure.value)


def test_seed_recipe_builds_and_runs(cpp_client):
    with cpp_client.new_session() as session:
        t = Task(inputs=[blob("Hello world")], outputs=1, task_type="myexecutor/hello")
        t.output.keep()
        session.submit()
        assert t.output.fetch().get_bytes() == b"Hello Hello world!"


def test_hello_as_in_the_guide(cpp_client):
    with cpp_client.new_session() as session:
        a = blob("Hello world")
        t = Hello(a)
        t.output.keep()
        session.submit()
        assert t.output.fetch().get_bytes() == b"Hello Hello world!"


def test_fail_sets_the_error_and_debug_text(cpp_client):
    text = fails(cpp_client, "fail", [b"the input says no"])
    assert "the input says no" in text
    assert "failing on purpose" in text


def test_exception_fails_the_task_and_the_executor_goes_on(cpp_client):
    text = fails(cpp_client, "throw", [b"kaboom"])
    assert "example1/throw threw std::runtime_error: kaboom" in text
    assert run_one(cpp_client, "hello", [b"again"]).results[0].get_bytes() == b"Hello again!"


def test_abort_fails_with_stderr_tail_then_the_next_task_works(cpp_client):
    text = fails(cpp_client, "abort", [b"please"])
    assert "died while running the task (killed by signal SIGABRT)" in text
    assert "about to abort: please" in text
    assert "tasklib: example1/abort task [" in text and "crashed: SIGABRT" in text
    # The governor starts a new executor for the next task.
    assert run_one(cpp_client, "hello", [b"after"]).results[0].get_bytes() == b"Hello after!"


def test_meta_copies_content_type_and_user_attributes(cpp_client):
    with cpp_client.new_session() as session:
        data = blob(b'{"a": 1}', content_type="json")
        data.spec.user["origin"] = "test"
        first = example("meta", [data])
        second = example("meta", [first])
        first.keep_outputs()
        second.keep_outputs()
        session.submit()
        session.wait_all()
        session.update([first, second, first.output, second.output])
        for task in (first, second):
            fetched = task.output.fetch()
            assert fetched.get_bytes() == b'{"a": 1}'
            assert fetched.content_type == "json"
            assert fetched.load() == {"a": 1}
            assert task.output.info.user == {"origin": "test"}
            assert task.info.user == {"size": 8}
            assert task.info.debug == "copied 8 bytes of content type 'json'"


def test_pass_returns_the_input_itself(cpp_client):
    task = run_one(cpp_client, "pass", [lambda: blob("passed on", content_type="text")])
    assert task.results[0].get_bytes() == b"passed on"
    assert task.results[0].content_type == "text"


@pytest.mark.parametrize("size,where", [(100, "in memory"), (300_000, "in the governor's storage")])
def test_file_input_and_file_output(cpp_client, size, where):
    data = (b"abc\n" * size)[:size]
    task = run_one(cpp_client, "upper_file", [data])
    assert task.results[0].get_bytes() == data.upper()
    assert task.results[0].content_type == "text"
    assert task.info.debug == "input " + where


def test_directory_input(cpp_client, tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.txt").write_bytes(b"12345")
    (tmp_path / "sub" / "b.bin").write_bytes(b"\0" * 10)
    (tmp_path / "empty").mkdir()
    task = run_one(cpp_client, "listdir", [lambda: directory(str(tmp_path))])
    assert task.results[0].get_bytes() == b"a.txt 5\nsub/b.bin 10\n"
    assert "listdir needs a directory, got a blob" in fails(cpp_client, "listdir", [b"x"])


def test_directory_output(cpp_client, tmp_path):
    task = run_one(cpp_client, "split_lines", [b"one\ntwo\nthree"], outputs=[OutputDir("lines")])
    target = tmp_path / "out"
    task.results[0].write(str(target))
    assert sorted(os.listdir(target)) == ["0.txt", "1.txt", "2.txt"]
    assert (target / "2.txt").read_bytes() == b"three"


def test_wrong_input_counts_name_the_counts(cpp_client):
    assert ("example1/hello takes 1 input, but the task has 2 inputs"
            in fails(cpp_client, "hello", [b"a", b"b"]))
    assert ("example1/hello takes 1 input, but the task has 0 inputs"
            in fails(cpp_client, "hello", []))


def test_wrong_output_counts_name_the_counts(cpp_client):
    assert ("example1/hello produced 1 output, but the task has 2 outputs"
            in fails(cpp_client, "hello", [b"a"], outputs=2))
    assert ("example1/hello produced 1 output, but the task has 0 outputs"
            in fails(cpp_client, "hello", [b"a"], outputs=0))


def test_unknown_method(cpp_client):
    text = fails(cpp_client, "nope", [])
    assert "executor 'example1' has no method 'nope' (it has: 'abort', 'fail', 'hello'" in text


def test_chain_of_50(cpp_client):
    with cpp_client.new_session() as session:
        obj = blob("x")
        for _ in range(50):
            obj = Hello(obj).output
        obj.keep()
        session.submit()
        assert obj.fetch().get_bytes() == b"Hello " * 50 + b"x" + b"!" * 50


def test_burst_of_1000(cpp_client):
    with cpp_client.new_session() as session:
        tasks = [Hello(blob(str(i))) for i in range(1000)]
        joined = Concat([t.output for t in tasks])
        joined.output.keep()
        session.submit()
        expected = b"".join(b"Hello %d!" % i for i in range(1000))
        assert joined.output.fetch().get_bytes() == expected


def test_task_output_is_the_tasks_own(cpp_client):
    """What a task prints is its output (task.logs()), not the next task's (issue 17)."""
    with cpp_client.new_session(on_failure="continue") as session:
        crashed = example("abort", [blob(b"loud")])
        session.submit()
        with pytest.raises(TaskException, match="about to abort: loud"):
            crashed.wait()
        assert "about to abort: loud" in crashed.logs().stderr
    quiet = run_one(cpp_client, "hello", [b"x"])
    assert (quiet.logs().stdout, quiet.logs().stderr) == ("", "")

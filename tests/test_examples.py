"""Every example of examples/ runs as a user would run it (a separate process given the
server's address) against a test cluster and prints what it should."""

import os
import subprocess
import sys

import pytest

from rain_testing import REPO, RainCluster

EXAMPLES = os.path.join(REPO, "examples")
DENO = os.path.join(REPO, "node_modules", "deno", "deno")
if not os.access(DENO, os.X_OK):
    DENO = os.path.join(REPO, "node_modules", ".bin", "deno")
EXAMPLE_EXECUTOR = os.path.join(REPO, "executor", "example.ts")


def _secret_env(cluster):
    """The environment of an example: the cluster's secret given as RAIN_SECRET (examples find
    it themselves for a server of the same user; this also covers private secret dirs)."""
    env = dict(os.environ)
    try:
        from rain.client.rpc.secret import find_secret
    except ImportError:
        return env
    secret = find_secret("127.0.0.1", cluster.port)
    if secret:
        env["RAIN_SECRET"] = secret
    return env


def _builtin_run_available():
    with open(os.path.join(REPO, "common", "builtin_tasks.ts")) as f:
        return "buildin/run" in f.read()


# Examples using features that arrive with other parts of the tree: skipped (with the reason)
# while those are missing.
NEEDS_REMOTE = {"python_tasks.py", "mixed_pipeline.py"}
NEEDS_RUN = {"tasks_and_objects.py", "programs.py", "programs.ts", "mixed_pipeline.py",
             "mixed_pipeline.ts"}


def skip_if_unsupported(name):
    import rain.client
    if name in NEEDS_REMOTE and not hasattr(rain.client, "remote"):
        pytest.skip("{} uses @remote, which rain.client does not have yet".format(name))
    if name in NEEDS_RUN and not _builtin_run_available():
        pytest.skip("{} runs programs (buildin/run), not supported by this tree yet".format(name))


def run_example(cluster, name):
    skip_if_unsupported(name)
    if name.endswith(".py"):
        args = [sys.executable, os.path.join(EXAMPLES, name), "127.0.0.1", str(cluster.port)]
    else:
        args = [DENO, "run", "-A", os.path.join(EXAMPLES, name), cluster.address]
    result = subprocess.run(args, cwd=REPO, env=_secret_env(cluster), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, timeout=240)
    assert result.returncode == 0, "{} failed:\n{}\n{}\n{}".format(
        name, result.stdout, result.stderr, cluster.logs())
    return result.stdout


HELLO = "b'Hello world!'\n"


@pytest.mark.parametrize("name,expected", [
    ("hello.py", HELLO),
    ("hello.ts", "Hello world!\n"),
    ("tasks_and_objects.py",
     "submitted and finished\n"
     "b'Hello world!'\n"
     "output1 Rain makes grain Rain makes grain\n"
     "t1 finished on a governor: True user spec: {'step': 'first'}\n"),
    ("builtin_tasks.py",
     "stored: external data, constant data\n"
     "sliced file: b'67890'\n"
     "sliced directory: ['notes.txt']\n"),
    ("programs.py",
     "b'rainy day\\n'\n"
     "2 rainy day\n"
     "2 ['IT', 'IS', 'RAINY', 'DAY']\n"
     "b'rainy day\\n'\n"),
    ("programs.ts",
     'grep: "rainy day\\n"\n'
     "tee: stdout and file agree\n"
     "directory: directory nested, file nested/text\n"
     'program: "rainy day\\n"\n'),
    ("python_tasks.py",
     "b'Hello Rain!'\n"
     "words 4 lines 2\n"
     "stats {'min': 1, 'max': 5, 'mean': 2.8}\n"
     "user info {'total': 14} debug: got 5 numbers\n"),
    ("multiple_submits.py",
     "third submit: b'Hello world'\n"
     "after 2 more submits: rain and rain and rain\n"),
    ("multiple_submits.ts",
     "third submit: Hello world\n"
     "after 2 more submits: rain and rain and rain\n"),
])
def test_example(cluster, name, expected):
    assert run_example(cluster, name) == expected


MIXED = ("Top words:\n3 a\n3 tasks\n2 and\n2 data\n2 is\n"
         "result directory: input/text.txt, report.txt\n")


@pytest.mark.parametrize("name", ["mixed_pipeline.py", "mixed_pipeline.ts"])
def test_mixed_pipeline(cluster, name):
    assert run_example(cluster, name) == MIXED


@pytest.fixture(scope="module")
def executor_cluster():
    """A cluster whose governors have the TypeScript example executor as "example1"."""
    cluster = RainCluster((2,), executors={
        "example1": [DENO, "run", "-A", "--no-check", EXAMPLE_EXECUTOR]})
    yield cluster
    cluster.stop()


@pytest.mark.skipif(not os.path.exists(EXAMPLE_EXECUTOR),
                    reason="executor/example.ts (the TypeScript executor library) is missing")
@pytest.mark.parametrize("name,expected", [
    ("own_executor.py",
     "b'Hello world!'\n"
     "{'count': 3, 'sum': 15, 'mean': 5}\n"
     "info.user: {'count': 3} debug: summed 3 numbers\n"),
    ("own_executor.ts",
     "Hello world!\n"
     "Hello Hello again!!\n"
     '{"count":3,"sum":15,"mean":5}\n'
     'info.user: {"count":3} debug: summed 3 numbers\n'),
])
def test_own_executor(executor_cluster, name, expected):
    out = run_example(executor_cluster, name)
    body, failure = out.rsplit("failed as expected: ", 1)
    assert body == expected
    assert "example1/fail" in failure and "no luck today" in failure, failure


def test_every_example_is_tested():
    tested = {"hello.py", "hello.ts", "tasks_and_objects.py", "builtin_tasks.py", "programs.py",
              "programs.ts", "python_tasks.py", "multiple_submits.py", "multiple_submits.ts",
              "mixed_pipeline.py", "mixed_pipeline.ts", "own_executor.py", "own_executor.ts",
              # tests/test_examples_programs.py
              "libsvm_crossvalidation.py"}
    present = {n for n in os.listdir(EXAMPLES) if n.endswith((".py", ".ts"))}
    assert present - tested == set()

"""The client, the executor and rain.common on a Python with only the standard library.

Each check runs ``/usr/bin/python3 -S`` (no site packages: no cloudpickle, cbor2, pyarrow) with
PYTHONPATH=client_py. Everything works there except what truly needs cloudpickle (``@remote``,
``encode="cloudpickle"``, loading values cloudpickled by value), which raises a RainException
naming the package and how to install it.
"""

import os
import re
import subprocess
import sys
import textwrap

import pytest

from rain.client import RainException, TaskException, remote
from rain_testing import CLIENT_PY, REPO

PYTHON = "/usr/bin/python3"
INSTALL_HINT = ("needs the Python package cloudpickle: pip install cloudpickle "
                "(Debian: apt-get install python3-cloudpickle)")

pytestmark = pytest.mark.skipif(not os.access(PYTHON, os.X_OK), reason="needs /usr/bin/python3")


def _secret_env(cluster, extra_path=()):
    """Environment of a -S child: only client_py (and ``extra_path``) importable, the cluster's
    secret given as RAIN_SECRET."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = os.pathsep.join([CLIENT_PY, *extra_path])
    if cluster is not None:
        from rain.client.rpc.secret import find_secret
        secret = find_secret("127.0.0.1", cluster.port)
        if secret:
            env["RAIN_SECRET"] = secret
    return env


def run_bare(args, cluster=None, cwd=REPO):
    """Runs ``/usr/bin/python3 -S args…``; returns its stdout (stderr too when it fails)."""
    result = subprocess.run([PYTHON, "-S", *args], cwd=cwd, env=_secret_env(cluster),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            timeout=120)
    assert result.returncode == 0, "{} failed:\n{}\n{}{}".format(
        args, result.stdout, result.stderr, "\n" + cluster.logs() if cluster else "")
    return result.stdout


def run_bare_code(code, cluster=None):
    return run_bare(["-c", textwrap.dedent(code)], cluster)


def test_imports_and_offline_features_without_optional_packages():
    out = run_bare_code("""
        import sys
        for name in ("cloudpickle", "cbor2", "pyarrow"):
            try:
                __import__(name)
            except ImportError:
                pass
            else:
                raise SystemExit(name + " is importable: the test checks nothing")
        import rain, rain.client, rain.common, rain.executor
        import rain.executor.pytask, rain.executor.context, rain.executor.outputs
        from rain.client import (Input, Output, Program, RainException, Session, blob, pickled,
                                 remote, tasks)
        from rain.common import DataInstance
        third_party = sorted({m.split(".")[0] for m in sys.modules}
                             - set(sys.stdlib_module_names) - {"rain", "__main__"})
        print("third party:", third_party)

        with Session(None, 1).bind_only():
            p = pickled({"a": [1, 2]})
            assert DataInstance(p.data, spec=p.spec).load() == {"a": [1, 2]}
            j = blob([1, 2], encode="json")
            t = tasks.Concat((blob("x"), blob(b"y"), j))
            prog = Program(("wc", "-l"), stdin="input", stdout="out")
            print("graph:", p.content_type, j.content_type, t.task_type, len(t.inputs),
                  prog(input=blob(b"a\\n")).output.label)

            @remote()                   # declaring a Python task works ...
            def f(ctx, x):
                return x
            for what, make in (("call", lambda: f(1)),
                               ("cloudpickle", lambda: blob(f, encode="cloudpickle"))):
                try:                    # ... creating one needs cloudpickle
                    make()
                except RainException as error:
                    print(what + ":", error)
                else:
                    raise SystemExit(what + " worked without cloudpickle")
            for content_type in ("cbor", "arrow"):
                try:
                    blob([1], encode=content_type)
                except RainException as error:
                    print(content_type + ":", error)
    """)
    lines = dict(line.split(": ", 1) for line in out.splitlines())
    assert lines["third party"] == "[]"
    assert lines["graph"] == "pickle json buildin/concat 3 out"
    assert lines["call"] == "@remote (Python tasks) " + INSTALL_HINT
    assert lines["cloudpickle"] == "content type 'cloudpickle' " + INSTALL_HINT
    assert lines["cbor"] == ("content type 'cbor' needs the Python package cbor2: "
                             "pip install cbor2 (Debian: apt-get install python3-cbor2)")
    assert lines["arrow"] == "content type 'arrow' needs the Python package pyarrow: " \
        "pip install pyarrow"


def test_cloudpickled_values_load_without_cloudpickle_unless_pickled_by_value():
    cloudpickle = pytest.importorskip("cloudpickle")
    plain = cloudpickle.dumps({"numbers": [1, 2, 3]})
    by_value = cloudpickle.dumps(lambda x: x + 1)
    out = run_bare_code("""
        from rain.common.content_type import decode_value
        from rain.client import RainException
        print("plain:", decode_value({plain!r}, "cloudpickle"))
        try:
            decode_value({by_value!r}, "cloudpickle")
        except RainException as error:
            print("by value:", error)
    """.format(plain=plain, by_value=by_value))
    lines = dict(line.split(": ", 1) for line in out.splitlines())
    assert lines["plain"] == "{'numbers': [1, 2, 3]}"
    assert lines["by value"] == "loading 'cloudpickle' data " + INSTALL_HINT


def test_hello_example_without_optional_packages(cluster):
    out = run_bare([os.path.join(REPO, "examples", "hello.py"), "127.0.0.1", str(cluster.port)],
                   cluster)
    assert out == "b'Hello world!'\n"


def test_client_against_a_cluster_without_optional_packages(cluster):
    out = run_bare_code("""
        from rain.client import Client, blob, pickled, tasks
        client = Client("127.0.0.1", {port})
        with client.new_session() as session:
            p = pickled({{"k": (1, 2)}})
            p.keep()
            t = tasks.Concat((blob("a"), blob(b"b"), blob([1], encode="json")))
            t.output.keep()
            session.submit()
            session.wait_all()
            t.update()
            print("concat:", t.output.fetch().get_bytes(), t.state.name)
            print("pickled:", p.fetch().load())
            second = tasks.Concat((p, blob(b"!")))
            second.output.keep()
            session.submit()
            print("second submit:", len(second.output.fetch().get_bytes()) > 1)
        client.close()
    """.format(port=cluster.port), cluster)
    assert out.splitlines() == [
        "concat: b'ab[1]' finished",
        "pickled: {'k': (1, 2)}",
        "second submit: True",
    ]


FUNCTIONS_MODULE = '''
def shout(ctx, text):
    """A task function of an importable module: pickled by reference."""
    return text.upper() + "!"
'''


def test_executor_without_cloudpickle_runs_functions_of_importable_modules(rain_cluster,
                                                                           tmp_path):
    """The py executor needs cloudpickle only for functions pickled by value."""
    pytest.importorskip("cloudpickle", reason="the client side needs cloudpickle for @remote")
    module_dir = tmp_path / "functions"
    module_dir.mkdir()
    (module_dir / "rain_bare_functions.py").write_text(FUNCTIONS_MODULE)
    sys.path.insert(0, str(module_dir))
    try:
        import rain_bare_functions
    finally:
        sys.path.remove(str(module_dir))
    path = os.pathsep.join([CLIENT_PY, str(module_dir)])
    # The governor config sets PYTHONPATH for "py"; env(1) replaces it for the -S interpreter.
    cluster = rain_cluster(governors=[1], executors={
        "py": ["/usr/bin/env", "PYTHONPATH=" + path, PYTHON, "-S", "-m", "rain.executor"]})
    client = cluster.client()
    with client.new_session() as session:
        t = remote()(rain_bare_functions.shout)("rain")
        t.output.keep()
        session.submit()
        assert t.output.fetch().get_str() == "RAIN!"

    @remote()
    def local(ctx):
        return b"never"

    with client.new_session() as session:
        local()
        session.submit()
        with pytest.raises(TaskException, match=re.escape(
                "cannot unpickle the function of the task: a function pickled by value " +
                INSTALL_HINT)) as raised:
            session.wait_all()
        assert PYTHON in str(raised.value)
    del sys.modules["rain_bare_functions"]


def test_remote_in_this_interpreter_names_the_missing_package(monkeypatch):
    """Without cloudpickle ``@remote`` tasks cannot be made (checked in this process too)."""
    from rain.client import Session, pycode
    monkeypatch.setattr(pycode, "_PICKLERS", None)
    monkeypatch.setitem(sys.modules, "cloudpickle", None)  # makes `import cloudpickle` fail

    @remote()
    def f(ctx):
        return b""

    with Session(None, 1).bind_only():
        with pytest.raises(RainException, match="^" + re.escape(
                "@remote (Python tasks) " + INSTALL_HINT)):
            f()

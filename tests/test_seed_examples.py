"""The Python-task examples of the user guide, run unchanged (tests/seed_python_examples.py)."""

import pytest

import rain.client
import seed_python_examples as seed
from rain.client import Session, TaskException, blob


@pytest.fixture
def run(client, monkeypatch, capsys):
    """Runs an example as a script whose `Client("localhost", 7210)` is the test cluster's;
    returns what it printed."""
    monkeypatch.setattr(rain.client, "Client", lambda host, port: client)

    def run_example(source, namespace=None):
        namespace = dict(namespace or {}, __name__="__main__")
        namespace.setdefault("remote", rain.client.remote)
        namespace.setdefault("client", client)
        exec(compile(source, "<user guide example>", "exec"), namespace)
        return namespace, capsys.readouterr().out
    return run_example


def test_decorator_remote(run):
    _, out = run(seed.DECORATOR_REMOTE)
    assert out == "b'Hello world!'\n"


def test_inputs(run):
    _, out = run(seed.INPUTS)
    assert out == "b'Hello Rain!'\n"


def test_debug_stream(run, client):
    namespace, _ = run(seed.DEBUG_STREAM)
    with client.new_session() as session:
        namespace["remote_fn"]()
        session.submit()
        with pytest.raises(TaskException) as info:
            session.wait_all()
    assert "Exception: Error occured!\n\nDebug:\nVariable a = 11\nVariable b = 21" \
        in str(info.value)


def test_resources(run):
    namespace, _ = run(seed.RESOURCES)
    with Session(None, 1).bind_only():
        assert namespace["myfunction"]().spec.resources == {"cpus": 4}


def test_attributes(run, cluster):
    _, out = run(seed.ATTRIBUTES)
    lines = out.splitlines()
    assert lines[0] == "[1, 2, 42]"
    assert lines[1].startswith("Running at governor 127.0.0.1:")
    assert lines[1].split()[-1] in cluster.governor_ids()


def test_mapping_data_objects_onto_the_file_system(run, client):
    namespace, _ = run(seed.MAPPING)
    with client.new_session() as session:
        # In memory and file-backed (large) inputs, as a blob and as a directory.
        for data in (blob(b"small"), blob(b"x" * 400_000),
                     rain.client.tasks.MakeDirectory([("a.txt", blob(b"a"))])):
            namespace["my_remote_function"](data, outputs=0)
        session.submit()
        session.wait_all()

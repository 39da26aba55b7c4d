"""Governor permissions with real processes (docs/security.md): a governor started with
`--allow-read`, `--allow-write` and `--allow-run` (and `[permissions]` in its config) runs Load,
LoadDir, Store and Execute inside those limits, enforced by Deno; a task beyond them fails with a
message naming the path or program, and the session fails as with any task error.
"""

import os

import pytest

from rain.client import TaskException, tasks
from rain_testing import RAIN_BIN, Process, wait_until


@pytest.fixture
def restricted(rain_cluster, tmp_path):
    """A cluster whose one governor may read `inputs/`, write `outputs/` and run `cat` and
    `echo` (the latter from its config file)."""
    cluster = rain_cluster(governors=[])
    inputs, outputs, other = tmp_path / "inputs", tmp_path / "outputs", tmp_path / "other"
    for d in (inputs, outputs, other):
        d.mkdir()
    (inputs / "data.txt").write_bytes(b"allowed data")
    (inputs / "tree").mkdir()
    (inputs / "tree" / "f").write_bytes(b"in a tree")
    os.symlink("f", str(inputs / "tree" / "link"))
    (other / "secret.txt").write_bytes(b"not for tasks")
    os.symlink(str(other / "secret.txt"), str(inputs / "escape"))
    config = tmp_path / "governor.toml"
    config.write_text('[permissions]\nrun = ["echo"]\n')
    ready = str(tmp_path / "governor.ready")
    governor = Process("restricted governor", [
        RAIN_BIN, "governor", cluster.address, "--cpus", "1", "--listen", "127.0.0.1:0",
        "--workdir", str(tmp_path / "work"), "--logdir", str(tmp_path / "logs"),
        "--ready-file", ready, "--config", str(config),
        "--allow-read", str(inputs), "--allow-write", str(outputs), "--allow-run", "cat",
    ], str(tmp_path / "governor.out"), dict(os.environ))
    cluster.governors.append(governor)  # stopped with the cluster
    assert wait_until(lambda: os.path.exists(ready), timeout=20), governor.describe()
    return cluster, inputs, outputs, other


def fails_with(client, build, message):
    with client.new_session() as session:
        build()
        session.submit()
        with pytest.raises(TaskException) as info:
            session.wait_all()
    assert message in str(info.value), str(info.value)


def test_tasks_within_the_limits_run(restricted):
    cluster, inputs, outputs, _ = restricted
    client = cluster.client()
    with client.new_session() as session:
        loaded = tasks.Load(str(inputs / "data.txt"))
        tree = tasks.LoadDir(str(inputs / "tree"))
        tasks.Store(loaded, str(outputs / "copy.txt"))
        tasks.Store(tree, str(outputs / "tree"))
        echoed = tasks.Execute(["cat"], stdin=loaded, stdout=True)
        echoed.output.keep()
        session.submit()
        session.wait_all()
        assert echoed.output.fetch().get_bytes() == b"allowed data"
    assert (outputs / "copy.txt").read_bytes() == b"allowed data"
    assert (outputs / "tree" / "f").read_bytes() == b"in a tree"
    assert os.readlink(str(outputs / "tree" / "link")) == "f"


def test_tasks_beyond_the_limits_fail_naming_the_path_or_program(restricted):
    cluster, inputs, outputs, other = restricted
    client = cluster.client()
    secret = str(other / "secret.txt")
    fails_with(client, lambda: tasks.Load(secret),
               "cannot open '{}': read access to '{}' is not allowed by this governor's "
               "permissions".format(secret, secret))
    # A link in an allowed directory does not lead out of it.
    fails_with(client, lambda: tasks.Load(str(inputs / "escape")),
               "read access to '{}' is not allowed".format(secret))
    fails_with(client, lambda: tasks.LoadDir(str(other)),
               "read access to '{}' is not allowed".format(other))
    target = str(other / "written.txt")
    fails_with(client, lambda: tasks.Store(tasks.Load(str(inputs / "data.txt")), target),
               "cannot export to '{}': write access to '{}' is not allowed".format(target,
                                                                                  target))
    assert not os.path.exists(target)
    fails_with(client, lambda: tasks.Execute(["tail", "/etc/hostname"], stdout=True),
               "running 'tail' is not allowed by this governor's permissions "
               "(allowed: echo, cat)")
    # The governor is fine and goes on working.
    with client.new_session() as session:
        t = tasks.Execute(["echo", "still here"], stdout=True)
        t.output.keep()
        session.submit()
        assert t.output.fetch().get_bytes() == b"still here\n"

"""Inputs of programs are protected by file permissions (read-only links into the governor's
store); `Input(write=True)` gives a private writable copy. Permissions do not stop root, so these
tests run the governor as an ordinary user: when the tests run as root, a system user
`rain-test` is created (once) and the governor is started as that user with setpriv(1)."""

import os
import pwd
import shutil
import subprocess
import tempfile
import time

import pytest

from rain.client import Input, InputDir, OutputDir, TaskException, blob, directory, tasks
from rain_testing import RAIN_BIN, READY_TIMEOUT, REPO, Process, RainCluster

USER = "rain-test"


def ordinary_user():
    """(uid, gid) of the user to run the governor as, creating it when running as root."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell",
                        "/usr/sbin/nologin", USER], check=True)
        entry = pwd.getpwnam(USER)
    return entry.pw_uid, entry.pw_gid


def cluster_secret(cluster):
    """The secret the cluster's server published for this user, if it has one."""
    try:
        from rain.client.rpc.secret import find_secret
    except ImportError:  # a client without authentication
        return None
    return find_secret("127.0.0.1", cluster.port)


@pytest.fixture(scope="module")
def user_cluster():
    """A server (as the current user) with one governor running as an ordinary user."""
    ids = ordinary_user()
    cluster = RainCluster(())
    home = tempfile.mkdtemp(prefix="rain-test-user-")
    governor = None
    try:
        prefix = []
        if ids is not None:
            os.chown(home, *ids)
            prefix = ["setpriv", "--reuid", str(ids[0]), "--regid", str(ids[1]), "--clear-groups"]
            readable = subprocess.run(prefix + ["test", "-r", os.path.join(REPO, "main.ts")])
            if readable.returncode != 0:
                pytest.skip("the user {} cannot read this repository ({}): place it where "
                            "other users can read it".format(USER, REPO))
        ready = os.path.join(home, "ready")
        env = dict(os.environ, HOME=home)
        secret = cluster_secret(cluster)
        if secret:  # the user cannot read this user's published secret: hand it over
            env["RAIN_SECRET"] = secret
        governor = Process("user-governor", prefix + [
            RAIN_BIN, "governor", cluster.address, "--cpus", "2", "--listen", "127.0.0.1:0",
            "--workdir", os.path.join(home, "work"), "--logdir", os.path.join(home, "logs"),
            "--ready-file", ready,
        ], cluster.path("user-governor.out"), env)
        deadline = time.monotonic() + READY_TIMEOUT
        while not os.path.exists(ready):
            if not governor.alive() or time.monotonic() > deadline:
                raise RuntimeError("the governor did not start:\n" + governor.describe())
            time.sleep(0.05)
        yield cluster
    finally:
        if governor is not None:
            governor.stop()
        cluster.stop()
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def user_client(user_cluster):
    client = user_cluster.client()
    yield client
    client.close()


def test_the_program_runs_as_an_ordinary_user(user_client):
    with user_client.new_session() as session:
        t = tasks.Execute("id -u", stdout=True)
        t.output.keep()
        session.submit()
        assert int(t.output.fetch().get_bytes()) != 0


def test_a_linked_input_cannot_be_modified(user_client):
    with user_client.new_session() as session:
        obj = blob(b"original\n")
        obj.keep()
        # THIS IS INVALID (the documentation's example): linked objects cannot be modified.
        tasks.Execute("echo 'New line' >> myfile", shell=True,
                      input_paths=[Input("myfile", dataobj=obj)])
        session.submit()
        with pytest.raises(TaskException, match="Permission denied"):
            session.wait_all()
    with user_client.new_session() as session:
        big = tasks.Execute("head -c 1000000 /dev/zero", shell=True, stdout=True)
        big.output.keep()
        tasks.Execute(": > big", shell=True,  # a big (file-backed) input: the same
                      input_paths=[Input("big", dataobj=big.output)])
        session.submit()
        with pytest.raises(TaskException, match="Permission denied"):
            session.wait_all()


def test_a_writable_copy_can_be_modified(user_client):
    with user_client.new_session() as session:
        obj = blob(b"original\n")
        obj.keep()
        t = tasks.Execute("echo 'New line' >> myfile && cat myfile", shell=True, stdout=True,
                          input_paths=[Input("myfile", dataobj=obj, write=True)])
        t.output.keep()
        session.submit()
        assert t.output.fetch().get_bytes() == b"original\nNew line\n"
        assert obj.fetch().get_bytes() == b"original\n"


def test_an_input_directory_is_a_real_read_only_directory(user_client, tmp_path):
    (tmp_path / "d" / "sub").mkdir(parents=True)
    (tmp_path / "d" / "sub" / "f.txt").write_bytes(b"f\n")
    with user_client.new_session() as session:
        d = directory(str(tmp_path / "d"))
        check = tasks.Execute(
            "test -d d && ! test -L d && echo real; "
            "touch d/new 2>/dev/null || echo no-new; "
            "echo x >> d/sub/f.txt 2>/dev/null || echo no-append; "
            "rm -f d/sub/f.txt 2>/dev/null; test -e d/sub/f.txt && echo kept; "
            "cp -r d copy && chmod -R u+w copy && echo y >> copy/sub/f.txt && cat copy/sub/f.txt",
            shell=True, stdout=True, input_paths=[InputDir("d", dataobj=d)],
            output_paths=[OutputDir("copy")])
        check.keep_outputs()
        # A writable copy modified in place and passed on as the output.
        writable = tasks.Execute("echo z >> w/sub/f.txt && touch w/new", shell=True,
                                 input_paths=[InputDir("w", dataobj=d, write=True)],
                                 output_paths=[OutputDir("w")])
        writable.keep_outputs()
        session.submit()
        assert check.outputs["stdout"].fetch().get_bytes() == \
            b"real\nno-new\nno-append\nkept\nf\ny\n"
        writable.output.fetch().write(str(tmp_path / "w"))
        assert (tmp_path / "w" / "sub" / "f.txt").read_bytes() == b"f\nz\n"
        assert (tmp_path / "w" / "new").exists()

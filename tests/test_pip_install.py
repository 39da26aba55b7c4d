"""`pip install ./client_py` builds and installs the `rain` package offline, and the installed
package works with only the standard library and cloudpickle.

The build runs on a copy of client_py/ (and VERSION) in a temporary directory, so the source
tree gets no build/ or egg-info; `--no-build-isolation` uses the installed setuptools, so no
index is needed.
"""

import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from rain_testing import RAIN_BIN, REPO

try:
    import pip  # noqa: F401
    HAVE_PIP = True
except ImportError:
    HAVE_PIP = False

pytestmark = pytest.mark.skipif(
    not HAVE_PIP, reason="pip is not installed (apt-get install python3-pip, as .ci/run does)")

with open(os.path.join(REPO, "VERSION")) as f:
    VERSION = f.read().strip()


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """``(site_dir, dist_info_dir)`` of the package installed with pip into a fresh target."""
    root = tmp_path_factory.mktemp("pip")
    source = root / "src"
    shutil.copytree(os.path.join(REPO, "client_py"), source / "client_py",
                    ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"))
    shutil.copy(os.path.join(REPO, "VERSION"), source / "VERSION")
    site = root / "site"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-build-isolation", "--no-index",
         "--no-deps", "--no-cache-dir", "--disable-pip-version-check", "--target", str(site),
         str(source / "client_py")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=str(root))
    assert result.returncode == 0, result.stdout
    dist_infos = [p for p in site.iterdir() if p.name.endswith(".dist-info")]
    assert [p.name for p in dist_infos] == ["rain_python-{}.dist-info".format(VERSION)]
    return site, dist_infos[0]


def test_metadata(installed):
    site, dist_info = installed
    metadata = (dist_info / "METADATA").read_text()
    headers = [line for line in metadata.split("\n\n")[0].splitlines()]
    assert "Name: rain-python" in headers
    assert "Version: {}".format(VERSION) in headers
    requires = sorted(h.split(": ", 1)[1] for h in headers if h.startswith("Requires-Dist: "))
    assert requires == ["cbor2 ; extra == 'cbor'", "cloudpickle", "pyarrow ; extra == 'arrow'"]
    assert sorted(h for h in headers if h.startswith("Provides-Extra: ")) == [
        "Provides-Extra: arrow", "Provides-Extra: cbor"]
    assert (site / "rain" / "py.typed").is_file()
    assert (site / "rain" / "_version.py").read_text().count(repr(VERSION)) == 1


def _run_isolated(site, code, cwd):
    """Runs ``code`` with no site-packages (-S): only ``site`` and cloudpickle importable."""
    import cloudpickle
    cloudpickle_dir = os.path.dirname(os.path.dirname(os.path.abspath(cloudpickle.__file__)))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = os.pathsep.join([str(site), cloudpickle_dir])
    return subprocess.run([sys.executable, "-S", "-c", textwrap.dedent(code)], cwd=str(cwd),
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_every_module_imports_with_stdlib_and_cloudpickle_only(installed, tmp_path):
    site, _ = installed
    result = _run_isolated(site, """
        import importlib, pkgutil, sys
        import rain
        assert rain.__file__.startswith({site!r}), rain.__file__
        names = [m.name for m in pkgutil.walk_packages(rain.__path__, "rain.")
                 if not m.name.endswith("__main__")]
        for name in names:
            importlib.import_module(name)
        third_party = sorted({{m.split(".")[0] for m in sys.modules}}
                             - set(sys.stdlib_module_names) - {{"rain", "cloudpickle", "__main__"}})
        print(rain.__version__, len(names), third_party)
    """.format(site=str(site)), tmp_path)
    assert result.returncode == 0, result.stdout
    version, count, third_party = result.stdout.split(" ", 2)
    assert version == VERSION
    assert int(count) >= 10
    assert third_party.strip() == "[]"


def test_installed_package_runs_hello_world(installed, cluster, tmp_path):
    site, _ = installed
    result = _run_isolated(site, """
        import sys
        from rain.client import Client, blob, tasks
        client = Client("127.0.0.1", {port})
        with client.new_session() as session:
            task = tasks.Concat((blob("Hello "), blob("world!")))
            task.output.keep()
            session.submit()
            print(task.output.fetch().get_bytes().decode(), end="")
        client.close()
    """.format(port=cluster.port), tmp_path)
    assert result.returncode == 0, result.stdout
    assert result.stdout == "Hello world!"


def test_one_version_everywhere(installed):
    """VERSION is the one place the version is written: the installed package, `rain --version`
    (run as RAIN_TEST_BIN: also the bundle) and the TypeScript client's deno.json agree."""
    import json
    site, _ = installed
    assert "__version__ = {!r}".format(VERSION) in (site / "rain" / "_version.py").read_text()
    result = subprocess.run([RAIN_BIN, "--version"], stdout=subprocess.PIPE, text=True,
                            cwd="/", timeout=60)
    assert result.stdout == "rain {}\n".format(VERSION)
    with open(os.path.join(REPO, "client_ts", "deno.json")) as f:
        assert json.load(f)["version"] == VERSION

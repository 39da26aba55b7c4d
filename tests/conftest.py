"""Fixtures: real Rain clusters for the integration tests.

``rain_cluster(governors=[2, 2], server_env=..., governor_env=...)`` starts a private cluster
(stopped at the end of the test); ``cluster`` is one shared by a whole module (2 governors of
2 cpus), for tests that do not change or break the cluster.
"""

import pytest

import rain_testing  # noqa: F401  (puts client_py on sys.path)
from rain_testing import RainCluster


@pytest.fixture
def rain_cluster():
    started = []

    def start(governors=(2,), server_env=None, governor_env=None, executors=None,
              server_args=()):
        cluster = RainCluster(governors, server_env=server_env, governor_env=governor_env,
                              executors=executors, server_args=server_args)
        started.append(cluster)
        return cluster

    yield start
    for cluster in started:
        cluster.stop()


@pytest.fixture(scope="module")
def cluster():
    cluster = RainCluster((2, 2))
    yield cluster
    cluster.stop()


@pytest.fixture
def client(cluster):
    client = cluster.client()
    yield client
    client.close()


@pytest.fixture(autouse=True)
def _no_session_leaks():
    """Each test starts and ends with an empty active-session stack and no default session."""
    from rain.client import active
    yield
    del active._session_stack[:]
    active.set_default_session(None)


# Tests that start `rain` processes: those using these fixtures, and every test of a module that
# starts processes itself (it imports RAIN_BIN or RainCluster from rain_testing).
_PROCESS_FIXTURES = {"cluster", "rain_cluster", "client"}


def pytest_collection_modifyitems(config, items):
    """With RAIN_TEST_E2E_ONLY=1 only tests that start `rain` processes run: tests/run.sh's
    second pass, against the single-file program dist/rain.js (RAIN_TEST_BIN)."""
    import os
    if os.environ.get("RAIN_TEST_E2E_ONLY") != "1":
        return
    keep, drop = [], []
    for item in items:
        module = getattr(item, "module", None)
        starts_processes = bool(_PROCESS_FIXTURES & set(getattr(item, "fixturenames", ()))) or \
            any(hasattr(module, name) for name in ("RAIN_BIN", "RainCluster"))
        (keep if starts_processes else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep

"""Per-test timeout for pytest when the pytest-timeout plugin is not installed.

Loaded by tests/run.sh with `-p pytest_rain_timeout` (tools/ on PYTHONPATH). A test that runs
longer than --rain-timeout seconds (or its `@pytest.mark.timeout(seconds)`) fails with
`Failed: Timeout`, so one hung test cannot hang the whole run. Uses SIGALRM: main thread only.
"""
import signal

import pytest


def pytest_addoption(parser):
    parser.addoption("--rain-timeout", type=float, default=0.0,
                     help="fail a test that runs longer than this many seconds (0 = no limit)")


def pytest_configure(config):
    config.addinivalue_line("markers", "timeout(seconds): per-test time limit")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    seconds = item.config.getoption("--rain-timeout")
    marker = item.get_closest_marker("timeout")
    if marker is not None and marker.args:
        seconds = float(marker.args[0])
    if not seconds or seconds <= 0 or not hasattr(signal, "SIGALRM"):
        yield
        return

    def on_alarm(signum, frame):
        pytest.fail(f"Timeout: the test ran longer than {seconds:g} s", pytrace=True)

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)

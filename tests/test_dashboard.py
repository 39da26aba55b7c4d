"""The dashboard in a real headless Chromium against a real run: every view with real data,
navigation, live updates while a pipeline runs, the HTML report offline, and post-mortem
`rain dashboard` after the server stopped. The browser is driven by tests/dashboard_browser.mjs
(Node + npm playwright-core + Debian's chromium); skipped when chromium is absent.
"""

import json
import os
import shutil
import subprocess
import time
import urllib.request

import pytest

from dashboard_pipeline import etl, failing, slow
from rain_testing import REPO, RAIN_BIN, RainCluster, Process, free_port

CHROMIUM = os.environ.get("RAIN_TEST_CHROMIUM", "/usr/bin/chromium")
DRIVER = os.path.join(REPO, "tests", "dashboard_browser.mjs")
NAMES = ["generate", "transform", "simulate", "reduce"]
ETL_WIDTH = 12
ETL_TASKS = 2 * ETL_WIDTH + 1  # generate, transform (pairs), simulate, one reduce
# RAIN_DASHBOARD_SCREENSHOTS=docs/img saves a PNG of every view (README's pictures).
SCREENSHOTS = os.environ.get("RAIN_DASHBOARD_SCREENSHOTS")

pytestmark = [
    pytest.mark.skipif(not os.path.exists(CHROMIUM),
                       reason="chromium is not installed (apt-get install chromium)"),
    pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed"),
    pytest.mark.skipif(not os.path.isdir(os.path.join(REPO, "node_modules", "playwright-core")),
                       reason="playwright-core is not installed (npm install)"),
]


def browser(scenario, **args):
    """Runs one scenario of dashboard_browser.mjs; fails the test with its output."""
    args["scenario"] = scenario
    if SCREENSHOTS:
        os.makedirs(SCREENSHOTS, exist_ok=True)
        args["screenshots"] = os.path.abspath(SCREENSHOTS)
    result = subprocess.run(["node", DRIVER, json.dumps(args)], cwd=REPO, capture_output=True,
                            text=True, timeout=120)
    output = result.stdout + result.stderr
    print(output)
    assert result.returncode == 0, "browser scenario {} failed:\n{}".format(scenario, output)
    return output


def wait_for(predicate, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.1)


def get_json(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def run():
    """A cluster of two governors with an ETL session (4 task names) and a failing session."""
    cluster = RainCluster((2, 2), governor_env={"RAIN_MONITORING_INTERVAL": "0.5"})
    try:
        client = cluster.client()
        info = {"cluster": cluster, "client": client, "etl": etl(client, width=ETL_WIDTH),
                "failing": failing(client)}
        info["url"] = "http://127.0.0.1:{}/".format(cluster.http_port)
        sessions_url = info["url"] + "api/v1/sessions"

        def logged():  # the event log is queryable within a second
            rows = {s["session"]: s for s in get_json(sessions_url)}
            return (rows.get(info["etl"], {}).get("status") == "closed"
                    and rows.get(info["failing"], {}).get("status") == "failed")
        wait_for(logged, what="both sessions in the event log")
        failed = get_json(sessions_url)
        error = next(s["error"] for s in failed if s["session"] == info["failing"])
        info["failed_task"] = int(error.split("/", 1)[1].split(" ", 1)[0].rstrip("'"))
        yield info
    finally:
        cluster.stop()


def test_every_view_renders_the_run(run):
    browser("views", url=run["url"], etl=run["etl"], failing=run["failing"], total=ETL_TASKS,
            names=NAMES, failed_task=run["failed_task"])


def test_live_updates_while_a_pipeline_runs(run):
    session = slow(run["client"], count=48, seconds=0.35)  # about 4 s on 4 cpus
    try:
        browser("live", url=run["url"], session=session.session_id, total=48)
    finally:
        session.close()


def test_html_report_opens_offline(run, tmp_path):
    logdir = run["cluster"].path("server-logs")
    out = str(tmp_path / "report.html")
    result = subprocess.run([RAIN_BIN, "report", "--logdir", logdir, "--session",
                             str(run["etl"]), "-o", out], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert out in result.stdout
    with open(out) as f:
        html = f.read()
    assert 'id="rain-report-data"' in html and "etl pipeline" in html
    assert 'src="app.js"' not in html and 'href="style.css"' not in html
    # The same report from the live server's button.
    with urllib.request.urlopen("{}dashboard/report?session={}".format(
            run["url"], run["failing"]), timeout=30) as response:
        assert "attachment" in response.headers["content-disposition"]
        failed_report = response.read().decode()
    assert "nonexistent-rain-dashboard-test" in failed_report
    browser("report", file=out, session=run["etl"], total=ETL_TASKS, names=NAMES, task=11)


def test_report_and_dashboard_command_errors(run, tmp_path):
    logdir = run["cluster"].path("server-logs")
    for args, code, text in [
        (["dashboard"], 2, "missing --logdir"),
        (["dashboard", "--logdir", str(tmp_path)], 2, "no event log"),
        (["report", "--logdir", logdir], 2, "missing --session"),
        (["report", "--logdir", logdir, "--session", "x"], 2, "--session"),
        (["report", "--logdir", logdir, "--session", "999", "-o", str(tmp_path / "r.html")],
         1, "999"),
    ]:
        result = subprocess.run([RAIN_BIN] + args, capture_output=True, text=True, timeout=60)
        assert result.returncode == code, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1 and text in result.stderr, args


def test_bundled_program_serves_the_embedded_dashboard(run, tmp_path):
    """`deno bundle` (the shape of the compiled release): one file, no files read at run time."""
    deno = os.path.join(REPO, "node_modules", ".bin", "deno")
    bundle = str(tmp_path / "rain.js")
    built = subprocess.run([deno, "bundle", "--quiet", "--platform", "deno", "--output", bundle,
                            os.path.join(REPO, "main.ts")], cwd=REPO, capture_output=True,
                           text=True, timeout=120)
    assert built.returncode == 0, built.stderr
    ready = str(tmp_path / "ready")
    port = free_port()
    dashboard = Process("bundled dashboard", [
        deno, "run", "-A", "--no-config", "--unstable-worker-options", bundle, "dashboard",
        "--logdir", run["cluster"].path("server-logs"), "--http-listen", str(port),
        "--ready-file", ready,
    ], str(tmp_path / "out"))
    try:
        wait_for(lambda: os.path.exists(ready) or not dashboard.alive(), timeout=30,
                 what="the bundled rain dashboard")
        assert dashboard.alive(), dashboard.describe()
        url = "http://127.0.0.1:{}/".format(port)
        with urllib.request.urlopen(url, timeout=10) as response:
            assert b'src="app.js"' in response.read()
        with urllib.request.urlopen(url + "app.js", timeout=10) as response:
            assert "javascript" in response.headers["content-type"]
            assert len(response.read()) > 10000
        assert any(s["session"] == run["etl"] for s in get_json(url + "api/v1/sessions"))
    finally:
        dashboard.stop()


def test_post_mortem_dashboard_after_the_server_stopped(run):
    cluster = run["cluster"]
    run["client"].close()
    for process in reversed(cluster.all_processes()):
        process.stop()
    ready = cluster.path("dashboard.ready")
    port = free_port()
    dashboard = Process("dashboard", [
        RAIN_BIN, "dashboard", "--logdir", cluster.path("server-logs"),
        "--http-listen", "127.0.0.1:{}".format(port), "--ready-file", ready,
    ], cluster.path("dashboard.out"))
    try:
        wait_for(lambda: os.path.exists(ready) or not dashboard.alive(), what="rain dashboard")
        assert dashboard.alive(), dashboard.describe()
        url = "http://127.0.0.1:{}/".format(port)
        assert get_json(url + "dashboard/meta")["mode"] == "postmortem"
        browser("postmortem", url=url, etl=run["etl"], total=ETL_TASKS)
    finally:
        dashboard.stop()


FLAKY = 'if [ "$RAIN_TASK_ATTEMPT" = 1 ]; then exit 3; fi; printf "attempt $RAIN_TASK_ATTEMPT"'


def test_recovery_is_shown_governor_lost_reruns_and_attempts(rain_cluster):
    """A governor SIGKILLed after its tasks finished: its kept outputs are recomputed; the
    dashboard shows it lost, the session's re-runs and retry, and each task's attempts."""
    import signal
    from rain.client import tasks
    from test_governor_loss import governors, process_of

    cluster = rain_cluster(governors=[1])
    client = cluster.client()
    [victim_id] = governors(client)
    with client.new_session("recovering") as session:
        source = tasks.Execute("printf source", shell=True, stdout=True)
        source.output.keep()
        flaky = tasks.Execute(FLAKY, shell=True, stdout=True, max_retries=1)
        flaky.output.keep()
        session.submit()
        session.wait_all()
        cluster.add_governor(cpus=1)
        victim = process_of(cluster, victim_id)
        victim.popen.send_signal(signal.SIGKILL)
        victim.popen.wait()
        assert source.output.fetch().get_bytes() == b"source"  # recomputed
        assert flaky.output.fetch().get_bytes() == b"attempt 3"
        sessions_url = "http://127.0.0.1:{}/api/v1/sessions".format(cluster.http_port)
        [row] = [s for s in get_json(sessions_url) if s["session"] == session.session_id]
        assert (row["tasks_rerun"], row["tasks_retried"]) == (2, 1)
    # The other governor leaves in order (drained).
    [drained_id] = governors(client)
    drained = subprocess.run([RAIN_BIN, "drain", drained_id, "--server", cluster.address],
                             capture_output=True, text=True, timeout=60)
    assert drained.returncode == 0, drained.stderr
    assert wait_for(lambda: drained_id not in governors(client), 30, "the drained governor gone")
    browser("recovery", url="http://127.0.0.1:{}/".format(cluster.http_port),
            session=session.session_id, victim=victim_id, drained=drained_id,
            rerun_task=source.id.id, retried_task=flaky.id.id)

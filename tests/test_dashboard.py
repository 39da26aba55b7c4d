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

from dashboard_pipeline import LONG_ERROR, etl, failing, gated, python_failure, tiny, wide
from rain_testing import REPO, RAIN_BIN, Gate, RainCluster, Process, free_port, wait_until

CHROMIUM = os.environ.get("RAIN_TEST_CHROMIUM", "/usr/bin/chromium")
DRIVER = os.path.join(REPO, "tests", "dashboard_browser.mjs")
NAMES = ["generate", "transform", "simulate", "reduce"]
ETL_WIDTH = 12
ETL_TASKS = 2 * ETL_WIDTH + 1  # generate, transform (pairs), simulate, one reduce
WIDE_WIDTH = 50  # + its merge: the 51-task graph of issue 17
LIVE_WIDTH = 12  # gated tasks (4 start at once on the 4 cpus), each with a consumer
LIVE_TASKS = 2 * LIVE_WIDTH
# RAIN_DASHBOARD_SCREENSHOTS=docs/img saves a PNG of every view (README's pictures).
SCREENSHOTS = os.environ.get("RAIN_DASHBOARD_SCREENSHOTS")

pytestmark = [
    pytest.mark.skipif(not os.path.exists(CHROMIUM),
                       reason="chromium is not installed (apt-get install chromium)"),
    pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed"),
    pytest.mark.skipif(not os.path.isdir(os.path.join(REPO, "node_modules", "playwright-core")),
                       reason="playwright-core is not installed (npm install)"),
]


def start_browser(scenario, **args):
    """Starts one scenario of dashboard_browser.mjs (its output: stdout, then stderr)."""
    args["scenario"] = scenario
    if SCREENSHOTS:
        os.makedirs(SCREENSHOTS, exist_ok=True)
        args["screenshots"] = os.path.abspath(SCREENSHOTS)
    return subprocess.Popen(["node", DRIVER, json.dumps(args)], cwd=REPO, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def finish_browser(scenario, driver):
    """Waits for a scenario; fails the test with its output."""
    output, _ = driver.communicate(timeout=120)
    print(output)
    assert driver.returncode == 0, "browser scenario {} failed:\n{}".format(scenario, output)
    return output


def browser(scenario, **args):
    """Runs one scenario of dashboard_browser.mjs; fails the test with its output."""
    return finish_browser(scenario, start_browser(scenario, **args))


def wait_for(predicate, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.1)


def get_events(events_db, event_type):
    import sqlite3
    with sqlite3.connect(events_db) as db:
        return [{"event": json.loads(row[0])} for row in db.execute(
            "SELECT event FROM events WHERE event_type = ? ORDER BY id", (event_type,))]


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
                "failing": failing(client), "wide": wide(client, width=WIDE_WIDTH),
                "tiny": tiny(client)}
        info["python"], info["python_task"] = python_failure(client)
        info["url"] = "http://127.0.0.1:{}/".format(cluster.http_port)
        sessions_url = info["url"] + "api/v1/sessions"

        def logged():  # the event log is queryable within a second
            rows = {s["session"]: s for s in get_json(sessions_url)}
            return (all(rows.get(info[k], {}).get("status") == "closed"
                        for k in ("etl", "wide", "tiny"))
                    and rows.get(info["failing"], {}).get("status") == "failed"
                    and rows.get(info["python"], {}).get("status") == "failed")
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


def test_lanes_are_the_governors_cpus(run):
    """Hundreds of sub-millisecond tasks: each on the cpu slot its governor reported, never
    more lanes than cpus (the stream drew 130 rows for 2 cpus when lanes were guessed)."""
    for sid in (run["tiny"], run["etl"]):
        stream = get_json("{}api/v1/sessions/{}/task_stream".format(run["url"], sid))
        # (the governors that ran some of the session's tasks: one may have run them all)
        assert all(g["lanes"] == g["cpus"] == 2 for g in stream["governors"]), stream["governors"]
        cpus = {g["governor"]: g["cpus"] for g in stream["governors"]}
        assert all(0 <= t["cpu"] < cpus[t["governor"]] for t in stream["tasks"])
        # No two tasks overlap on one lane (start/end as the governors reported them).
        by_lane = {}
        for t in stream["tasks"]:
            by_lane.setdefault((t["governor"], t["cpu"]), []).append((t["start"], t["end"]))
        for bars in by_lane.values():
            bars.sort()
            assert all(a[1] <= b[0] + 0.002 for a, b in zip(bars, bars[1:])), bars
    stream = get_json("{}api/v1/sessions/{}/task_stream".format(run["url"], run["tiny"]))
    browser("lanes", url=run["url"], session=run["tiny"],
            cpus=sum(g["cpus"] for g in stream["governors"]))


def test_ended_sessions_count_the_same_everywhere(run):
    """A failed session: nothing running, the never-run tasks cancelled, in every view."""
    base = "{}api/v1/sessions/{}".format(run["url"], run["failing"])
    summary = get_json(base + "/summary")
    assert summary["tasks_running"] == 0
    assert summary["tasks_cancelled"] >= 1  # use-input never ran
    assert summary["tasks_finished"] + summary["tasks_failed"] + summary["tasks_cancelled"] == 3
    groups = {g["name"]: g for g in get_json(base + "/task_groups")}
    assert all(g["running"] == 0 for g in groups.values())
    assert groups["use-input"]["cancelled"] == 1
    assert sum(g["cancelled"] for g in groups.values()) == summary["tasks_cancelled"]
    stream = get_json(base + "/task_stream")
    assert all(t["end"] is not None for t in stream["tasks"])
    browser("ended", url=run["url"], session=run["failing"],
            cancelled=summary["tasks_cancelled"])


def test_inspector_of_a_python_task(run):
    browser("inspector", url=run["url"], session=run["python"], task=run["python_task"],
            etl=run["etl"], error_start=LONG_ERROR[:30])


def test_graph_opens_in_the_view_that_is_readable(run):
    browser("graph", url=run["url"], wide=run["wide"], tasks=WIDE_WIDTH + 1, etl=run["etl"],
            etl_tasks=ETL_TASKS)


def test_narrow_window(run):
    browser("narrow", url=run["url"], etl=run["etl"], python=run["python"],
            python_task=run["python_task"])


def test_live_updates_while_a_pipeline_runs(run, tmp_path):
    """The page follows a session without a reload: a first wave of gated tasks fills the 4 cpus;
    once the page shows them running, the gate opens and it must show the rest as they end."""
    gate = Gate(str(tmp_path / "gate"))
    handshake = str(tmp_path / "seen")
    session = gated(run["client"], gate, cpus=4, width=LIVE_WIDTH)
    driver = None
    try:
        assert wait_until(lambda: gate.started_count() == 4, 60), "the first wave did not start"
        driver = start_browser("live", url=run["url"], session=session.session_id,
                               running=4, total=LIVE_TASKS, handshake=handshake)
        wait_for(lambda: os.path.exists(handshake) or driver.poll() is not None, timeout=120,
                 what="the page to show the first wave running")
        gate.open()
        finish_browser("live", driver)
    finally:
        gate.open()
        if driver is not None and driver.poll() is None:
            driver.kill()
            driver.wait()
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


def test_event_log_is_self_contained_while_the_server_runs(run, tmp_path):
    """events.db is checkpointed every few seconds: a copy of it alone (no -wal file) opens."""
    events_db = os.path.join(run["cluster"].path("server-logs"), "events.db")
    copy = str(tmp_path / "events.db")
    out = str(tmp_path / "report.html")

    def copy_reports():
        shutil.copyfile(events_db, copy)
        result = subprocess.run([RAIN_BIN, "report", copy, "--session", str(run["tiny"]),
                                 "-o", out], capture_output=True, text=True, timeout=60)
        return result.returncode == 0
    wait_for(copy_reports, timeout=30, what="a copy of events.db alone to hold session tiny")


def test_post_mortem_dashboard_after_the_server_stopped(run, tmp_path):
    cluster = run["cluster"]
    run["client"].close()
    # `rain stop` as a user stops it: governors leave in order; once it returns, events.db is
    # whole (checkpointed, no -wal) and a copy of it alone makes a report.
    stop = subprocess.run([RAIN_BIN, "stop", cluster.address], capture_output=True, text=True,
                          timeout=60)
    assert stop.returncode == 0, stop.stdout + stop.stderr
    logdir = cluster.path("server-logs")
    assert not os.path.exists(os.path.join(logdir, "events.db-wal")), os.listdir(logdir)
    copy = str(tmp_path / "events.db")
    shutil.copyfile(os.path.join(logdir, "events.db"), copy)
    result = subprocess.run([RAIN_BIN, "report", copy, "--session", str(run["etl"]), "-o",
                             str(tmp_path / "r.html")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    for process in reversed(cluster.all_processes()):
        process.stop()
    removed = [e["event"] for e in get_events(copy, "GovernorRemoved")]
    assert len(removed) == 2 and all(e.get("orderly") is True for e in removed), removed
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

"""Progress bars of wait_all() / wait(): rendering on a (fake) terminal and in (fake) Jupyter,
nothing at all when stderr is not a terminal, enabling per call or by RAIN_PROGRESS=1."""

import io
import sys
import types

from rain.client import blob, tasks
from rain.client import progress as progress_module
from rain.client.progress import ProgressBar, format_progress, progress_wanted


class FakeTTY(io.StringIO):
    def isatty(self):
        return True


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_format_progress_line():
    line = format_progress("Session 3", 250, 1000, 5.0)
    assert line.startswith("Session 3 [" + "#" * 8 + "." * 22 + "]")
    assert "250/1,000" in line and " 25.0%" in line
    assert "50 tasks/s" in line and "ETA 0:15" in line
    done = format_progress("S", 1000, 1000, 3725.0)
    assert "100.0%" in done and "ETA" not in done and "done in 1:02:05" in done
    assert "0.40 items/s" in format_progress("S", 2, 10, 5.0, unit="items")
    assert "0/0" in format_progress("S", 0, 0, 0.0) and "100.0%" in format_progress("S", 0, 0, 0)


def test_terminal_bar_redraws_one_line_and_ends_with_a_newline():
    stream, clock = FakeTTY(), FakeClock()
    bar = ProgressBar.create("S", stream=stream, jupyter=False, clock=clock)
    assert bar.active
    bar.update(0, 10)
    clock.now += 0.01
    bar.update(5, 10)  # too soon after the last redraw: skipped
    clock.now += 1
    bar.update(5, 10)
    bar.update(5, 10)  # unchanged: skipped
    clock.now += 1
    bar.update(10, 10, final=True)
    bar.close()
    bar.close()
    out = stream.getvalue()
    frames = out.split("\r")[1:]
    assert len(frames) == 3
    assert "0/10" in frames[0] and "5/10" in frames[1] and "10/10" in frames[2]
    assert "100.0%" in frames[2] and out.endswith("\n") and out.count("\n") == 1
    # a shorter line blanks what remains of a longer one
    assert all(len(f.rstrip("\n")) >= len(frames[0]) for f in frames[1:])


def test_no_bar_unless_a_terminal():
    stream = io.StringIO()
    bar = ProgressBar.create("S", stream=stream, jupyter=False)
    assert not bar.active
    bar.update(1, 2)
    bar.update(2, 2, final=True)
    bar.close()
    assert stream.getvalue() == ""


def test_jupyter_output_is_one_updated_display(monkeypatch):
    shown = []

    class Handle:
        def update(self, data, raw):
            shown.append(("update", data["text/plain"]))

    def display(data, raw, display_id):
        assert raw and display_id
        shown.append(("display", data["text/plain"]))
        return Handle()

    fake = types.ModuleType("IPython.display")
    fake.display = display
    monkeypatch.setitem(sys.modules, "IPython.display", fake)
    clock = FakeClock()
    bar = ProgressBar.create("S", stream=io.StringIO(), jupyter=True, clock=clock)
    assert bar.active
    bar.update(1, 4)
    clock.now += 1
    bar.update(4, 4, final=True)
    bar.close()
    assert [kind for kind, _ in shown] == ["display", "update"]
    assert "4/4" in shown[-1][1]


def test_in_jupyter_detection(monkeypatch):
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    assert not progress_module.in_jupyter()
    fake = types.ModuleType("IPython")
    fake.get_ipython = lambda: types.SimpleNamespace(config={"IPKernelApp": {}})
    monkeypatch.setitem(sys.modules, "IPython", fake)
    assert progress_module.in_jupyter()
    fake.get_ipython = lambda: None  # plain python with IPython imported
    assert not progress_module.in_jupyter()


def test_enabled_per_call_or_by_environment(monkeypatch):
    monkeypatch.delenv("RAIN_PROGRESS", raising=False)
    assert not progress_wanted(None)
    assert progress_wanted(True)
    monkeypatch.setenv("RAIN_PROGRESS", "1")
    assert progress_wanted(None)
    assert not progress_wanted(False)
    monkeypatch.setenv("RAIN_PROGRESS", "0")
    assert not progress_wanted(None)


def fake_stderr(monkeypatch):
    """stderr as a terminal. Set in the test itself: pytest re-installs its own capture of
    sys.stderr between a fixture's setup and the test."""
    stream = FakeTTY()
    monkeypatch.setattr(sys, "stderr", stream)
    return stream


def test_wait_all_and_wait_draw_a_bar_on_a_terminal(client, monkeypatch):
    stderr = fake_stderr(monkeypatch)
    with client.new_session("progress") as s:
        outs = [tasks.Sleep(blob(b"x"), 0.2).output for _ in range(6)]
        s.submit()
        s.wait(outs[:2], progress=True)
        waited = stderr.getvalue()
        assert waited.endswith("\n") and "2/2" in waited and "items" in waited
        s.wait_all(progress=True)
    out = stderr.getvalue()[len(waited):]
    last = out.rstrip("\n").split("\r")[-1]
    assert last.startswith("Session {} [".format(s.session_id))
    assert "6/6" in last and "100.0%" in last and "done in" in last
    assert out.endswith("\n")


def test_progress_by_environment_but_no_output_without_a_terminal(client, monkeypatch, capsys):
    monkeypatch.setenv("RAIN_PROGRESS", "1")
    with client.new_session() as s:
        tasks.Sleep(blob(b"x"), 0.2)
        s.submit()
        s.wait_all()
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_no_bar_by_default_even_on_a_terminal(client, monkeypatch):
    monkeypatch.delenv("RAIN_PROGRESS", raising=False)
    stderr = fake_stderr(monkeypatch)
    with client.new_session() as s:
        t = tasks.Concat((blob(b"a"), blob(b"b")))
        s.submit()
        s.wait([t])
        s.wait_all()
    assert stderr.getvalue() == ""

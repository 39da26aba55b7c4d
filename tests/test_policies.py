"""Task policies (retries, retry_on, time limits) and session failure policies (continue mode,
cancel, rerun_failed) through the Python client, on real processes (docs/policies.md)."""

import os

import pytest

from rain.client import Input, Program, RainException, TaskException, blob, remote, tasks
from rain_testing import wait_until

# Exits 3 on the first attempt, prints the attempt number on the next ones.
FLAKY = 'if [ "$RAIN_TASK_ATTEMPT" = 1 ]; then exit 3; fi; printf "attempt $RAIN_TASK_ATTEMPT"'


def test_program_failing_on_attempt_1_succeeds_on_2(client):
    with client.new_session() as session:
        task = tasks.Execute(FLAKY, stdout=True, shell=True, max_retries=2)
        task.output.keep()
        session.submit()
        assert task.output.fetch().get_bytes() == b"attempt 2"
        task.update()
        attempts = task.info.attempts
        assert [a.get("error") is None for a in attempts] == [False, True]
        assert "exited with code 3" in attempts[0]["error"]
        assert all(a["governor"] for a in attempts)
        assert task.spec.policy == {"max_retries": 2}


def test_program_policy_at_definition_and_per_call(client):
    program = Program(["sh", "-c", FLAKY], stdout=True, max_retries=1)
    with client.new_session(on_failure="continue") as session:
        retried = program()
        retried.output.keep()
        once = program(max_retries=0, name="once")
        session.submit()
        assert retried.output.fetch().get_bytes() == b"attempt 2"
        with pytest.raises(TaskException, match=r"'once'.*\n.*exited with code 3"):
            session.wait_all()


def test_python_task_raising_once_is_retried(client):
    @remote(max_retries=1)
    def flaky(ctx):
        if ctx.attempt == 1:
            raise ConnectionResetError("transient")
        return "{} {}".format(ctx.attempt, os.environ["RAIN_TASK_ATTEMPT"]).encode()

    with client.new_session() as session:
        task = flaky()
        task.output.keep()
        session.submit()
        assert task.output.fetch().get_bytes() == b"2 2"
        task.update()
        assert "ConnectionResetError: transient" in task.info.attempts[0]["error"]


def test_retry_on_narrows_exit_codes(client):
    with client.new_session(on_failure="continue") as session:
        matching = tasks.Execute(FLAKY, stdout=True, shell=True, max_retries=3, retry_on=[3])
        matching.output.keep()
        other = tasks.Execute("exit 4", shell=True, max_retries=3, retry_on=[3], name="exit4")
        session.submit()
        assert matching.output.fetch().get_bytes() == b"attempt 2"
        with pytest.raises(TaskException, match=r"^1 task of session \d+ failed:\n.*'exit4'"):
            session.wait_all()
        other.update()
        assert other.info.attempts is None  # one attempt only
        assert other.info.exit_code == 4


def test_retry_on_narrows_exception_classes(client):
    @remote(max_retries=2, retry_on=[ConnectionError])
    def raises(ctx, error_class):
        if ctx.attempt == 1:
            raise error_class("attempt 1")
        return b"recovered"

    with client.new_session(on_failure="continue") as session:
        subclass = raises(ConnectionRefusedError)  # a ConnectionError: retried
        subclass.output.keep()
        unrelated = raises(ValueError)  # not retried
        session.submit()
        assert subclass.output.fetch().get_bytes() == b"recovered"
        with pytest.raises(TaskException, match="ValueError: attempt 1"):
            session.wait(unrelated)
        unrelated.update()
        assert unrelated.info.exception_types[:2] == ["ValueError", "Exception"]
        assert unrelated.info.attempts is None


def test_time_limit_kills_the_attempt_naming_the_limit(client):
    with client.new_session() as session:
        tasks.Execute("sleep 60", time_limit=1)
        session.submit()
        with pytest.raises(TaskException, match="longer than its time limit of 1 s"):
            session.wait_all()


def test_time_limit_failure_is_retried(client):
    script = 'if [ "$RAIN_TASK_ATTEMPT" = 1 ]; then exec sleep 60; fi; printf ok'
    with client.new_session() as session:
        task = tasks.Execute(script, stdout=True, shell=True, time_limit=3, max_retries=1)
        task.output.keep()
        session.submit()
        assert task.output.fetch().get_bytes() == b"ok"
        task.update()
        assert "time limit of 3 s" in task.info.attempts[0]["error"]


def test_continue_mode_diamond_and_rerun_failed(client, tmp_path):
    flag = tmp_path / "fixed"
    with client.new_session(on_failure="continue") as session:
        source = blob(b"data")
        good = tasks.Execute("cat", stdin=source, stdout=True, name="good")
        good.output.keep()
        bad = tasks.Execute(["sh", "-c", 'cat "$0"', str(flag)], stdout=True, name="bad")
        merged = tasks.Concat([good, bad], name="merged")
        merged.output.keep()
        bystander = tasks.Concat([source], name="bystander")
        bystander.output.keep()
        session.submit()
        with pytest.raises(TaskException, match=r"^2 tasks of session \d+ failed:\n- .*'bad'"):
            session.wait_all()
        assert good.output.fetch().get_bytes() == b"data"
        assert bystander.output.fetch().get_bytes() == b"data"
        failed = session.failed_tasks()
        assert failed == [bad, merged]
        assert "its input object" in merged.info.error and "'bad'" in merged.info.error
        with pytest.raises(TaskException, match="was not run: its input object"):
            merged.output.fetch()
        flag.write_bytes(b"+fixed")
        assert session.rerun_failed() == [bad, merged]
        session.wait_all()
        assert merged.output.fetch().get_bytes() == b"data+fixed"
        assert session.failed_tasks() == []


def test_cancel_kills_a_running_execute_and_its_dependents(client, tmp_path):
    pid_file = tmp_path / "pid"
    with client.new_session() as session:
        script = 'echo $$ > "$0.tmp" && mv "$0.tmp" "$0" && exec sleep 60'
        running = tasks.Execute(["sh", "-c", script, str(pid_file)], stdout=True)
        dependent = tasks.Concat([running], name="dependent")
        dependent.output.keep()
        session.submit()
        assert wait_until(pid_file.exists, timeout=60)
        pid = int(pid_file.read_text())
        assert session.cancel(running) == [running, dependent]
        assert wait_until(lambda: not _alive(pid), timeout=30)
        with pytest.raises(TaskException, match="'dependent'.*was not run.*was cancelled"):
            session.wait(dependent)
        session.wait_all()  # cancelled tasks are no failure: the session goes on
        after = tasks.Concat([blob(b"still usable")])
        after.output.keep()
        session.submit()
        assert after.output.fetch().get_bytes() == b"still usable"


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("kwargs, message", [
    ({"max_retries": -1}, "max_retries must be a non-negative integer, not -1"),
    ({"time_limit": 0}, "time_limit must be a positive number of seconds, not 0"),
    ({"crash_limit": 1.5}, "crash_limit must be a non-negative integer, not 1.5"),
    ({"retry_on": [None]}, "retry_on takes exit codes, exception classes .* not None"),
])
def test_bad_policy_values_are_refused(client, kwargs, message):
    with client.new_session():
        with pytest.raises(RainException, match=message):
            tasks.Execute("true", **kwargs)
        with pytest.raises(RainException, match=message):
            remote(**kwargs)(lambda ctx: b"")
        with pytest.raises(RainException, match=message):
            Program("true", **kwargs)


def test_bad_on_failure_is_refused(client):
    with pytest.raises(RainException, match="on_failure must be .* not 'bogus'"):
        client.new_session(on_failure="bogus")


def test_server_refuses_a_bad_policy_in_a_raw_spec(client):
    with client.new_session() as session:
        task = tasks.Concat([blob(b"x")])
        task.spec.policy = {"time_limit": -2}
        with pytest.raises(RainException, match=r"policy.time_limit must be .* got -2"):
            session.submit()


def test_program_input_named_like_a_policy_stays_an_input(client):
    program = Program(["cat", Input("time_limit")], stdout=True)
    with client.new_session() as session:
        task = program(time_limit=blob(b"an input"))
        task.output.keep()
        session.submit()
        assert task.output.fetch().get_bytes() == b"an input"
        assert task.spec.policy is None

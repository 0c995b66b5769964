"""The function runner: real worker processes, kept warm, killed on timeout."""

import os
import time

import pytest

pytestmark = pytest.mark.functional


def test_function_sees_its_environment_and_a_lambda_context(add_sample, runner):
    add_sample(runner, "echo", environment={"GREETING": "hello"}, timeout=5)

    result = runner.invoke("sample-echo", b'{"a": 1}', request_id="req-1")

    answer = result.json()
    assert result.ok
    assert answer["event"] == {"a": 1}
    assert answer["greeting"] == "hello"
    assert answer["function_name"] == "sample-echo"
    assert answer["request_id"] == "req-1"
    assert answer["arn"] == (
        "arn:aws:lambda:us-east-1:123456789012:function:sample-echo"
    )
    assert answer["memory"] == 128
    assert 4000 < answer["remaining_ms"] <= 5000
    assert answer["pid"] != os.getpid()


def test_worker_stays_warm_between_invocations(add_sample, runner):
    add_sample(runner, "echo")

    first = runner.invoke("sample-echo", b"{}").json()
    second = runner.invoke("sample-echo", b"{}").json()

    assert second["pid"] == first["pid"]
    assert second["warm_calls"] == first["warm_calls"] + 1


def test_handler_exception_comes_back_as_an_unhandled_error(add_sample, runner):
    add_sample(runner, "fail")

    result = runner.invoke("sample-fail", b'{"n": 7}')

    assert result.function_error == "Unhandled"
    body = result.json()
    assert body["errorType"] == "ValueError"
    assert body["errorMessage"] == "cannot handle 7"
    assert "sample_app.py" in body["stackTrace"][0]


def test_timeout_kills_the_worker_and_the_next_call_gets_a_fresh_one(
    add_sample, runner
):
    add_sample(runner, "sleep", timeout=1)
    add_sample(runner, "echo", name="sample-sleep-echo")
    function = runner.get("sample-sleep")

    result = runner.invoke("sample-sleep", b'{"seconds": 30}')

    assert result.function_error == "Unhandled"
    assert result.json()["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in result.json()["errorMessage"]
    assert function.restarts == 1
    assert runner.invoke("sample-sleep", b'{"seconds": 0}').json() == {"slept": True}


def test_crashed_worker_is_replaced(add_sample, runner):
    add_sample(runner, "crash")

    crashed = runner.invoke("sample-crash", b"{}")

    assert crashed.json()["errorType"] == "Runtime.ExitError"
    assert runner.get("sample-crash").restarts == 1
    # The replacement starts at once, so the next call finds a warm worker.
    deadline = time.monotonic() + 10
    while not runner.pids() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(runner.pids()) == 1
    again = runner.invoke("sample-crash", b"{}")
    assert again.json()["errorType"] == "Runtime.ExitError"


def test_every_log_line_carries_the_function_name(add_sample, runner, log_lines):
    add_sample(runner, "echo")

    runner.invoke("sample-echo", b"{}")

    # A reader thread forwards the worker's output: give it a moment.
    deadline = time.monotonic() + 5
    printed: list[str] = []
    while time.monotonic() < deadline and "echo called" not in printed:
        printed = [line for name, line in log_lines.lines if name == "sample-echo"]
        time.sleep(0.05)
    assert "echo called" in printed
    assert any(line.startswith("START RequestId:") for line in printed)


def test_function_cannot_import_repository_packages_it_does_not_ship(
    add_sample, runner
):
    # switchyard_local is installed in the venv, but not in the package.
    spec = add_sample(runner, "echo", name="sample-import")
    spec.handler = "switchyard_local.stack.LocalStack"

    result = runner.invoke("sample-import", b"{}")

    assert result.json()["errorType"] == "Runtime.ImportModuleError"

"""A slow cold start must not use up the invocation's timeout.

Lambda runs a function's Init phase (imports, module-level code) with its
own 10 s limit, apart from the function timeout; the handler's context
counts its time from the start of the invocation. The local runner must do
the same, or a cold worker whose imports are slow (boto3 on a busy 2-core
machine) is killed while its context still reports time left, and a
connector that keeps to its budget is killed anyway.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest

from switchyard_local.runner import FunctionRunner
from switchyard_local.templates import FunctionSpec

pytestmark = [pytest.mark.functional, pytest.mark.timeout(60)]

SLOW_INIT = """
import time

time.sleep(1.5)  # a slow import, like boto3 on a busy machine


def handler(event, context):
    return {"remaining_ms": context.get_remaining_time_in_millis()}
"""


@pytest.fixture
def runner(tmp_path: Path) -> Iterator[FunctionRunner]:
    (tmp_path / "slow_init.py").write_text(SLOW_INIT, encoding="utf-8")
    runner = FunctionRunner(lambda name, line: None, concurrency=1)
    runner.add(
        FunctionSpec(
            logical_id="SlowInit",
            name="slow-init",
            handler="slow_init.handler",
            environment={},
            timeout=1,
        ),
        str(tmp_path),
        "http://127.0.0.1:9",
    )
    yield runner
    runner.stop()


def test_cold_start_longer_than_the_timeout_does_not_time_the_invocation_out(
    runner: FunctionRunner,
):
    result = runner.invoke("slow-init", b"{}")

    assert result.ok, result.payload
    assert 500 < result.json()["remaining_ms"] <= 1000
    assert runner.get("slow-init").restarts == 0


def test_a_handler_past_its_timeout_is_still_killed_after_a_cold_start(
    runner: FunctionRunner, tmp_path: Path
):
    (tmp_path / "slow_init.py").write_text(
        SLOW_INIT + "\n\ndef sleepy(event, context):\n    time.sleep(30)\n",
        encoding="utf-8",
    )
    function = runner.get("slow-init")
    function.spec.handler = "slow_init.sleepy"

    result = runner.invoke("slow-init", b"{}")

    assert result.function_error == "Unhandled"
    assert result.json()["errorType"] == "Sandbox.Timedout"
    assert function.restarts == 1

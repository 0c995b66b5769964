"""A failed deploy exits non-zero, says why, and leaves no broken stack."""

import pytest

from switchyard_infra.deploy import main

pytestmark = pytest.mark.functional


def test_a_service_without_its_shared_stack_fails_naming_the_missing_export(
    aws_server: str, capsys: pytest.CaptureFixture[str]
):
    code = main(["dlq-processor", "--endpoint-url", aws_server])

    err = capsys.readouterr().err
    assert code == 1
    assert "deploy dlq-processor failed" in err
    assert "switchyard-dev-DeadLetterQueueArn" in err


def test_an_unknown_parameter_is_refused_before_anything_changes(
    aws_server: str, capsys: pytest.CaptureFixture[str]
):
    code = main(["shared", "--endpoint-url", aws_server, "--parameter", "Nope=1"])

    assert code == 1
    assert "Nope" in capsys.readouterr().err

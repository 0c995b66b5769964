"""The Lambda Invoke API: unchanged boto3 calls, real status codes and errors."""

import json
from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError

from switchyard_local.async_invoke import AsyncInvoker
from switchyard_local.destinations import Destinations
from switchyard_local.http_server import LoopbackServer
from switchyard_local.invoke_api import InvokeApi
from switchyard_local.templates import InvokeConfigSpec

pytestmark = pytest.mark.functional


@pytest.fixture
def local_lambda(aws_server, runner, add_sample, aws_client) -> Iterator[dict]:
    sqs = aws_client("sqs", aws_server)
    queue_url = sqs.create_queue(QueueName="on-failure")["QueueUrl"]
    queue_arn = "arn:aws:sqs:us-east-1:123456789012:on-failure"
    for handler in ("echo", "fail", "flaky"):
        add_sample(runner, handler, aws_server)
    configs = {
        "sample-fail": InvokeConfigSpec("sample-fail", 1, 60, None, queue_arn),
        "sample-flaky": InvokeConfigSpec("sample-flaky", 2, 60, None, queue_arn),
    }
    invoker = AsyncInvoker(
        runner, Destinations(aws_server), configs, retry_delays=(0.1, 0.2)
    )
    server = LoopbackServer(InvokeApi(runner, invoker, aws_server), "lambda").start()
    try:
        yield {
            "lambda": aws_client("lambda", server.url),
            "invoker": invoker,
            "sqs": sqs,
            "queue_url": queue_url,
        }
    finally:
        server.stop()
        invoker.stop()


def test_request_response_returns_the_function_result(local_lambda):
    answer = local_lambda["lambda"].invoke(
        FunctionName="sample-echo", Payload=b'{"x": 1}'
    )

    assert answer["StatusCode"] == 200
    assert "FunctionError" not in answer
    assert json.loads(answer["Payload"].read())["event"] == {"x": 1}


def test_function_error_is_reported_in_the_header_and_body(local_lambda):
    answer = local_lambda["lambda"].invoke(
        FunctionName="sample-fail", Payload=b'{"n": 2}'
    )

    assert answer["StatusCode"] == 200
    assert answer["FunctionError"] == "Unhandled"
    body = json.loads(answer["Payload"].read())
    assert body["errorType"] == "ValueError"
    assert body["errorMessage"] == "cannot handle 2"


def test_dry_run_checks_without_running(local_lambda, runner):
    answer = local_lambda["lambda"].invoke(
        FunctionName="sample-echo", InvocationType="DryRun"
    )

    assert answer["StatusCode"] == 204
    assert runner.get("sample-echo").restarts == 0


def test_unknown_function_is_resource_not_found(local_lambda):
    with pytest.raises(ClientError) as caught:
        local_lambda["lambda"].invoke(FunctionName="nope", Payload=b"{}")

    error = caught.value.response
    assert error["Error"]["Code"] == "ResourceNotFoundException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_event_over_one_megabyte_is_refused_with_413(local_lambda):
    payload = json.dumps({"a": "x" * (1024 * 1024)}).encode()

    with pytest.raises(ClientError) as caught:
        local_lambda["lambda"].invoke(
            FunctionName="sample-echo", InvocationType="Event", Payload=payload
        )

    error = caught.value.response
    assert error["Error"]["Code"] == "RequestEntityTooLargeException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 413


def test_payload_that_is_not_json_is_refused(local_lambda):
    with pytest.raises(ClientError) as caught:
        local_lambda["lambda"].invoke(FunctionName="sample-echo", Payload=b"{nope")

    assert caught.value.response["Error"]["Code"] == "InvalidRequestContentException"


def test_failing_event_is_retried_then_sent_to_on_failure_destination(local_lambda):
    answer = local_lambda["lambda"].invoke(
        FunctionName="sample-fail", InvocationType="Event", Payload=b'{"n": 3}'
    )
    assert answer["StatusCode"] == 202
    assert local_lambda["invoker"].wait_idle(10)

    messages = local_lambda["sqs"].receive_message(
        QueueUrl=local_lambda["queue_url"], WaitTimeSeconds=1
    )["Messages"]

    record = json.loads(messages[0]["Body"])
    assert record["version"] == "1.0"
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["requestContext"]["functionArn"].endswith(
        ":function:sample-fail:$LATEST"
    )
    assert record["requestPayload"] == {"n": 3}
    assert record["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert record["responsePayload"]["errorMessage"] == "cannot handle 3"
    assert local_lambda["invoker"].stats["retried"] == 1


def test_event_that_succeeds_on_retry_reaches_no_destination(local_lambda):
    local_lambda["lambda"].invoke(
        FunctionName="sample-flaky",
        InvocationType="Event",
        Payload=b'{"fail_times": 1}',
    )
    assert local_lambda["invoker"].wait_idle(10)

    answer = local_lambda["sqs"].receive_message(
        QueueUrl=local_lambda["queue_url"], WaitTimeSeconds=0
    )

    assert "Messages" not in answer
    assert local_lambda["invoker"].stats["succeeded"] == 1


def test_other_lambda_calls_reach_moto(local_lambda):
    answer = local_lambda["lambda"].list_functions()

    assert answer["Functions"] == []

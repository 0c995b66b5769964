"""Event source mappings: Kinesis and SQS pollers against the moto server."""

import json
import time
from collections.abc import Callable

import pytest

from switchyard_local.destinations import Destinations
from switchyard_local.kinesis_poller import KinesisPoller
from switchyard_local.sqs_poller import SqsPoller
from switchyard_local.templates import EventSourceMappingSpec

pytestmark = pytest.mark.functional

ACCOUNT = "123456789012"


def wait_for(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def drain(sqs, queue_url: str) -> list[str]:
    bodies = []
    while True:
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
        ).get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(message["Body"])
            sqs.delete_message(
                QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"]
            )


@pytest.fixture
def stream(aws_server, aws_client):
    kinesis = aws_client("kinesis", aws_server)
    kinesis.create_stream(StreamName="events", ShardCount=1)
    sqs = aws_client("sqs", aws_server)
    seen = sqs.create_queue(QueueName="seen")["QueueUrl"]
    failures = sqs.create_queue(QueueName="failures")["QueueUrl"]
    return {"kinesis": kinesis, "sqs": sqs, "seen": seen, "failures": failures}


def kinesis_mapping(function: str, **properties) -> EventSourceMappingSpec:
    arn = f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/events"
    return EventSourceMappingSpec(
        "Mapping",
        function,
        arn,
        {"StartingPosition": "TRIM_HORIZON", "EventSourceArn": arn, **properties},
    )


def put(kinesis, *datas: str) -> None:
    for data in datas:
        kinesis.put_record(StreamName="events", Data=data.encode(), PartitionKey="k")


def test_partial_batch_response_resumes_from_the_lowest_failed_record(
    aws_server, runner, add_sample, stream
):
    # The function reports "bad" as failed every time: records before it are
    # never redelivered, records after it come again with it on each retry.
    add_sample(
        runner, "batch", aws_server, environment={"SEEN_QUEUE_URL": stream["seen"]}
    )
    put(stream["kinesis"], "a", "b", "bad", "c")
    poller = KinesisPoller(
        kinesis_mapping(
            "sample-batch",
            BatchSize=10,
            MaximumRetryAttempts=1,
            FunctionResponseTypes=["ReportBatchItemFailures"],
            DestinationConfig={
                "OnFailure": {
                    "Destination": f"arn:aws:sqs:us-east-1:{ACCOUNT}:failures"
                }
            },
        ),
        runner,
        Destinations(aws_server),
        aws_server,
        retry_delay=0.05,
    ).start()
    try:
        wait_for(lambda: poller.stats["discarded"] == 2 and poller.idle)
    finally:
        poller.stop()

    seen = sorted(drain(stream["sqs"], stream["seen"]))
    assert seen == ["a", "b", "c", "c"]
    (failure,) = [json.loads(b) for b in drain(stream["sqs"], stream["failures"])]
    info = failure["KinesisBatchInfo"]
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert info["batchSize"] == 2
    assert info["shardId"] == "shardId-000000000000"
    assert info["streamArn"].endswith(":stream/events")
    assert "data" not in json.dumps(failure).lower().replace("kinesisbatchinfo", "")


def test_bisect_isolates_the_bad_record_and_delivers_the_rest(
    aws_server, runner, add_sample, stream
):
    add_sample(
        runner,
        "raise_on_bad",
        aws_server,
        environment={"SEEN_QUEUE_URL": stream["seen"]},
    )
    put(stream["kinesis"], "r1", "r2", "r3", "bad", "r5", "r6")
    poller = KinesisPoller(
        kinesis_mapping(
            "sample-raise_on_bad",
            BatchSize=6,
            BisectBatchOnFunctionError=True,
            MaximumRetryAttempts=0,
            DestinationConfig={
                "OnFailure": {
                    "Destination": f"arn:aws:sqs:us-east-1:{ACCOUNT}:failures"
                }
            },
        ),
        runner,
        Destinations(aws_server),
        aws_server,
        retry_delay=0.05,
    ).start()
    try:
        wait_for(lambda: poller.stats["discarded"] == 1 and poller.idle)
    finally:
        poller.stop()

    assert sorted(drain(stream["sqs"], stream["seen"])) == [
        "r1",
        "r2",
        "r3",
        "r5",
        "r6",
    ]
    (failure,) = [json.loads(b) for b in drain(stream["sqs"], stream["failures"])]
    info = failure["KinesisBatchInfo"]
    assert info["batchSize"] == 1
    assert info["startSequenceNumber"] == info["endSequenceNumber"]


def test_batch_size_caps_each_invocation(aws_server, runner, add_sample, stream):
    add_sample(
        runner, "batch", aws_server, environment={"SEEN_QUEUE_URL": stream["seen"]}
    )
    put(stream["kinesis"], *[f"e{i}" for i in range(7)])
    poller = KinesisPoller(
        kinesis_mapping("sample-batch", BatchSize=3),
        runner,
        Destinations(aws_server),
        aws_server,
    ).start()
    try:
        wait_for(lambda: poller.stats["records"] == 7 and poller.idle)
    finally:
        poller.stop()

    assert poller.stats["invocations"] == 3
    assert len(drain(stream["sqs"], stream["seen"])) == 7


def test_sqs_partial_batch_response_deletes_only_successes(
    aws_server, runner, add_sample, aws_client
):
    sqs = aws_client("sqs", aws_server)
    source = sqs.create_queue(
        QueueName="source", Attributes={"VisibilityTimeout": "30"}
    )["QueueUrl"]
    seen = sqs.create_queue(QueueName="seen")["QueueUrl"]
    add_sample(runner, "batch", aws_server, environment={"SEEN_QUEUE_URL": seen})
    for body in ("one", "bad", "two"):
        sqs.send_message(QueueUrl=source, MessageBody=body)
    mapping = EventSourceMappingSpec(
        "Mapping",
        "sample-batch",
        f"arn:aws:sqs:us-east-1:{ACCOUNT}:source",
        {"BatchSize": 10, "FunctionResponseTypes": ["ReportBatchItemFailures"]},
    )
    poller = SqsPoller(mapping, runner, aws_server).start()
    try:
        wait_for(lambda: poller.stats["deleted"] == 2 and poller.stats["kept"] == 1)
    finally:
        poller.stop()

    assert sorted(drain(sqs, seen)) == ["one", "two"]
    attributes = sqs.get_queue_attributes(
        QueueUrl=source, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "1"

"""Fixtures: the failed-events table as shared.yaml defines it, and friends."""

import copy
import io
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from dlq_processor.alarm import BurstAlarm
from dlq_processor.processor import DeadLetterProcessor
from dlq_processor.store import FailureStore
from dlq_processor.stream import StreamReader

HERE = Path(__file__).parent
DATA = HERE / "data"
REPO = HERE.parents[2]
SHARED_DATA = REPO.parent / "shared" / "data"

TABLE = "switchyard-test-failed-events"
IDEMPOTENCY = "switchyard-test-idempotency"
STREAM = "switchyard-test-events"
BUCKET = "switchyard-test-payloads"


def _load_sample(name: str) -> dict[str, Any]:
    return json.loads((DATA / name).read_text())


def _load_shared_event(name: str) -> dict[str, Any]:
    return json.loads((SHARED_DATA / "aws-events" / name).read_text())


@pytest.fixture
def load_sample() -> Callable[[str], dict[str, Any]]:
    """Reads a sample of this package's tests/data by file name."""
    return _load_sample


@pytest.fixture
def load_shared_event() -> Callable[[str], dict[str, Any]]:
    """Reads an AWS event sample of shared/data/aws-events by file name."""
    return _load_shared_event


def create_failed_events_table(client: Any, name: str = TABLE) -> None:
    """The table with the key and indexes of infra/templates/shared.yaml."""
    index = [
        ("status-index", "status"),
        ("target-index", "target_name"),
        ("error-type-index", "error_type"),
    ]
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": n, "AttributeType": "S"}
            for n in ("record_id", "status", "target_name", "error_type")
        ]
        + [{"AttributeName": "last_failed_at", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "record_id", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": index_name,
                "KeySchema": [
                    {"AttributeName": hash_name, "KeyType": "HASH"},
                    {"AttributeName": "last_failed_at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
            for index_name, hash_name in index
        ],
    )


# Building a boto3 client costs about a tenth of a second; the clients are
# made once and reused, each test running inside its own fresh mock_aws.
_CLIENTS: dict[str, Any] = {}


@pytest.fixture
def aws(mock_aws_inprocess: None) -> dict[str, Any]:
    """Clients on moto, with the tables, bucket and stream created."""
    if not _CLIENTS:
        _CLIENTS.update(
            (name, boto3.client(name, region_name="us-east-1"))
            for name in ("dynamodb", "s3", "kinesis", "sns", "sqs")
        )
    clients = dict(_CLIENTS)
    create_failed_events_table(clients["dynamodb"])
    clients["dynamodb"].create_table(
        TableName=IDEMPOTENCY,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
    )
    clients["s3"].create_bucket(Bucket=BUCKET)
    clients["kinesis"].create_stream(StreamName=STREAM, ShardCount=1)
    return clients


@pytest.fixture
def store(aws: dict[str, Any]) -> FailureStore:
    return FailureStore(
        TABLE, client=aws["dynamodb"], s3_client=aws["s3"], payload_bucket=BUCKET
    )


@dataclass
class AlarmInbox:
    """An SQS queue subscribed to the alarm topic, to count notifications."""

    topic_arn: str
    queue_url: str
    sqs: Any

    def messages(self) -> list[dict[str, Any]]:
        found = []
        while True:
            response = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10
            )
            batch = response.get("Messages", [])
            if not batch:
                return found
            for message in batch:
                envelope = json.loads(message["Body"])
                found.append(json.loads(envelope["Message"]))
                self.sqs.delete_message(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"]
                )


@pytest.fixture
def alarm_inbox(aws: dict[str, Any]) -> AlarmInbox:
    topic = aws["sns"].create_topic(Name="switchyard-test-alarms")["TopicArn"]
    queue_url = aws["sqs"].create_queue(QueueName="alarm-inbox")["QueueUrl"]
    queue_arn = aws["sqs"].get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    aws["sns"].subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    return AlarmInbox(topic, queue_url, aws["sqs"])


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def processor(
    aws: dict[str, Any],
    store: FailureStore,
    alarm_inbox: AlarmInbox,
    clock: FakeClock,
) -> DeadLetterProcessor:
    alarm = BurstAlarm(
        alarm_inbox.topic_arn,
        IDEMPOTENCY,
        window_seconds=300,
        dynamodb_client=aws["dynamodb"],
        sns_client=aws["sns"],
        clock=clock,
    )
    reader = StreamReader(client=aws["kinesis"], stream_name=STREAM)
    return DeadLetterProcessor(store=store, stream_reader=reader, alarm=alarm)


def _sqs_event(*bodies: str, message_ids: list[str] | None = None) -> dict[str, Any]:
    template = _load_shared_event("sqs_event_2rec__powertools-py.json")["Records"][1]
    records = []
    for position, body in enumerate(bodies):
        record = copy.deepcopy(template)
        record["body"] = body
        record["messageId"] = (
            message_ids[position] if message_ids else str(uuid.uuid4())
        )
        records.append(record)
    return {"Records": records}


@pytest.fixture
def sqs_event() -> Callable[..., dict[str, Any]]:
    """Builds an SQS event on the shared sample's envelope, a record per body."""
    return _sqs_event


@dataclass
class LambdaContext:
    function_name: str = "switchyard-test-dlq-processor"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = (
        "arn:aws:lambda:us-east-1:123456789012:function:switchyard-test-dlq-processor"
    )
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"


@pytest.fixture
def lambda_context() -> LambdaContext:
    return LambdaContext()


class FakeLambda:
    """A Lambda client whose Invoke runs a Python function in place.

    ``behaviour(payload) -> (summary, function_error)`` plays the connector.
    Every call is kept so tests can count deliveries.
    """

    def __init__(
        self, behaviour: Callable[[dict[str, Any]], tuple[Any, str | None]]
    ) -> None:
        self.behaviour = behaviour
        self.calls: list[dict[str, Any]] = []

    def invoke(self, **kwargs: Any) -> dict[str, Any]:
        payload = json.loads(kwargs["Payload"])
        self.calls.append({**kwargs, "Payload": payload})
        summary, function_error = self.behaviour(payload)
        response: dict[str, Any] = {
            "StatusCode": 200,
            "Payload": io.BytesIO(json.dumps(summary).encode()),
        }
        if function_error:
            response["FunctionError"] = function_error
        return response


@pytest.fixture
def fake_lambda() -> type[FakeLambda]:
    return FakeLambda


@pytest.fixture
def names() -> dict[str, str]:
    """The resource names the ``aws`` fixture creates."""
    return {
        "table": TABLE,
        "idempotency": IDEMPOTENCY,
        "stream": STREAM,
        "bucket": BUCKET,
    }

"""Fixtures: moto resources shaped like shared.yaml's, and signed-in people."""

import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client

from dlq_processor.shapes import Incoming
from dlq_processor.store import FailureStore
from switchyard_console.ops import resources
from switchyard_console.ops.management.commands.create_operator import role_group
from switchyard_contracts import FailureError, FailureRecord, Origin

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO.parent / "shared" / "data"

BUCKET = "switchyard-test-rules"
RULES_KEY = "rules/rules.json"
USERS = "switchyard-test-users"
FAILED = "switchyard-test-failed-events"
STREAM = "switchyard-test-events"
FUNCTIONS = {
    "webhook": "switchyard-test-connector-webhook",
    "dynamodb": "switchyard-test-connector-dynamodb",
}

VALID_RULES = {
    "rules": [
        {
            "name": "new-orders-to-crm",
            "enabled": True,
            "pattern": {"type": ["order.created"], "total": [{"numeric": [">", 100]}]},
            "targets": [
                {"connector": "webhook", "params": {"url": "https://crm.example.com/h"}}
            ],
        },
        {
            "name": "pushes-to-table",
            "enabled": True,
            "pattern": {"type": ["PushEvent"]},
            "targets": [{"connector": "dynamodb", "params": {"table": "pushes"}}],
        },
    ]
}


def create_tables(dynamodb: Any) -> None:
    dynamodb.create_table(
        TableName=USERS,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "user_id", "AttributeType": "S"},
            {"AttributeName": "email", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "user_id", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "email-index",
                "KeySchema": [{"AttributeName": "email", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    indexes = [
        ("status-index", "status"),
        ("target-index", "target_name"),
        ("error-type-index", "error_type"),
    ]
    dynamodb.create_table(
        TableName=FAILED,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": n, "AttributeType": "S"}
            for n in (
                "record_id",
                "status",
                "target_name",
                "error_type",
                "last_failed_at",
            )
        ],
        KeySchema=[{"AttributeName": "record_id", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": name,
                "KeySchema": [
                    {"AttributeName": hash_name, "KeyType": "HASH"},
                    {"AttributeName": "last_failed_at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
            for name, hash_name in indexes
        ],
    )


@dataclass
class Aws:
    """The moto resources of one test, and helpers to fill them."""

    s3: Any
    dynamodb: Any
    sqs: Any
    kinesis: Any
    dlq_url: str
    unprocessable_url: str
    counter: list[int] = field(default_factory=lambda: [0])

    def put_rules(self, document: Any, actor: str = "seed") -> str:
        body = document if isinstance(document, str) else json.dumps(document, indent=2)
        response = self.s3.put_object(
            Bucket=BUCKET,
            Key=RULES_KEY,
            Body=body.encode(),
            Metadata={"saved-by": actor},
        )
        return response["ETag"]

    def live_rules(self) -> tuple[dict[str, Any], dict[str, Any]]:
        response = self.s3.get_object(Bucket=BUCKET, Key=RULES_KEY)
        return json.loads(response["Body"].read()), response

    def put_user(self, user_id: str, **attributes: Any) -> None:
        item = {"user_id": {"S": user_id}}
        for name, value in attributes.items():
            item[name] = {"N": str(value)} if isinstance(value, int) else {"S": value}
        self.dynamodb.put_item(TableName=USERS, Item=item)

    def user(self, user_id: str) -> dict[str, Any] | None:
        return self.dynamodb.get_item(
            TableName=USERS, Key={"user_id": {"S": user_id}}
        ).get("Item")

    def store(self) -> FailureStore:
        return FailureStore(FAILED, client=self.dynamodb, s3_client=self.s3)

    def add_failure(
        self,
        *,
        connector: str = "webhook",
        error_type: str = "HTTPError",
        event: dict[str, Any] | None = None,
        failed_at: str | None = None,
    ) -> str:
        """Store a failure through the dead-letter processor's own store."""
        self.counter[0] += 1
        number = self.counter[0]
        target = {
            "connector": connector,
            "params": {"url": f"https://hooks.test/{connector}"},
        }
        record = FailureRecord(
            event_id=f"evt-{number}",
            error=FailureError(type=error_type, message=f"failure {number}"),
            origin=Origin.CONNECTOR,
            event=event
            or {"id": f"evt-{number}", "type": "order.created", "n": number},
            rule="new-orders-to-crm",
            target=target,
            target_id=f"tid-{connector}",
            first_failed_at=failed_at or f"2026-12-04T10:{number % 60:02d}:00.000Z",
            last_failed_at=failed_at or f"2026-12-04T10:{number % 60:02d}:00.000Z",
        )
        self.store().record_failure(Incoming(record=record), f"msg-{number}")
        return record.record_id


def make_resources(clients: dict[str, Any], settings: Any) -> Aws:
    """Create what the console reads, and point the console's settings at it."""
    clients["s3"].create_bucket(Bucket=BUCKET)
    clients["s3"].put_bucket_versioning(
        Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"}
    )
    create_tables(clients["dynamodb"])
    clients["kinesis"].create_stream(StreamName=STREAM, ShardCount=1)
    dlq = clients["sqs"].create_queue(QueueName="switchyard-test-dead-letters")
    unprocessable = clients["sqs"].create_queue(
        QueueName="switchyard-test-unprocessable"
    )

    settings.RULES_BUCKET = BUCKET
    settings.RULES_KEY = RULES_KEY
    settings.USERS_TABLE = USERS
    settings.FAILED_EVENTS_TABLE = FAILED
    settings.EVENTS_STREAM_NAME = STREAM
    settings.DEAD_LETTER_QUEUE_URL = dlq["QueueUrl"]
    settings.UNPROCESSABLE_QUEUE_URL = unprocessable["QueueUrl"]
    settings.CONNECTOR_FUNCTIONS = json.dumps(FUNCTIONS)
    settings.AWS_REGION = "us-east-1"
    return Aws(
        s3=clients["s3"],
        dynamodb=clients["dynamodb"],
        sqs=clients["sqs"],
        kinesis=clients["kinesis"],
        dlq_url=dlq["QueueUrl"],
        unprocessable_url=unprocessable["QueueUrl"],
    )


# Building a boto3 client costs about a tenth of a second: the test's own
# clients are made once and reused, each test inside its own fresh mock_aws.
_CLIENTS: dict[str, Any] = {}
SERVICES = ("s3", "dynamodb", "sqs", "kinesis")


@pytest.fixture
def aws(mock_aws_inprocess: None, settings: Any) -> Aws:
    """Every resource the console reads, empty, on in-process moto."""
    if not _CLIENTS:
        _CLIENTS.update(
            (name, boto3.client(name, region_name="us-east-1")) for name in SERVICES
        )
    return make_resources(dict(_CLIENTS), settings)


class FakeLambda:
    """Stands in for the Lambda client: records invokes, answers as told."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.answer: dict[str, Any] = {"delivered": 1, "failed": 0}
        self.function_error: str | None = None

    def invoke(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append({**kwargs, "Payload": json.loads(kwargs["Payload"])})
        response: dict[str, Any] = {
            "StatusCode": 200,
            "Payload": io.BytesIO(json.dumps(self.answer).encode()),
        }
        if self.function_error:
            response["FunctionError"] = self.function_error
        return response


@pytest.fixture
def fake_lambda(monkeypatch: pytest.MonkeyPatch) -> FakeLambda:
    fake = FakeLambda()
    monkeypatch.setattr(resources, "lambda_client", lambda: fake)
    return fake


def _person(username: str, role: str | None, extra: list[str] = ()) -> Any:
    user = get_user_model().objects.create_user(
        username=username, password="pw-for-tests-only", is_staff=True
    )
    if role:
        user.groups.add(role_group(role))
    for codename in extra:
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label="console", codename=codename)
        )
    return user


@pytest.fixture
def person(db: None) -> Callable[..., Client]:
    """A signed-in client for a staff member with a role or chosen permissions."""

    def make(username: str, role: str | None = None, perms: list[str] = ()) -> Client:
        client = Client()
        client.force_login(_person(username, role, list(perms)))
        return client

    return make


@pytest.fixture
def operator(person: Callable[..., Client]) -> Client:
    return person("olivia", role="operator")


@pytest.fixture
def viewer(person: Callable[..., Client]) -> Client:
    return person("victor", role="viewer")

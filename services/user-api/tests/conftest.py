"""Shared fixtures: real API Gateway events, a moto users table, a caller."""

import copy
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from user_api import handler as handler_module

REPO_ROOT = Path(__file__).resolve().parents[3]
AWS_EVENTS = REPO_ROOT.parent / "shared" / "data" / "aws-events"
COGNITO_EVENT = AWS_EVENTS / "apigw_rest_v1_cognito_authorizer__powertools-ts.json"
PROXY_EVENT = AWS_EVENTS / "apigw_rest_v1_proxy__powertools-py.json"

TABLE = "switchyard-test-users"
SITE = "https://site.example.com"
SUB = "d2f50444-0041-7036-aea2-a955fca33d37"


def load_event(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


@pytest.fixture
def proxy_event() -> dict[str, Any]:
    """The real REST API proxy event of a route without an authorizer."""
    return load_event(PROXY_EVENT)


@pytest.fixture
def cognito_claims() -> dict[str, Any]:
    """The claims exactly as the Cognito authorizer passed them."""
    return load_event(COGNITO_EVENT)["requestContext"]["authorizer"]["claims"]


@pytest.fixture
def cognito_event() -> dict[str, Any]:
    """The real REST API event with Cognito claims, aimed at /user."""
    event = load_event(COGNITO_EVENT)
    event["resource"] = event["path"] = "/user"
    event["requestContext"]["resourcePath"] = "/user"
    return event


def create_users_table(client: Any, name: str = TABLE) -> None:
    """The users table as infra/templates/shared.yaml defines it."""
    client.create_table(
        TableName=name,
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
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
    )


@pytest.fixture(scope="module")
def dynamodb() -> Iterator[Any]:
    """One in-process moto DynamoDB with the users table, per test module.

    Starting moto and creating the table per test costs most of a second
    on a busy machine; tests empty the table instead (``users_table``). Per
    module, not per session, so that no mock outlives its module and hides
    the moto server from tests that use it.
    """
    import boto3
    from moto import mock_aws

    from switchyard_local.moto_server import aws_environment

    with pytest.MonkeyPatch.context() as patch:
        for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE"):
            patch.delenv(name, raising=False)
        for name, value in aws_environment().items():
            patch.setenv(name, value)
        patch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        # A fresh warm container: no client made under another module's mock.
        patch.setattr(handler_module, "_state", {"cold": True})
        with mock_aws():
            client = boto3.client("dynamodb")
            create_users_table(client)
            yield client


@pytest.fixture
def users_table(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The users table, empty, named in USERS_TABLE; returns a DynamoDB client."""
    items = dynamodb.scan(TableName=TABLE, ProjectionExpression="user_id")["Items"]
    for item in items:
        dynamodb.delete_item(TableName=TABLE, Key={"user_id": item["user_id"]})
    monkeypatch.setenv("USERS_TABLE", TABLE)
    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", f"{SITE}, https://other.example.com")
    monkeypatch.delenv("MAX_ITEM_BYTES", raising=False)
    return dynamodb


@pytest.fixture
def lambda_context() -> SimpleNamespace:
    return SimpleNamespace(
        aws_request_id="lambda-req-1",
        function_name="switchyard-test-user-api",
        memory_limit_in_mb=256,
        invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:x",
    )


@pytest.fixture
def log_lines(monkeypatch: pytest.MonkeyPatch) -> Callable[[], list[dict[str, Any]]]:
    """The handler's log output so far, one parsed JSON object per line."""
    buffer = io.StringIO()
    stream_handler = handler_module.logger.registered_handler
    previous = stream_handler.setStream(buffer)
    yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    stream_handler.setStream(previous)


Call = Callable[..., dict[str, Any]]


@pytest.fixture
def call(
    users_table: Any, cognito_event: dict[str, Any], lambda_context: SimpleNamespace
) -> Call:
    """Invoke the handler with the Cognito sample changed as asked."""

    def invoke(
        method: str,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        content_type: str | None = "application/json",
        claims: dict[str, Any] | None = None,
        raw_body: str | None = None,
        base64_body: bool = False,
    ) -> dict[str, Any]:
        event = copy.deepcopy(cognito_event)
        event["httpMethod"] = method
        event["requestContext"]["httpMethod"] = method
        if raw_body is not None:
            event["body"] = raw_body
        elif body is not None:
            event["body"] = json.dumps(body)
        if event.get("body") is not None and content_type is not None:
            event["headers"]["Content-Type"] = content_type
        event["headers"].update(headers or {})
        event["isBase64Encoded"] = base64_body
        if claims is not None:
            event["requestContext"]["authorizer"]["claims"] = claims
        return handler_module.handler(event, lambda_context)

    return invoke

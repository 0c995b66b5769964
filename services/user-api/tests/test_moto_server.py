"""The handler's own boto3 client against the moto server, as in the local stack."""

import copy

import boto3
import pytest

from user_api import handler as handler_module

pytestmark = pytest.mark.functional

TABLE = "switchyard-local-users"


def test_the_handler_reaches_the_table_through_aws_endpoint_url(
    aws_server, cognito_event, lambda_context, monkeypatch
) -> None:
    client = boto3.client("dynamodb")
    client.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "user_id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "user_id", "KeyType": "HASH"}],
    )
    monkeypatch.setenv("USERS_TABLE", TABLE)
    monkeypatch.setattr(handler_module, "_state", {"cold": True})
    put = copy.deepcopy(cognito_event)
    put.update(httpMethod="PUT", body='{"status": "on", "score": 30.4}')
    put["headers"]["Content-Type"] = "application/json"
    get = copy.deepcopy(cognito_event)
    get["httpMethod"] = "GET"

    written = handler_module.handler(put, lambda_context)
    read = handler_module.handler(get, lambda_context)

    assert written["statusCode"] == 201
    assert read["body"] == '{"status":"on","score":30.4}'
    assert read["headers"]["ETag"] == written["headers"]["ETag"]
    sub = cognito_event["requestContext"]["authorizer"]["claims"]["sub"]
    item = client.get_item(TableName=TABLE, Key={"user_id": {"S": sub}})["Item"]
    assert item["score"] == {"N": "30.4"}

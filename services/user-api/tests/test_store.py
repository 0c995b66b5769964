"""DynamoDB errors become this package's errors, named by operation and table."""

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from botocore.stub import Stubber

from user_api.errors import (
    PayloadTooLargeError,
    StoreBusyError,
    StoreError,
    WriteConditionError,
)
from user_api.store import StoredProfile, UsersTable

pytestmark = pytest.mark.unit


@pytest.fixture
def stubbed():
    client = boto3.client(
        "dynamodb",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    with Stubber(client) as stubber:
        yield UsersTable("users", client=client), stubber


def test_throttling_is_a_busy_store(stubbed) -> None:
    table, stubber = stubbed
    stubber.add_client_error("get_item", "ProvisionedThroughputExceededException")

    with pytest.raises(StoreBusyError, match="GetItem on users was throttled"):
        table.get("u1")


def test_a_failed_condition_is_a_write_condition_error(stubbed) -> None:
    table, stubber = stubbed
    stubber.add_client_error("delete_item", "ConditionalCheckFailedException")

    with pytest.raises(WriteConditionError):
        table.delete(StoredProfile(user_id="u1", version="v1", attributes={}))


def test_dynamodbs_own_item_size_refusal_is_a_413(stubbed) -> None:
    table, stubber = stubbed
    stubber.add_client_error(
        "put_item",
        "ValidationException",
        "Item size has exceeded the maximum allowed size",
    )

    with pytest.raises(PayloadTooLargeError):
        table.put({"user_id": "u1"}, replacing=None)


def test_other_errors_name_the_operation_and_table_and_chain_the_cause(
    stubbed,
) -> None:
    table, stubber = stubbed
    stubber.add_client_error("get_item", "AccessDeniedException", "no")

    with pytest.raises(StoreError, match="GetItem on users failed: Access") as caught:
        table.get("u1")

    assert caught.value.__cause__ is not None


def test_conditions_use_aliases_for_every_name(stubbed) -> None:
    table, stubber = stubbed
    stubber.add_response(
        "put_item",
        {},
        {
            "TableName": "users",
            "Item": {"user_id": {"S": "u1"}, "status": {"S": "x"}},
            "ConditionExpression": "#version = :expected",
            "ExpressionAttributeNames": {"#version": "version"},
            "ExpressionAttributeValues": {":expected": {"S": "v1"}},
        },
    )

    table.put(
        {"user_id": "u1", "status": "x"},
        replacing=StoredProfile(user_id="u1", version="v1", attributes={}),
    )

    stubber.assert_no_pending_responses()


def test_a_connection_failure_is_a_store_error() -> None:
    class Unreachable:
        def get_item(self, **kwargs):
            raise EndpointConnectionError(endpoint_url="http://127.0.0.1:9")

    with pytest.raises(StoreError, match="GetItem on users failed"):
        UsersTable("users", client=Unreachable()).get("u1")


@pytest.mark.parametrize(
    "code",
    ["InternalServerError", "ServiceUnavailable", "TransactionConflictException"],
)
def test_transient_dynamodb_failures_are_a_busy_store(stubbed, code) -> None:
    table, stubber = stubbed
    stubber.add_client_error("get_item", code, "try again", http_status_code=500)

    with pytest.raises(StoreBusyError, match=f"GetItem on users .*{code}"):
        table.get("u1")


def test_a_version_of_another_type_is_the_write_condition_as_read(stubbed) -> None:
    table, stubber = stubbed
    stubber.add_response(
        "get_item",
        {"Item": {"user_id": {"S": "u1"}, "version": {"N": "7"}}},
    )
    stubber.add_response(
        "delete_item",
        {},
        {
            "TableName": "users",
            "Key": {"user_id": {"S": "u1"}},
            "ConditionExpression": "#version = :expected",
            "ExpressionAttributeNames": {"#version": "version"},
            "ExpressionAttributeValues": {":expected": {"N": "7"}},
        },
    )

    table.delete(table.get("u1"))

    stubber.assert_no_pending_responses()

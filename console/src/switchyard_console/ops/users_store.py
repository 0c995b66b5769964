"""User profiles in DynamoDB, one page at a time.

A page is one Scan call with ``Limit`` and ``ExclusiveStartKey``: the console
never reads the whole table to show a page. The cursor handed to the browser
is the ``LastEvaluatedKey``, base64-encoded, and is checked on the way back
to be a key of this table and nothing else. Finding by e-mail queries the
``email-index``; numbers travel as ``Decimal``, as DynamoDB requires.
"""

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from switchyard_console.ops import aws, json_input
from switchyard_console.ops.errors import (
    ConflictError,
    InvalidInputError,
    NotConfiguredError,
)

KEY = "user_id"
VERSION = "version"
EMAIL_INDEX = "email-index"
CONDITION_FAILED = "ConditionalCheckFailedException"

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


@dataclass(frozen=True)
class UserPage:
    items: list[dict[str, Any]]
    next_cursor: str | None


def encode_cursor(key: dict[str, Any]) -> str:
    text = json.dumps(key, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii")


def decode_cursor(cursor: str) -> dict[str, Any]:
    """The table key in a cursor; InvalidInputError if it is anything else."""
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii")))
    except (binascii.Error, ValueError, UnicodeError) as exc:
        raise InvalidInputError("the page cursor is damaged; start again") from exc
    if (
        not isinstance(key, dict)
        or set(key) != {KEY}
        or not isinstance(key[KEY], dict)
        or set(key[KEY]) != {"S"}
        or not isinstance(key[KEY]["S"], str)
    ):
        raise InvalidInputError("the page cursor is not a user key; start again")
    return key


def to_item(attributes: dict[str, Any]) -> dict[str, Any]:
    return {name: _serializer.serialize(value) for name, value in attributes.items()}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


def to_json(attributes: dict[str, Any]) -> str:
    """Attributes as editable JSON; Decimals become plain numbers."""

    def default(value: Any) -> Any:
        if isinstance(value, Decimal):
            return int(value) if value == value.to_integral_value() else float(value)
        if isinstance(value, set):
            return sorted(value, key=str)
        return str(value)

    return json.dumps(attributes, indent=2, sort_keys=True, default=default)


def from_json(text: str) -> dict[str, Any]:
    """Attributes from the edit form; numbers as Decimal from their text."""
    try:
        value = json_input.loads(text, parse_float=Decimal, parse_int=Decimal)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(
            f"the attributes are not valid JSON (line {exc.lineno}, column "
            f"{exc.colno}: {exc.msg})"
        ) from exc
    except json_input.JsonInputError as exc:
        raise InvalidInputError(f"the attributes cannot be used: {exc}") from exc
    if not isinstance(value, dict):
        raise InvalidInputError("the attributes must be a JSON object")
    try:
        to_item(value)
    except (TypeError, ValueError, ArithmeticError, RecursionError) as exc:
        # DynamoDB numbers have 38 digits and exponents of -130 to 125; the
        # serializer refuses anything else before a request is made.
        raise InvalidInputError(
            f"DynamoDB cannot store these attributes: {type(exc).__name__} "
            f"{str(exc)[:200]}"
        ) from exc
    return value


class UsersStore:
    """Browse, find, edit and delete user profiles."""

    def __init__(self, table: str, client: Any | None = None) -> None:
        if not table:
            raise NotConfiguredError("USERS_TABLE", "read user profiles")
        self.table = table
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = aws.client("dynamodb")
        return self._client

    def page(self, cursor: str | None = None, limit: int = 25) -> UserPage:
        """One page: a single Scan call from the cursor's key."""
        params: dict[str, Any] = {"TableName": self.table, "Limit": limit}
        if cursor:
            params["ExclusiveStartKey"] = decode_cursor(cursor)
        with aws.calling("Scan", self.table):
            response = self.client.scan(**params)
        last = response.get("LastEvaluatedKey")
        return UserPage(
            items=[from_item(i) for i in response.get("Items", [])],
            next_cursor=encode_cursor(last) if last else None,
        )

    def get(self, user_id: str) -> dict[str, Any] | None:
        with aws.calling("GetItem", self.table):
            response = self.client.get_item(
                TableName=self.table, Key={KEY: {"S": user_id}}, ConsistentRead=True
            )
        item = response.get("Item")
        return from_item(item) if item else None

    def find_by_email(self, email: str) -> list[dict[str, Any]]:
        with aws.calling("Query", f"{self.table}/{EMAIL_INDEX}"):
            response = self.client.query(
                TableName=self.table,
                IndexName=EMAIL_INDEX,
                KeyConditionExpression="#email = :email",
                ExpressionAttributeNames={"#email": "email"},
                ExpressionAttributeValues={":email": {"S": email}},
                Limit=25,
            )
        return [from_item(i) for i in response.get("Items", [])]

    def replace(
        self,
        user_id: str,
        attributes: dict[str, Any],
        expected: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Write a profile's attributes, only if it is still as ``expected``.

        A new random ``version`` is written with every change: the user API
        derives its ETags from it, so a site tab holding the old ETag gets a
        412 instead of overwriting the operator's edit.
        """
        item = {
            **attributes,
            KEY: user_id,
            VERSION: uuid.uuid4().hex,
            "updated_at": _now(),
        }
        condition = _unchanged_condition(expected)
        with aws.calling("PutItem", self.table):
            try:
                self.client.put_item(
                    TableName=self.table, Item=to_item(item), **condition
                )
            except ClientError as exc:
                if aws.error_code(exc) != CONDITION_FAILED:
                    raise
                raise ConflictError(
                    f"user {user_id} no longer exists or changed since it was "
                    "read; nothing was written"
                ) from exc
        return item

    def delete(self, user_id: str, expected: dict[str, Any] | None = None) -> None:
        """Delete a profile, only if it is still as ``expected``."""
        condition = _unchanged_condition(expected)
        with aws.calling("DeleteItem", self.table):
            try:
                self.client.delete_item(
                    TableName=self.table, Key={KEY: {"S": user_id}}, **condition
                )
            except ClientError as exc:
                if aws.error_code(exc) != CONDITION_FAILED:
                    raise
                raise ConflictError(
                    f"user {user_id} no longer exists or changed since it was "
                    "read; nothing was deleted"
                ) from exc


def _now() -> str:
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    return now.replace("+00:00", "Z")


def _unchanged_condition(expected: dict[str, Any] | None) -> dict[str, Any]:
    """A write condition: the item exists and still has the version read.

    Checking the version in the same request closes the gap between the
    console's read and its write; an item with no version (written by another
    tool) must still have none.
    """
    names = {"#key": KEY}
    if expected is None:
        return {
            "ConditionExpression": "attribute_exists(#key)",
            "ExpressionAttributeNames": names,
        }
    names["#version"] = VERSION
    if VERSION not in expected:
        return {
            "ConditionExpression": "attribute_exists(#key) AND "
            "attribute_not_exists(#version)",
            "ExpressionAttributeNames": names,
        }
    return {
        "ConditionExpression": "attribute_exists(#key) AND #version = :version",
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": {
            ":version": _serializer.serialize(expected[VERSION])
        },
    }

"""The users table: one item per Cognito ``sub``, every write conditional.

Only the low-level DynamoDB client is used, created on first use so that
importing this module stays cheap and tests can inject their own. Every
write carries a condition on the item's ``version`` (or on its absence), so
a writer that read an older version can never overwrite a newer one.
"""

import json
import re
from dataclasses import dataclass
from typing import Any

from user_api.attributes import INTERNAL_FIELDS
from user_api.errors import (
    PayloadTooLargeError,
    StoreBusyError,
    StoreError,
    WriteConditionError,
)
from user_api.marshal import from_item, to_item

# Throttling, and DynamoDB's own transient failures that botocore has
# already retried: the caller may retry too, so they are a 503.
_BUSY_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "LimitExceededException",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionConflictException",
    }
)

# Aliases for every name used in an expression: DynamoDB reserves hundreds
# of words, and attribute names are the caller's choice.
_NAMES = {"#uid": "user_id", "#version": "version"}


@dataclass(frozen=True)
class StoredProfile:
    """A profile as the table holds it: internal fields and attributes."""

    user_id: str
    version: str
    attributes: dict[str, Any]
    email: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    # False for an item written without a version (by hand, say): its ETag
    # uses UNVERSIONED and a write conditions on the attribute's absence.
    versioned: bool = True
    # The version attribute exactly as read, when another tool wrote one
    # that is not a plain tag (a number, an empty string, a space): the
    # write condition compares with it, and ``version`` is a digest of it.
    raw_version: dict[str, Any] | None = None


UNVERSIONED = "0"

# A version usable as it is inside an entity tag (RFC 9110 etagc, ASCII).
_PLAIN_TAG = re.compile(r"[!#-~]{1,128}")


class UsersTable:
    """Reads and conditional writes on the users table."""

    def __init__(self, table_name: str, *, client: Any | None = None) -> None:
        self.table_name = table_name
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("dynamodb")
        return self._client

    def get(self, user_id: str) -> StoredProfile | None:
        """The profile stored under ``user_id``, read strongly consistent."""
        response = self._call(
            "GetItem",
            self.client.get_item,
            TableName=self.table_name,
            Key={"user_id": {"S": user_id}},
            ConsistentRead=True,
        )
        item = response.get("Item")
        return None if item is None else _profile_from_item(item)

    def put(self, values: dict[str, Any], *, replacing: StoredProfile | None) -> None:
        """Write the whole item over ``replacing``, which must still be current.

        With ``replacing=None`` the item must not exist yet. Raises
        ``WriteConditionError`` when the condition fails.
        """
        if replacing is None:
            condition = "attribute_not_exists(#uid)"
            names = {"#uid": _NAMES["#uid"]}
            expected: dict[str, Any] = {}
        else:
            condition, names, expected = _still_current(replacing)
        self._call(
            "PutItem",
            self.client.put_item,
            TableName=self.table_name,
            Item=to_item(values),
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            **({"ExpressionAttributeValues": expected} if expected else {}),
        )

    def delete(self, current: StoredProfile) -> None:
        """Delete the profile if it is still at ``current``'s version.

        Raises ``WriteConditionError`` when it is gone or has changed.
        """
        condition, names, values = _still_current(current)
        self._call(
            "DeleteItem",
            self.client.delete_item,
            TableName=self.table_name,
            Key={"user_id": {"S": current.user_id}},
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            **({"ExpressionAttributeValues": values} if values else {}),
        )

    def _call(self, operation: str, method: Any, **kwargs: Any) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return method(**kwargs)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = error.get("Code", "")
            message = error.get("Message", "")
            if code == "ConditionalCheckFailedException":
                raise WriteConditionError(
                    f"{operation} on {self.table_name}: the item was not as expected"
                ) from exc
            if code == "ValidationException" and "item size" in message.lower():
                raise PayloadTooLargeError(
                    "the profile is larger than DynamoDB's item limit; "
                    "remove or shorten attributes",
                    code="profile_too_large",
                ) from exc
            if code in _BUSY_CODES:
                raise StoreBusyError(
                    f"{operation} on {self.table_name} was throttled ({code}); "
                    "retry shortly"
                ) from exc
            raise StoreError(
                f"{operation} on {self.table_name} failed: {code}: {message}"
            ) from exc
        except BotoCoreError as exc:
            raise StoreError(f"{operation} on {self.table_name} failed: {exc}") from exc


def _still_current(
    profile: StoredProfile,
) -> tuple[str, dict[str, str], dict[str, Any]]:
    """A condition that holds while the item is at ``profile``'s version."""
    if not profile.versioned:
        return (
            "attribute_exists(#uid) AND attribute_not_exists(#version)",
            dict(_NAMES),
            {},
        )
    # DynamoDB's "=" compares values of any type, lists and maps included.
    expected = profile.raw_version or {"S": profile.version}
    return (
        "#version = :expected",
        {"#version": _NAMES["#version"]},
        {":expected": expected},
    )


def _profile_from_item(item: dict[str, Any]) -> StoredProfile:
    values = from_item(item)
    attributes = {
        name: value for name, value in values.items() if name not in INTERNAL_FIELDS
    }
    # An item written by hand (the console, a migration) may lack a version
    # or hold an odd one; it still gets a stable ETag that If-Match can
    # quote, and the next write through the API sets a fresh version.
    raw_version = item.get("version")
    version = values.get("version")
    raw = None
    if raw_version is None:
        version = UNVERSIONED
    elif not (isinstance(version, str) and _PLAIN_TAG.fullmatch(version)):
        version, raw = _digest(raw_version), raw_version
    return StoredProfile(
        user_id=str(values["user_id"]),
        version=version,
        versioned=raw_version is not None,
        raw_version=raw,
        attributes=attributes,
        email=values.get("email") if isinstance(values.get("email"), str) else None,
        created_at=_optional_text(values.get("created_at")),
        updated_at=_optional_text(values.get("updated_at")),
    )


def _digest(raw_version: dict[str, Any]) -> str:
    """A tag for a version that cannot be one as it is: a hash of its value."""
    # Imported here: only items edited by other tools need it, and hashlib
    # loads OpenSSL, which would add to every cold start.
    import hashlib

    text = json.dumps(
        raw_version, sort_keys=True, default=lambda data: bytes(data).hex()
    )
    return "x" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _optional_text(value: Any) -> str | None:
    return value if isinstance(value, str) else None

"""The delivery ledger: which deliveries were made, in the idempotency table.

Powertools' idempotency utility is not used: it hashes its keys, so the
table's ``id`` could not be the contract's ``<target_id>#<event_id>`` that the
dead-letter processor and the console look up, and it keys one function call,
not one delivery among many in a batch. The ledger does the same job with
conditional writes:

1. ``claim``: put ``status=in_progress`` with a lease, only if there is no
   item or the item is an expired lease. A ``done`` item means the delivery
   was already made (a duplicate); a live lease means another invocation is
   making it right now.
2. ``complete``: after the endpoint accepted the delivery, ``status=done``
   with a TTL (``expiration``, epoch seconds).
3. ``release``: after a failure, delete our own claim so a redrive can retry.

A crash between the send and ``complete`` leaves a lease that expires at the
claiming delivery's deadline; the repeat then sends again with the same
``Idempotency-Key`` header, so the receiver can still drop it.
"""

import time
import uuid
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from botocore.exceptions import ClientError

from connectors.aws import AWS_ERRORS, error_code
from connectors.errors import IdempotencyStoreError

IN_PROGRESS = "in_progress"
DONE = "done"


class Claim(StrEnum):
    """What a claim found."""

    CLAIMED = "claimed"
    DONE = "done"
    BUSY = "busy"


class DeliveryLedger:
    """Claims, completes and releases delivery keys in the idempotency table."""

    def __init__(
        self,
        table: str,
        ttl_seconds: int,
        dynamodb: Callable[[], Any],
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.table = table
        self._ttl = ttl_seconds
        self._dynamodb = dynamodb
        self._now = wall_clock
        self._owner = uuid.uuid4().hex

    def claim(self, key: str, lease_seconds: float) -> Claim:
        now = self._now()
        try:
            self._dynamodb().put_item(
                TableName=self.table,
                Item={
                    "id": {"S": key},
                    "status": {"S": IN_PROGRESS},
                    "owner": {"S": self._owner},
                    "lease_until": {"N": str(int(now + lease_seconds) + 1)},
                    "expiration": {"N": str(int(now) + self._ttl)},
                },
                ConditionExpression=(
                    "attribute_not_exists(#id) OR "
                    "(#status = :in_progress AND #lease < :now)"
                ),
                ExpressionAttributeNames={
                    "#id": "id",
                    "#status": "status",
                    "#lease": "lease_until",
                },
                ExpressionAttributeValues={
                    ":in_progress": {"S": IN_PROGRESS},
                    ":now": {"N": str(int(now))},
                },
            )
            return Claim.CLAIMED
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise self._error("PutItem", key, exc) from exc
        except AWS_ERRORS as exc:
            raise self._error("PutItem", key, exc) from exc
        return Claim.DONE if self.status(key) == DONE else Claim.BUSY

    def status(self, key: str) -> str | None:
        try:
            item = (
                self._dynamodb()
                .get_item(
                    TableName=self.table,
                    Key={"id": {"S": key}},
                    ConsistentRead=True,
                    ProjectionExpression="#status",
                    ExpressionAttributeNames={"#status": "status"},
                )
                .get("Item")
            )
        except AWS_ERRORS as exc:
            raise self._error("GetItem", key, exc) from exc
        return item["status"]["S"] if item and "status" in item else None

    def complete(self, key: str) -> None:
        now = self._now()
        try:
            self._dynamodb().put_item(
                TableName=self.table,
                Item={
                    "id": {"S": key},
                    "status": {"S": DONE},
                    "owner": {"S": self._owner},
                    "completed_at": {"N": str(int(now))},
                    "expiration": {"N": str(int(now) + self._ttl)},
                },
            )
        except AWS_ERRORS as exc:
            raise self._error("PutItem", key, exc) from exc

    def release(self, key: str) -> None:
        """Drop our own claim; someone else's claim or a done item stays."""
        try:
            self._dynamodb().delete_item(
                TableName=self.table,
                Key={"id": {"S": key}},
                ConditionExpression="#status = :in_progress AND #owner = :owner",
                ExpressionAttributeNames={"#status": "status", "#owner": "owner"},
                ExpressionAttributeValues={
                    ":in_progress": {"S": IN_PROGRESS},
                    ":owner": {"S": self._owner},
                },
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise self._error("DeleteItem", key, exc) from exc
        except AWS_ERRORS as exc:
            raise self._error("DeleteItem", key, exc) from exc

    def _error(self, operation: str, key: str, exc: Exception) -> IdempotencyStoreError:
        return IdempotencyStoreError(
            f"{operation} on idempotency table {self.table!r} for {key!r} failed: "
            f"{error_code(exc)}: {exc}"
        )

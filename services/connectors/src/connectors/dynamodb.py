"""The DynamoDB connector: one conditional PutItem per delivery.

Each event becomes one item in the target table::

    {<key>: event id, "event": <the event as a map>, "rule": ...,
     "correlation_id": ..., "target_id": ..., "delivered_at": ISO time}

``<key>`` is ``params.key`` (default ``id``): the table's partition
key, a string, with no sort key. The put is conditional on the key not being
there yet, so the item is its own idempotency record: a repeat of the same
event (a Kinesis retry, an async retry, a redrive) finds it and is counted as
a duplicate, atomically, with no second table to keep in step.
"""

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from connectors.aws import AWS_ERRORS, error_code, is_throttle_or_fault
from connectors.budget import Deadline
from connectors.errors import (
    DeliveryError,
    DeliveryTableError,
    InvalidTarget,
    ItemTooLarge,
)
from connectors.items import exact, to_item
from connectors.outcomes import Outcome
from connectors.payloads import LoadedEvent
from switchyard_contracts import Delivery

TABLE_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
DEFAULT_KEY = "id"
KNOWN_PARAMS = frozenset({"table", "key"})
# The item's other attributes: a key of one of these names would overwrite it.
ENVELOPE_FIELDS = frozenset(
    {"event", "rule", "correlation_id", "target_id", "delivered_at"}
)


@dataclass(frozen=True)
class TableTarget:
    table: str
    key: str = DEFAULT_KEY


class DynamoDbConnector:
    """Writes each event as one item, once."""

    name = "dynamodb"

    def __init__(
        self,
        dynamodb: Callable[[], Any],
        table_prefix: str = "",
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._dynamodb = dynamodb
        self._prefix = table_prefix
        self._now = wall_clock

    def bind(self, params: dict[str, Any]) -> TableTarget:
        unknown = sorted(set(params) - KNOWN_PARAMS)
        if unknown:
            raise InvalidTarget(
                f"dynamodb target has unknown params {unknown}; it takes "
                "'table' and optionally 'key'"
            )
        table = params.get("table")
        if not isinstance(table, str) or not TABLE_NAME.match(table):
            raise InvalidTarget(
                f"dynamodb target needs params.table, a table name "
                f"(3-255 of A-Z a-z 0-9 _ . -), not {table!r}"
            )
        if self._prefix and not table.startswith(self._prefix):
            raise InvalidTarget(
                f"table {table!r} does not start with {self._prefix!r}; the "
                "connector writes only to tables named by DELIVERY_TABLE_PREFIX"
            )
        key = params.get("key", DEFAULT_KEY)
        if not isinstance(key, str) or not key or len(key.encode()) > 255:
            raise InvalidTarget(
                f"params.key must be an attribute name of 1-255 bytes, not {key!r}"
            )
        if key in ENVELOPE_FIELDS:
            raise InvalidTarget(
                f"params.key {key!r} is an attribute the connector writes "
                f"itself ({sorted(ENVELOPE_FIELDS)}); key the table on another name"
            )
        return TableTarget(table, key)

    def describe(self, bound: TableTarget) -> str:
        return f"dynamodb:{bound.table}"

    def deliver(
        self,
        bound: TableTarget,
        delivery: Delivery,
        event: LoadedEvent,
        key: str,
        deadline: Deadline,
    ) -> Outcome:
        delivered_at = datetime.fromtimestamp(self._now(), UTC).isoformat(
            timespec="milliseconds"
        )
        envelope = {
            # Checked on its own so error paths start at the event's root.
            "event": exact(event.data),
            "rule": delivery.rule,
            "correlation_id": delivery.correlation_id,
            "target_id": key.split("#", 1)[0],
            "delivered_at": delivered_at.replace("+00:00", "Z"),
        }
        # bind() refused keys named like an envelope field.
        item = to_item({**envelope, bound.key: delivery.event_id})

        try:
            self._dynamodb().put_item(
                TableName=bound.table,
                Item=item,
                # An alias, because the key may be a reserved word ("name").
                ConditionExpression="attribute_not_exists(#key)",
                ExpressionAttributeNames={"#key": bound.key},
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return Outcome.duplicate(table=bound.table)
            return Outcome.failed(self._error(bound, delivery, exc), attempts=1)
        except AWS_ERRORS as exc:
            return Outcome.failed(self._error(bound, delivery, exc), attempts=1)
        return Outcome.delivered(1, table=bound.table)

    def _error(
        self, bound: TableTarget, delivery: Delivery, exc: Exception
    ) -> DeliveryError:
        code = error_code(exc)
        message = f"PutItem {delivery.event_id!r} into table {bound.table!r} failed"
        if code == "ValidationException" and "size" in str(exc).lower():
            return ItemTooLarge(f"{message}: {exc}", retryable=False)
        if code == "ResourceNotFoundException":
            return DeliveryTableError(
                f"{message}: the table does not exist; create it with a string "
                f"partition key {bound.key!r}",
                retryable=False,
            )
        return DeliveryTableError(
            f"{message}: {code}: {exc}", retryable=is_throttle_or_fault(exc)
        )

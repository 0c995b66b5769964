"""The failed-events table: write failures idempotently, read them for people.

Writes are single conditional UpdateItems. A record's key is the contract's
``record_id`` (a hash of event id and target id), so the same event failing
for the same target again updates one record: attempts grow, the last
failure time and error move on, and the status returns to "parked". Each
record remembers the SQS message ids that touched it and refuses a second
update from the same message, so a redelivered message changes nothing.

Reads go through the table's indexes (status, target_name, error_type,
each sorted by last_failed_at, newest first); only a query with no filter
at all scans. Cursors are opaque strings that name the index they page.

Events too large for an item (over ``inline_limit`` bytes of JSON) go to
the payload bucket and the record keeps a reference, as ``event_ref``.
"""

import base64
import binascii
import json
import logging
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from dlq_processor.checks import ERROR_TYPE_LIMIT
from dlq_processor.config import Settings
from dlq_processor.errors import (
    ClaimRefused,
    InvalidCursor,
    InvalidStatus,
    RecordNotFound,
    StorageError,
    StorageRejected,
)
from dlq_processor.items import (
    STATUSES,
    deserialize_item,
    serialize,
    target_name,
    to_json_text,
)
from dlq_processor.shapes import Incoming
from switchyard_contracts.failures import utc_now

logger = logging.getLogger(__name__)

KEY = "record_id"
INDEXES = {
    "status": "status-index",
    "target_name": "target-index",
    "error_type": "error-type-index",
}
SORT_KEY = "last_failed_at"
INLINE_LIMIT_BYTES = 300_000
PAYLOAD_PREFIX = "payloads/dlq"
MAX_PAGE_SIZE = 500
MAX_PAGES_PER_QUERY = 20
DETAIL_LIMIT = 1000
# How long a redrive holds its record: longer than a connector's Lambda can
# run (15 minutes), so a lease only lapses when its redrive has died.
REDRIVE_LEASE_SECONDS = 960
LEASE = "redrive_lease_until"


class WriteOutcome(StrEnum):
    """What recording a failure did to the table."""

    CREATED = "created"
    UPDATED = "updated"
    DUPLICATE = "duplicate"


@dataclass(frozen=True)
class Page:
    """One page of records, newest first, and where the next one starts."""

    items: list[dict[str, Any]] = field(default_factory=list)
    next_cursor: str | None = None


@dataclass(frozen=True)
class _Plan:
    """How a filter is read: which index, which conditions."""

    index: str | None
    hash_name: str | None
    request: dict[str, Any]


class FailureStore:
    """Failure records in the failed-events table."""

    def __init__(
        self,
        table_name: str,
        client: Any = None,
        *,
        s3_client: Any = None,
        payload_bucket: str | None = None,
        inline_limit: int = INLINE_LIMIT_BYTES,
    ) -> None:
        self.table_name = table_name
        self._client = client
        self._s3 = s3_client
        self.payload_bucket = payload_bucket
        self.inline_limit = inline_limit

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, client: Any = None
    ) -> "FailureStore":
        """A store on FAILED_EVENTS_TABLE, with PAYLOAD_BUCKET when set."""
        settings = Settings.from_env(environ)
        return cls(
            settings.failed_events_table,
            client=client,
            payload_bucket=settings.payload_bucket,
        )

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("dynamodb")
        return self._client

    @property
    def s3(self) -> Any:
        if self._s3 is None:
            import boto3

            self._s3 = boto3.client("s3")
        return self._s3

    # Writing failures

    def record_failure(self, incoming: Incoming, message_id: str) -> WriteOutcome:
        """Create or update the record of one failure, once per SQS message."""
        record = incoming.record
        record_id = record.record_id
        now = utc_now()
        origin = str(record.origin)

        event_text, event_ref = self._event_fields(record_id, record.event)
        if record.event_ref is not None:
            event_ref = dict(record.event_ref)
        # The event and the raw bytes share one item's room.
        room = self.inline_limit - len((event_text or "").encode("utf-8"))
        raw, raw_ref = self._raw_fields(record_id, record.raw, room)

        first_only = {
            "event_id": record.event_id,
            "event": event_text,
            "event_ref": event_ref,
            "raw": raw,
            "raw_ref": raw_ref,
            "raw_encoding": incoming.raw_encoding if record.raw is not None else None,
            "rule": record.rule,
            "target": to_json_text(record.target) if record.target else None,
            "target_id": record.target_id,
            "target_name": target_name(record.target, origin),
            "origin": origin,
            "correlation_id": record.correlation_id,
            "source": to_json_text(record.source) if record.source else None,
            "first_failed_at": record.first_failed_at,
            "sqs_message_id": message_id,
            "created_at": now,
        }
        every_time = {
            "error_type": (record.error.type or "Unknown")[:ERROR_TYPE_LIMIT],
            "error_message": record.error.message,
            "retryable": record.error.retryable,
            "last_failed_at": record.last_failed_at or now,
            "status": "parked",
            "updated_at": now,
        }
        entry = _history(
            now,
            "failed",
            origin,
            f"{record.error.type}: {record.error.message} "
            f"(attempts {record.attempts}, message {message_id})",
        )

        update = _Update()
        for name, value in first_only.items():
            if value is not None:
                update.set_if_absent(name, value)
        for name, value in every_time.items():
            update.set(name, value)
        update.append_history(entry)
        update.add("attempts", record.attempts)
        update.add("sqs_message_ids", {message_id})
        condition = (
            f"attribute_not_exists({update.name(KEY)}) OR NOT "
            f"contains({update.name('sqs_message_ids')}, {update.value(message_id)})"
        )
        old = self._conditional_update(record_id, update, condition, "ALL_OLD")
        if old is None:
            return WriteOutcome.DUPLICATE
        return WriteOutcome.UPDATED if old else WriteOutcome.CREATED

    def _event_fields(
        self, record_id: str, event: dict[str, Any] | None
    ) -> tuple[str | None, dict[str, str] | None]:
        if event is None:
            return None, None
        text = to_json_text(event)
        if len(text.encode("utf-8")) <= self.inline_limit:
            return text, None
        return None, self._offload(record_id, "event.json", text, "application/json")

    def _raw_fields(
        self, record_id: str, raw: str | None, room: int
    ) -> tuple[str | None, dict[str, str] | None]:
        if raw is None or len(raw.encode("utf-8")) <= room:
            return raw, None
        return None, self._offload(record_id, "raw.txt", raw, "text/plain")

    def _offload(
        self, record_id: str, name: str, text: str, content_type: str
    ) -> dict[str, str]:
        """Keep a large document in the payload bucket; return its reference."""
        if not self.payload_bucket:
            raise StorageError(
                f"record {record_id} holds {len(text)} characters in {name}, more "
                f"than an item may carry inline ({self.inline_limit}); set "
                "PAYLOAD_BUCKET so large documents can be kept there"
            )
        key = f"{PAYLOAD_PREFIX}/{record_id}/{name}"
        try:
            self.s3.put_object(
                Bucket=self.payload_bucket,
                Key=key,
                Body=text.encode("utf-8"),
                ContentType=content_type,
            )
        except (ClientError, BotoCoreError) as exc:
            raise StorageError(
                f"PutObject s3://{self.payload_bucket}/{key} failed: {exc}"
            ) from exc
        return {"bucket": self.payload_bucket, "key": key}

    # Reading

    def get(self, record_id: str) -> dict[str, Any] | None:
        """The record with this id, or None."""
        try:
            response = self.client.get_item(
                TableName=self.table_name,
                Key={KEY: serialize(record_id)},
                ConsistentRead=True,
            )
        except (ClientError, BotoCoreError) as exc:
            raise self._storage_error("GetItem", record_id, exc) from exc
        item = response.get("Item")
        if not item or "status" not in item:
            return None
        return deserialize_item(item)

    def load_event(self, record: Mapping[str, Any]) -> dict[str, Any] | None:
        """The record's event, fetched from the payload bucket if kept there."""
        if record.get("event") is not None:
            return dict(record["event"])
        ref = record.get("event_ref")
        if not ref:
            return None
        # The reference came in a message anyone with access to the queue
        # could write: fetch only from the payload bucket.
        if self.payload_bucket and ref.get("bucket") != self.payload_bucket:
            raise StorageError(
                f"record {record.get(KEY)} refers to s3://{ref.get('bucket')}/"
                f"{ref.get('key')}, outside the payload bucket "
                f"{self.payload_bucket}; it is not read"
            )
        try:
            body = self.s3.get_object(Bucket=ref["bucket"], Key=ref["key"])["Body"]
            value = json.loads(body.read())
        except (ClientError, BotoCoreError) as exc:
            raise StorageError(
                f"GetObject s3://{ref['bucket']}/{ref['key']} for record "
                f"{record.get(KEY)} failed: {exc}"
            ) from exc
        return value if isinstance(value, dict) else None

    def query(
        self,
        status: str | None = None,
        target_name: str | None = None,
        error_type: str | None = None,
        since: str | datetime | None = None,
        until: str | datetime | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page:
        """Records matching every given filter, newest failure first.

        ``since`` and ``until`` bound ``last_failed_at`` (inclusive; ISO 8601
        UTC text or aware datetimes). A filter on status, target or error
        type reads its index; with no filter at all the table is scanned.
        """
        if status is not None:
            _check_status(status)
        limit = max(1, min(int(limit), MAX_PAGE_SIZE))
        plan = self._plan(status, target_name, error_type, since, until)
        start_key = _decode_cursor(cursor, plan.index)

        items: list[dict[str, Any]] = []
        for _ in range(MAX_PAGES_PER_QUERY):
            request = dict(plan.request, Limit=limit)
            if start_key:
                request["ExclusiveStartKey"] = start_key
            response = self._read(plan, request)
            page = response.get("Items", [])
            last_key = response.get("LastEvaluatedKey")
            for position, raw in enumerate(page):
                items.append(raw)
                if len(items) == limit:
                    at_end = position == len(page) - 1 and not last_key
                    next_cursor = None if at_end else _key_of(raw, plan)
                    return self._page(items, next_cursor, plan)
            if not last_key:
                return self._page(items, None, plan)
            start_key = last_key
        # Bounded work per call: a sparse filter returns what it found so
        # far and a cursor to carry on from.
        return self._page(items, start_key, plan)

    def iter_records(self, **filters: Any) -> Iterator[dict[str, Any]]:
        """Every record matching the filters, page by page (for tools)."""
        cursor = None
        while True:
            page = self.query(**filters, cursor=cursor, limit=MAX_PAGE_SIZE)
            yield from page.items
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    def cursor_after(
        self,
        record: Mapping[str, Any],
        status: str | None = None,
        target_name: str | None = None,
        error_type: str | None = None,
        since: str | datetime | None = None,
        until: str | datetime | None = None,
    ) -> str:
        """A cursor that resumes the same query just after this record."""
        plan = self._plan(status, target_name, error_type, since, until)
        names = [KEY] if plan.index is None else [KEY, plan.hash_name, SORT_KEY]
        try:
            key = {name: {"S": str(record[name])} for name in names if name}
        except KeyError as exc:
            raise InvalidCursor(f"record lacks {exc} to make a cursor from") from exc
        return _encode_cursor(key, plan.index)

    def counts(
        self,
        status: str | None = "parked",
        max_items: int = 5000,
    ) -> dict[str, Any]:
        """Record counts for the dashboard, reading at most ``max_items``.

        ``by_status`` counts every status; ``by_target`` and
        ``by_error_type`` count the records of ``status`` (every status when
        None). ``truncated`` is true when a count stopped at the bound.
        """
        statuses = STATUSES if status is None else (_check_status(status),)
        by_status: dict[str, int] = {}
        truncated = False
        for each in STATUSES:
            count, capped = self._count_status(each, max_items)
            by_status[each] = count
            truncated = truncated or capped

        by_target: dict[str, int] = {}
        by_error_type: dict[str, int] = {}
        read = 0
        for each in statuses:
            for item in self._project_status(each, max_items - read):
                read += 1
                name = item.get("target_name", {}).get("S", "unknown")
                error = item.get("error_type", {}).get("S", "Unknown")
                by_target[name] = by_target.get(name, 0) + 1
                by_error_type[error] = by_error_type.get(error, 0) + 1
            if read >= max_items:
                truncated = True
                break
        return {
            "by_status": by_status,
            "by_target": dict(sorted(by_target.items(), key=lambda kv: -kv[1])),
            "by_error_type": dict(sorted(by_error_type.items(), key=lambda kv: -kv[1])),
            "status": status,
            "truncated": truncated,
        }

    # Changing status

    def discard(self, record_id: str, actor: str, reason: str) -> dict[str, Any]:
        """Mark a record discarded: looked at, and deliberately not redriven."""
        return self.mark(record_id, "discarded", actor, reason)

    def mark(
        self, record_id: str, status: str, actor: str, detail: str
    ) -> dict[str, Any]:
        """Set a record's status and note who did it and why."""
        _check_status(status)
        now = utc_now()
        update = _Update()
        update.set("status", status)
        update.set("updated_at", now)
        update.append_history(_history(now, status, actor, detail))
        return self._update_existing(record_id, update)

    def claim_redrive(
        self,
        record_id: str,
        *,
        expected_attempts: int,
        edited_event: dict[str, Any] | None = None,
        current: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Take the next redrive attempt of a record, or fail if taken.

        The attempt counter moves only from the value the caller read, and
        the claim holds a lease until ``record_redrive`` (or
        ``release_redrive``) returns it, so two redrives of one record
        cannot both go ahead, even when the second reads the record while
        the first is still invoking. An edited event replaces the stored
        one; the first original is kept.
        """
        now = int(time.time())
        update = _Update()
        update.set("redrive_attempts", expected_attempts + 1)
        update.set("updated_at", utc_now())
        update.set(LEASE, now + REDRIVE_LEASE_SECONDS)
        if edited_event is not None:
            text = to_json_text(edited_event)
            if len(text.encode("utf-8")) > self.inline_limit:
                raise StorageError(
                    f"the edited event of record {record_id} is {len(text)} "
                    f"characters, more than {self.inline_limit}; shorten it"
                )
            update.set("event", text)
            original = (current or {}).get("event")
            if original is not None:
                update.set_if_absent("original_event", to_json_text(original))
            original_ref = (current or {}).get("event_ref")
            if original_ref:
                update.set_if_absent("original_event_ref", dict(original_ref))
                update.remove("event_ref")

        attempts = update.name("redrive_attempts")
        status = update.name("status")
        lease = update.name(LEASE)
        condition = (
            f"attribute_exists({update.name(KEY)}) AND "
            f"{status} IN ({update.value('parked')}, {update.value('redriven')}) AND "
            f"(attribute_not_exists({attempts}) OR "
            f"{attempts} = {update.value(expected_attempts)}) AND "
            f"(attribute_not_exists({lease}) OR {lease} < {update.value(now)})"
        )
        claimed = self._conditional_update(record_id, update, condition, "ALL_NEW")
        if claimed is None:
            raise ClaimRefused(
                f"record {record_id} changed since it was read, is not "
                "parked or redriven, or has a redrive under way"
            )
        return deserialize_item(claimed)

    def record_redrive(
        self,
        record_id: str,
        *,
        status: str | None,
        actor: str,
        outcome: str,
        detail: str,
    ) -> dict[str, Any]:
        """Note a redrive's outcome, and its new status when it has one.

        The status moves only while the record is parked or redriven: one
        that an operator discarded or resolved during the invoke keeps that
        status, and the outcome still goes into its history.
        """
        now = utc_now()
        update = _Update()
        update.set("updated_at", now)
        update.set("last_redrive_at", now)
        update.set("last_redrive_outcome", outcome)
        update.append_history(_history(now, "redrive", actor, f"{outcome}: {detail}"))
        update.remove(LEASE)
        if status is not None:
            with_status = update.copy()
            with_status.set("status", _check_status(status))
            name = with_status.name("status")
            redrivable = (
                f"{name} IN ({with_status.value('parked')}, "
                f"{with_status.value('redriven')})"
            )
            try:
                return self._update_existing(record_id, with_status, redrivable)
            except RecordNotFound:
                pass
        return self._update_existing(record_id, update)

    def release_redrive(self, record_id: str) -> None:
        """Give back a redrive's lease when the redrive died before its outcome."""
        update = _Update()
        update.remove(LEASE)
        self._update_existing(record_id, update)

    # Internals

    def _update_existing(
        self, record_id: str, update: "_Update", condition: str | None = None
    ) -> dict[str, Any]:
        condition = condition or f"attribute_exists({update.name('status')})"
        updated = self._conditional_update(record_id, update, condition, "ALL_NEW")
        if updated is None:
            raise RecordNotFound(
                f"no failure record {record_id!r} in {self.table_name}"
            )
        return deserialize_item(updated)

    def _conditional_update(
        self, record_id: str, update: "_Update", condition: str, returns: str
    ) -> dict[str, Any] | None:
        """UpdateItem under a condition; None when the condition does not hold.

        Otherwise the attributes that ``returns`` asks for (ALL_OLD of a new
        item: empty). Any other failure is a StorageError.
        """
        try:
            response = self.client.update_item(
                TableName=self.table_name,
                Key={KEY: serialize(record_id)},
                ConditionExpression=condition,
                ReturnValues=returns,
                **update.request(),
            )
        except ClientError as exc:
            if _code(exc) == "ConditionalCheckFailedException":
                return None
            raise self._storage_error("UpdateItem", record_id, exc) from exc
        except BotoCoreError as exc:
            raise self._storage_error("UpdateItem", record_id, exc) from exc
        return response.get("Attributes") or {}

    def _plan(
        self,
        status: str | None,
        target: str | None,
        error_type: str | None,
        since: str | datetime | None,
        until: str | datetime | None,
    ) -> _Plan:
        filters = {"status": status, "target_name": target, "error_type": error_type}
        given = {k: v for k, v in filters.items() if v is not None}
        since_text, until_text = _time_text(since), _time_text(until)
        expr = _Update()

        hash_name = next(iter(given), None)
        if hash_name is None:
            # Alarm-window claims may share the table; they have no status.
            conditions = [f"attribute_exists({expr.name('status')})"]
            conditions += _range_conditions(expr, since_text, until_text)
            request = {
                "TableName": self.table_name,
                "FilterExpression": " AND ".join(conditions),
                **expr.names_and_values(),
            }
            return _Plan(index=None, hash_name=None, request=request)

        key = [f"{expr.name(hash_name)} = {expr.value(given.pop(hash_name))}"]
        key += _range_conditions(expr, since_text, until_text)
        request = {
            "TableName": self.table_name,
            "IndexName": INDEXES[hash_name],
            "KeyConditionExpression": " AND ".join(key),
            "ScanIndexForward": False,
        }
        if given:
            request["FilterExpression"] = " AND ".join(
                f"{expr.name(n)} = {expr.value(v)}" for n, v in given.items()
            )
        request.update(expr.names_and_values())
        return _Plan(index=INDEXES[hash_name], hash_name=hash_name, request=request)

    def _read(self, plan: _Plan, request: dict[str, Any]) -> dict[str, Any]:
        operation = "Query" if plan.index else "Scan"
        try:
            if plan.index:
                return self.client.query(**request)
            return self.client.scan(**request)
        except (ClientError, BotoCoreError) as exc:
            where = f"{self.table_name}/{plan.index}" if plan.index else self.table_name
            raise StorageError(f"{operation} on {where} failed: {exc}") from exc

    def _page(self, items: list[dict[str, Any]], next_key: Any, plan: _Plan) -> Page:
        cursor = _encode_cursor(next_key, plan.index) if next_key else None
        return Page(items=[deserialize_item(i) for i in items], next_cursor=cursor)

    def _count_status(self, status: str, max_items: int) -> tuple[int, bool]:
        total = 0
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": INDEXES["status"],
            "KeyConditionExpression": "#s = :s",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {":s": serialize(status)},
            "Select": "COUNT",
        }
        while True:
            try:
                response = self.client.query(**request)
            except (ClientError, BotoCoreError) as exc:
                raise StorageError(
                    f"Query on {self.table_name}/status-index failed: {exc}"
                ) from exc
            total += int(response.get("Count", 0))
            last = response.get("LastEvaluatedKey")
            if not last:
                return total, False
            if total >= max_items:
                return total, True
            request["ExclusiveStartKey"] = last

    def _project_status(self, status: str, budget: int) -> Iterator[dict[str, Any]]:
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": INDEXES["status"],
            "KeyConditionExpression": "#s = :s",
            "ProjectionExpression": "#t, #e",
            "ExpressionAttributeNames": {
                "#s": "status",
                "#t": "target_name",
                "#e": "error_type",
            },
            "ExpressionAttributeValues": {":s": serialize(status)},
        }
        seen = 0
        while seen < budget:
            request["Limit"] = min(budget - seen, 1000)
            try:
                response = self.client.query(**request)
            except (ClientError, BotoCoreError) as exc:
                raise StorageError(
                    f"Query on {self.table_name}/status-index failed: {exc}"
                ) from exc
            for item in response.get("Items", []):
                seen += 1
                yield item
            last = response.get("LastEvaluatedKey")
            if not last:
                return
            request["ExclusiveStartKey"] = last

    def _storage_error(
        self, operation: str, record_id: str, exc: Exception
    ) -> StorageError:
        message = (
            f"{operation} on {self.table_name} for record {record_id} failed: {exc}"
        )
        if isinstance(exc, ClientError) and _code(exc) == "ValidationException":
            return StorageRejected(message)
        return StorageError(message)


class _Update:
    """Builds an update or condition expression with every name aliased.

    DynamoDB reserves words such as ``status``, ``source`` and ``event``, so
    every attribute name goes through ``#n`` aliases and every value through
    ``:v`` placeholders.
    """

    def __init__(self) -> None:
        self._names: dict[str, str] = {}
        self._values: dict[str, Any] = {}
        self._sets: list[str] = []
        self._adds: list[str] = []
        self._removes: list[str] = []

    def copy(self) -> "_Update":
        twin = _Update()
        twin._names = dict(self._names)
        twin._values = dict(self._values)
        twin._sets = list(self._sets)
        twin._adds = list(self._adds)
        twin._removes = list(self._removes)
        return twin

    def name(self, attribute: str) -> str:
        for alias, known in self._names.items():
            if known == attribute:
                return alias
        alias = f"#n{len(self._names)}"
        self._names[alias] = attribute
        return alias

    def value(self, value: Any) -> str:
        placeholder = f":v{len(self._values)}"
        self._values[placeholder] = serialize(value)
        return placeholder

    def set(self, attribute: str, value: Any) -> None:
        self._sets.append(f"{self.name(attribute)} = {self.value(value)}")

    def set_if_absent(self, attribute: str, value: Any) -> None:
        name = self.name(attribute)
        self._sets.append(f"{name} = if_not_exists({name}, {self.value(value)})")

    def append_history(self, entry: dict[str, str]) -> None:
        name = self.name("history")
        empty, new = self.value([]), self.value([entry])
        self._sets.append(
            f"{name} = list_append(if_not_exists({name}, {empty}), {new})"
        )

    def add(self, attribute: str, value: Any) -> None:
        self._adds.append(f"{self.name(attribute)} {self.value(value)}")

    def remove(self, attribute: str) -> None:
        self._removes.append(self.name(attribute))

    def names_and_values(self) -> dict[str, Any]:
        request: dict[str, Any] = {"ExpressionAttributeNames": dict(self._names)}
        if self._values:
            request["ExpressionAttributeValues"] = dict(self._values)
        return request

    def request(self) -> dict[str, Any]:
        clauses = []
        if self._sets:
            clauses.append("SET " + ", ".join(self._sets))
        if self._adds:
            clauses.append("ADD " + ", ".join(self._adds))
        if self._removes:
            clauses.append("REMOVE " + ", ".join(self._removes))
        return {"UpdateExpression": " ".join(clauses), **self.names_and_values()}


def _history(at: str, action: str, actor: str, detail: str) -> dict[str, str]:
    return {
        "at": at,
        "action": action,
        "actor": actor or "unknown",
        "detail": (detail or "")[:DETAIL_LIMIT],
    }


def _check_status(status: str) -> str:
    if status not in STATUSES:
        raise InvalidStatus(f"status {status!r} is not one of {', '.join(STATUSES)}")
    return status


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _time_text(value: str | datetime | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if value.tzinfo is None:
        raise ValueError(f"datetime {value!r} has no time zone; give it UTC")
    text = value.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def _range_conditions(expr: _Update, since: str | None, until: str | None) -> list[str]:
    if not since and not until:
        return []
    name = expr.name(SORT_KEY)
    if since and until:
        return [f"{name} BETWEEN {expr.value(since)} AND {expr.value(until)}"]
    if since:
        return [f"{name} >= {expr.value(since)}"]
    if until:
        return [f"{name} <= {expr.value(until)}"]
    return []


def _key_of(item: Mapping[str, Any], plan: _Plan) -> dict[str, Any]:
    """The position just after an item, as DynamoDB's ExclusiveStartKey."""
    names = [KEY] if plan.index is None else [KEY, plan.hash_name, SORT_KEY]
    return {name: item[name] for name in names if name}


def _encode_cursor(key: Mapping[str, Any], index: str | None) -> str:
    plain = {name: value["S"] for name, value in key.items()}
    text = json.dumps({"i": index or "", "k": plain}, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii")


def _cursor_keys(index: str | None) -> set[str]:
    """The attributes of a LastEvaluatedKey of the table or of an index."""
    if not index:
        return {KEY}
    attribute = next(name for name, value in INDEXES.items() if value == index)
    return {KEY, attribute, SORT_KEY}


def _decode_cursor(cursor: str | None, index: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii")))
        keys = data["k"]
        same_index = data["i"] == (index or "")
        valid = isinstance(keys, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in keys.items()
        )
    except (binascii.Error, UnicodeError, ValueError, KeyError, TypeError):
        raise InvalidCursor(
            f"cursor {cursor[:40]!r} is not one this store made"
        ) from None
    if not valid or not same_index or set(keys) != _cursor_keys(index):
        raise InvalidCursor(
            "cursor belongs to a different filter; start again without it"
        )
    return {name: {"S": value} for name, value in keys.items()}

"""The failed-events table through FailureStore, on moto."""

import base64
import json
from dataclasses import replace

import pytest

from dlq_processor.errors import (
    InvalidCursor,
    InvalidStatus,
    RecordNotFound,
    StorageError,
)
from dlq_processor.shapes import Incoming
from dlq_processor.store import FailureStore, WriteOutcome
from switchyard_contracts import FailureError, FailureRecord, Origin

pytestmark = pytest.mark.functional

WEBHOOK = {"connector": "webhook", "params": {"url": "https://crm.example.com/hooks"}}
TABLE_TARGET = {"connector": "dynamodb", "params": {"table": "orders"}}


def failure(
    event_id: str = "e1",
    *,
    target: dict | None = WEBHOOK,
    error_type: str = "HTTPError",
    at: str = "2026-12-04T10:00:00.000Z",
    attempts: int = 1,
    event: dict | None = None,
) -> Incoming:
    return Incoming(
        FailureRecord(
            event_id=event_id,
            error=FailureError(error_type, f"{error_type} for {event_id}", True),
            origin=Origin.CONNECTOR,
            event=event if event is not None else {"id": event_id, "total": 120.50},
            rule="new-orders-to-crm",
            target=target,
            target_id=f"tid-{target['connector']}" if target else None,
            attempts=attempts,
            first_failed_at=at,
            last_failed_at=at,
            correlation_id=f"corr-{event_id}",
        )
    )


def test_a_new_failure_is_stored_with_every_field(store: FailureStore):
    incoming = failure()

    outcome = store.record_failure(incoming, "m-1")
    record = store.get(incoming.record.record_id)

    assert outcome is WriteOutcome.CREATED
    assert record["event"] == {"id": "e1", "total": 120.5}
    assert record["event_id"] == "e1"
    assert record["rule"] == "new-orders-to-crm"
    assert record["target"] == WEBHOOK
    assert record["target_name"] == "webhook:https://crm.example.com/hooks"
    assert record["error_type"] == "HTTPError"
    assert record["error_message"] == "HTTPError for e1"
    assert record["retryable"] is True
    assert record["attempts"] == 1
    assert record["first_failed_at"] == record["last_failed_at"]
    assert record["origin"] == "connector"
    assert record["status"] == "parked"
    assert record["correlation_id"] == "corr-e1"
    assert record["sqs_message_id"] == "m-1"
    [entry] = record["history"]
    assert entry["action"] == "failed" and entry["actor"] == "connector"


def test_event_numbers_keep_their_exact_spelling(store: FailureStore, aws):
    incoming = failure(event={"id": "e9", "big": 12345678901234567890, "f": 0.1})

    store.record_failure(incoming, "m-1")
    item = aws["dynamodb"].get_item(
        TableName=store.table_name,
        Key={"record_id": {"S": incoming.record.record_id}},
    )["Item"]

    assert item["event"]["S"] == '{"id":"e9","big":12345678901234567890,"f":0.1}'


def test_the_same_message_twice_changes_nothing(store: FailureStore):
    incoming = failure()

    first = store.record_failure(incoming, "m-1")
    second = store.record_failure(incoming, "m-1")
    record = store.get(incoming.record.record_id)

    assert (first, second) == (WriteOutcome.CREATED, WriteOutcome.DUPLICATE)
    assert record["attempts"] == 1
    assert len(record["history"]) == 1


def test_a_repeat_from_another_message_updates_the_same_record(store: FailureStore):
    store.record_failure(failure(at="2026-12-04T10:00:00.000Z", attempts=3), "m-1")
    store.mark(failure().record.record_id, "redriven", "ops@example.com", "retry")

    outcome = store.record_failure(
        failure(at="2026-12-04T11:00:00.000Z", error_type="Timeout"), "m-2"
    )
    record = store.get(failure().record.record_id)

    assert outcome is WriteOutcome.UPDATED
    assert record["attempts"] == 4
    assert record["first_failed_at"] == "2026-12-04T10:00:00.000Z"
    assert record["last_failed_at"] == "2026-12-04T11:00:00.000Z"
    assert record["error_type"] == "Timeout"
    assert record["status"] == "parked"
    assert record["sqs_message_ids"] == ["m-1", "m-2"]
    assert [h["action"] for h in record["history"]] == ["failed", "redriven", "failed"]


def test_a_missing_table_is_a_storage_error(aws):
    store = FailureStore("no-such-table", client=aws["dynamodb"])

    with pytest.raises(StorageError, match="no-such-table"):
        store.record_failure(failure(), "m-1")


def test_a_large_event_goes_to_the_payload_bucket(store: FailureStore, aws):
    store.inline_limit = 1000
    big = {"id": "big", "blob": "x" * 5000}

    store.record_failure(failure("big", event=big), "m-1")
    record = store.get(failure("big").record.record_id)

    assert record.get("event") is None
    ref = record["event_ref"]
    body = aws["s3"].get_object(Bucket=ref["bucket"], Key=ref["key"])["Body"].read()
    assert json.loads(body) == big
    assert store.load_event(record) == big


def test_an_event_and_raw_bytes_that_fit_alone_but_not_together_share_the_item(
    store: FailureStore, aws
):
    event = {"id": "both", "blob": "x" * 250_000}
    raw = "eA==" * 50_000  # 200,000 characters of base64
    incoming = failure("both", event=event)
    incoming = Incoming(replace(incoming.record, raw=raw), "base64")

    store.record_failure(incoming, "m-1")
    record = store.get(incoming.record.record_id)

    assert store.load_event(record) == event
    assert record.get("raw") is None
    ref = record["raw_ref"]
    body = aws["s3"].get_object(Bucket=ref["bucket"], Key=ref["key"])["Body"].read()
    assert body.decode() == raw


def test_an_event_reference_outside_the_payload_bucket_is_not_read(
    store: FailureStore, aws
):
    aws["s3"].create_bucket(Bucket="someone-elses-bucket")
    aws["s3"].put_object(Bucket="someone-elses-bucket", Key="secrets.json", Body=b"{}")
    record = {
        "record_id": "r1",
        "event_ref": {"bucket": "someone-elses-bucket", "key": "secrets.json"},
    }

    with pytest.raises(StorageError, match="someone-elses-bucket"):
        store.load_event(record)


def test_a_large_event_without_a_bucket_is_a_storage_error(aws):
    store = FailureStore(
        "switchyard-test-failed-events", client=aws["dynamodb"], inline_limit=10
    )

    with pytest.raises(StorageError, match="PAYLOAD_BUCKET"):
        store.record_failure(failure(), "m-1")


def seed(store: FailureStore) -> None:
    for n in range(7):
        target = WEBHOOK if n % 2 == 0 else TABLE_TARGET
        error = "HTTPError" if n < 5 else "Timeout"
        store.record_failure(
            failure(
                f"e{n}", target=target, error_type=error, at=f"2026-12-04T10:0{n}:00Z"
            ),
            f"m-{n}",
        )


def test_query_by_status_pages_newest_first(store: FailureStore):
    seed(store)

    first = store.query(status="parked", limit=3)
    second = store.query(status="parked", limit=3, cursor=first.next_cursor)
    third = store.query(status="parked", limit=3, cursor=second.next_cursor)

    ids = [r["event_id"] for p in (first, second, third) for r in p.items]
    assert ids == ["e6", "e5", "e4", "e3", "e2", "e1", "e0"]
    assert third.next_cursor is None


def test_query_combines_filters_and_time_bounds(store: FailureStore):
    seed(store)

    by_target = store.query(target_name="dynamodb:orders")
    by_error = store.query(error_type="Timeout", status="parked")
    in_window = store.query(
        target_name="webhook:https://crm.example.com/hooks",
        since="2026-12-04T10:02:00Z",
        until="2026-12-04T10:05:00Z",
    )

    assert [r["event_id"] for r in by_target.items] == ["e5", "e3", "e1"]
    assert [r["event_id"] for r in by_error.items] == ["e6", "e5"]
    assert [r["event_id"] for r in in_window.items] == ["e4", "e2"]


def test_query_with_a_filter_reads_an_index_not_the_table(store: FailureStore):
    seed(store)
    calls = []
    original_scan = store.client.scan
    store.client.scan = lambda **kw: calls.append(kw) or original_scan(**kw)

    store.query(error_type="HTTPError", limit=2)
    page = store.query(limit=10)

    assert len(calls) == 1  # only the unfiltered query scans
    assert len(page.items) == 7


def test_query_without_filter_scans_every_page(store: FailureStore):
    seed(store)

    seen, cursor = [], None
    while True:
        page = store.query(limit=2, cursor=cursor)
        seen += [r["event_id"] for r in page.items]
        cursor = page.next_cursor
        if not cursor:
            break

    assert sorted(seen) == [f"e{n}" for n in range(7)]


def test_a_cursor_from_another_filter_is_refused(store: FailureStore):
    seed(store)
    page = store.query(status="parked", limit=2)

    with pytest.raises(InvalidCursor):
        store.query(error_type="Timeout", cursor=page.next_cursor)
    with pytest.raises(InvalidCursor):
        store.query(status="parked", cursor="not a cursor")


def test_counts_group_by_status_target_and_error(store: FailureStore):
    seed(store)
    store.discard(failure("e0").record.record_id, "ops@example.com", "test event")

    counts = store.counts()

    assert counts["by_status"] == {
        "parked": 6,
        "redriven": 0,
        "resolved": 0,
        "discarded": 1,
    }
    assert counts["by_target"] == {
        "dynamodb:orders": 3,
        "webhook:https://crm.example.com/hooks": 3,
    }
    assert counts["by_error_type"] == {"HTTPError": 4, "Timeout": 2}
    assert counts["truncated"] is False


def test_counts_say_when_they_stop_at_the_bound(store: FailureStore):
    seed(store)

    counts = store.counts(max_items=3)

    assert counts["truncated"] is True
    assert sum(counts["by_target"].values()) == 3


def test_discard_and_mark_record_who_and_why(store: FailureStore):
    store.record_failure(failure(), "m-1")
    record_id = failure().record.record_id

    store.discard(record_id, "ops@example.com", "test traffic")
    record = store.mark(record_id, "resolved", "ops@example.com", "fixed by hand")

    assert record["status"] == "resolved"
    assert record["history"][1] | {"at": None} == {
        "at": None,
        "action": "discarded",
        "actor": "ops@example.com",
        "detail": "test traffic",
    }
    assert record["history"][2]["action"] == "resolved"


def test_mark_refuses_unknown_records_and_statuses(store: FailureStore):
    store.record_failure(failure(), "m-1")

    with pytest.raises(RecordNotFound):
        store.mark("nope", "resolved", "ops", "x")
    with pytest.raises(InvalidStatus):
        store.mark(failure().record.record_id, "deleted", "ops", "x")
    assert store.get("nope") is None


def test_a_cursor_whose_keys_do_not_fit_its_index_is_refused(store: FailureStore):
    # A forged cursor naming the right index but the wrong key attributes
    # would reach DynamoDB as a ValidationException; refuse it here instead.
    seed(store)
    forged = base64.urlsafe_b64encode(
        json.dumps({"i": "status-index", "k": {"record_id": "r1"}}).encode()
    ).decode()

    with pytest.raises(InvalidCursor, match="different filter"):
        store.query(status="parked", cursor=forged)

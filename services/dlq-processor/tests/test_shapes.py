"""Telling dead-letter messages apart and splitting them into failures."""

import base64
import json
from dataclasses import replace

import pytest

from dlq_processor.checks import checked_record
from dlq_processor.items import target_name
from dlq_processor.shapes import (
    RAW_BASE64,
    RAW_TEXT,
    Shape,
    StreamEvent,
    classify,
    event_id_for,
    failure_from_unread_batch,
    failures_from_async_record,
    failures_from_document,
    failures_from_stream_events,
    parse_stream_batch,
    unrecognised,
)
from switchyard_contracts import (
    ContractError,
    Delivery,
    DeliveryBatch,
    FailureError,
    FailureRecord,
    Origin,
)

pytestmark = pytest.mark.unit

WEBHOOK = {"connector": "webhook", "params": {"url": "https://crm.example.com/hooks"}}


def delivery_batch(*event_ids: str) -> dict:
    return DeliveryBatch(
        target=WEBHOOK,
        deliveries=[
            Delivery(
                event_id=event_id,
                rule="new-orders-to-crm",
                correlation_id=f"corr-{event_id}",
                event={"id": event_id, "type": "order.created", "total": 120.5},
                source={"shard_id": "shardId-0", "sequence_number": "7"},
            )
            for event_id in event_ids
        ],
    ).to_dict()


def test_classify_tells_each_shape_apart(load_sample):
    record = FailureRecord(
        event_id="e1",
        error=FailureError("Boom", "it broke"),
        origin=Origin.CONNECTOR,
        event={"id": "e1"},
    )
    async_record = load_sample("async_invoke_failure__aws-lambda-developer-guide.json")
    kinesis_record = load_sample("kinesis_on_failure__aws-lambda-developer-guide.json")

    assert classify(record.to_message()).shape is Shape.FAILURE
    assert classify(json.dumps(async_record)).shape is Shape.ASYNC_INVOKE
    assert classify(json.dumps(kinesis_record)).shape is Shape.STREAM_BATCH
    assert classify("Test message.").shape is Shape.UNRECOGNISED
    assert classify('{"message": "foo1"}').shape is Shape.UNRECOGNISED
    assert classify("[1, 2]").shape is Shape.UNRECOGNISED


def test_classify_opens_an_sns_envelope(load_sample):
    kinesis_record = load_sample("kinesis_on_failure__aws-lambda-developer-guide.json")
    envelope = {"Type": "Notification", "Message": json.dumps(kinesis_record)}

    assert classify(json.dumps(envelope)).shape is Shape.STREAM_BATCH


def test_shared_sqs_sample_bodies_are_unrecognised_with_a_reason(load_shared_event):
    sample = load_shared_event("sqs_event_2rec__powertools-py.json")
    for record in sample["Records"]:
        classified = classify(record["body"])

        assert classified.shape is Shape.UNRECOGNISED
        assert classified.reason


def test_failure_document_keeps_every_field():
    record = FailureRecord(
        event_id="e1",
        error=FailureError("HTTPError", "502 from crm", retryable=True),
        origin=Origin.CONNECTOR,
        event={"id": "e1", "n": 1},
        rule="r",
        target=WEBHOOK,
        target_id="t1",
        attempts=3,
        correlation_id="c1",
    )

    [incoming] = failures_from_document(json.loads(record.to_message()))

    assert incoming.record == record
    assert incoming.raw_encoding is None


def test_async_record_becomes_one_failure_per_delivery(load_sample):
    document = load_sample("async_invoke_failure__aws-lambda-developer-guide.json")
    document["requestPayload"] = delivery_batch("e1", "e2", "e3")

    failures = failures_from_async_record(document, "2026-01-01T00:00:00.000Z")

    assert [f.record.event_id for f in failures] == ["e1", "e2", "e3"]
    first = failures[0].record
    assert first.origin is Origin.ASYNC_INVOKE
    assert first.target == WEBHOOK
    assert first.target_id == DeliveryBatch.from_dict(delivery_batch("e1")).target_id
    assert first.rule == "new-orders-to-crm"
    assert first.correlation_id == "corr-e1"
    assert first.attempts == 3
    assert first.last_failed_at == "2019-11-14T18:16:05.568Z"
    assert first.error.retryable is True
    assert "Process exited before completing request" in first.error.message
    assert "RetriesExhausted" in first.error.message
    assert first.event["total"] == 120.5


def test_async_record_without_a_delivery_batch_is_refused(load_sample):
    document = load_sample("async_invoke_failure__aws-lambda-developer-guide.json")

    with pytest.raises(ContractError):
        failures_from_async_record(document, "2026-01-01T00:00:00.000Z")


def test_stream_batch_reads_the_documented_fields(load_sample):
    document = load_sample("kinesis_on_failure__aws-lambda-developer-guide.json")

    batch = parse_stream_batch(document)

    assert batch.shard_id == "shardId-000000000001"
    assert batch.start_sequence.startswith("4960118965842235937883629852182763")
    assert batch.batch_size == 500
    assert batch.stream_name == "mystream"
    assert batch.condition == "RetryAttemptsExhausted"
    assert batch.function_error == "Unhandled"


def test_stream_batch_with_bad_sequence_numbers_is_refused(load_sample):
    document = load_sample("kinesis_on_failure__aws-lambda-developer-guide.json")
    document["KinesisBatchInfo"]["startSequenceNumber"] = "not-a-number"

    with pytest.raises(ContractError):
        parse_stream_batch(document)


def test_stream_events_take_the_event_id_or_the_coordinates(load_sample):
    batch = parse_stream_batch(
        load_sample("kinesis_on_failure__aws-lambda-developer-guide.json")
    )
    events = [
        StreamEvent("shardId-000000000001", "100", 0, b'{"id": "evt-1"}'),
        StreamEvent("shardId-000000000001", "101", 2, b'{"type": "no id"}'),
        StreamEvent("shardId-000000000001", "102", 0, b"\xff\x00 not json"),
    ]

    failures = failures_from_stream_events(batch, events, "2026-01-01T00:00:00Z")

    ids = [f.record.event_id for f in failures]
    assert ids == ["evt-1", "shardId-000000000001:101:2", "shardId-000000000001:102:0"]
    assert failures[2].record.event is None
    assert base64.b64decode(failures[2].record.raw) == b"\xff\x00 not json"
    assert failures[2].raw_encoding == RAW_BASE64
    assert all(f.record.origin is Origin.STREAM for f in failures)
    assert failures[1].record.source["sub_sequence_number"] == 2


def test_event_id_ignores_ids_that_are_not_text_or_whole_numbers():
    assert event_id_for({"id": 42}, "s", "1", 0) == "42"
    assert event_id_for({"id": True}, "s", "1", 0) == "s:1:0"
    assert event_id_for({"id": ""}, "s", "1", 3) == "s:1:3"
    assert event_id_for(None, "s", "9", 0) == "s:9:0"


def test_unread_batch_says_so_and_keeps_the_message(load_sample):
    body = json.dumps(
        load_sample("kinesis_on_failure__aws-lambda-developer-guide.json")
    )
    batch = parse_stream_batch(json.loads(body))

    incoming = failure_from_unread_batch(batch, body, "stream is gone", "t")

    assert incoming.record.error.type == "StreamRecordsUnavailable"
    assert "stream is gone" in incoming.record.error.message
    assert "only the batch metadata is stored" in incoming.record.error.message
    assert incoming.record.raw == body
    assert incoming.raw_encoding == RAW_TEXT


def test_unrecognised_is_keyed_on_the_message_id():
    one = unrecognised("junk", "m-1", "not JSON", "t").record
    again = unrecognised("junk", "m-1", "not JSON", "t").record
    other = unrecognised("junk", "m-2", "not JSON", "t").record

    assert one.record_id == again.record_id != other.record_id
    assert one.origin is Origin.UNRECOGNISED


@pytest.mark.parametrize(
    ("target", "origin", "expected"),
    [
        (WEBHOOK, "connector", "webhook:https://crm.example.com/hooks"),
        (
            {
                "connector": "webhook",
                "params": {"url": "https://user:secret@h.example/p?token=abc#f"},
            },
            "connector",
            "webhook:https://h.example/p",
        ),
        (
            {"connector": "dynamodb", "params": {"table": "orders"}},
            "x",
            "dynamodb:orders",
        ),
        ({"connector": "noop"}, "connector", "noop"),
        (None, "stream", "router"),
        (None, "router", "router"),
        (None, "unrecognised", "unrecognised"),
    ],
)
def test_target_name_is_connector_and_short_params(target, origin, expected):
    assert target_name(target, origin) == expected


def test_a_failure_document_without_target_id_gets_the_contract_one():
    record = FailureRecord(
        event_id="e1",
        error=FailureError("Boom", "x"),
        origin=Origin.ROUTER,
        event={"id": "e1"},
        target=WEBHOOK,
    )

    [incoming] = failures_from_document(json.loads(record.to_message()))

    assert incoming.record.target_id == DeliveryBatch(target=WEBHOOK).target_id


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"attempts": 10**50}, {"attempts": 1_000_000}),
        ({"attempts": -3}, {"attempts": 1}),
        ({"last_failed_at": "x" * 2000}, {"last_failed_at": "2026-12-04T12:00:00Z"}),
        ({"first_failed_at": "yesterday"}, {"first_failed_at": "2026-12-04T12:00:00Z"}),
        (
            {"error": FailureError("T" * 5000, "M" * 390_000, True)},
            {"error": FailureError("T" * 255, "M" * 2000, True)},
        ),
    ],
    ids=["huge-attempts", "negative-attempts", "long-time", "not-a-time", "long-error"],
)
def test_defects_that_lose_nothing_are_mended(changes, expected):
    record = FailureRecord.from_dict(
        {
            **sample_failure().to_dict(),
            **{k: v for k, v in changes.items() if k != "error"},
        }
    )
    if "error" in changes:
        record = replace(record, error=changes["error"])

    mended = checked_record(record, "2026-12-04T12:00:00Z")

    for name, value in expected.items():
        assert getattr(mended, name) == value
    assert mended.record_id == record.record_id


@pytest.mark.parametrize(
    "changes",
    [
        {"event": ["a", "list"]},
        {"target": {"connector": 7}},
        {"rule": 12},
        {"event_ref": {"bucket": "b"}},
        {"event_id": "e" * 2000},
        {"correlation_id": "\ud800"},
    ],
    ids=[
        "event-list",
        "connector-number",
        "rule-number",
        "ref-no-key",
        "long-id",
        "surrogate",
    ],
)
def test_records_the_table_cannot_hold_are_refused(changes):
    record = replace(sample_failure(), **changes)

    with pytest.raises(ContractError):
        checked_record(record, "2026-12-04T12:00:00Z")


def sample_failure() -> FailureRecord:
    return FailureRecord(
        event_id="evt-1",
        error=FailureError("HTTPError", "crm answered 503", True),
        origin=Origin.CONNECTOR,
        event={"id": "evt-1"},
        rule="new-orders-to-crm",
        target=WEBHOOK,
        target_id=DeliveryBatch(target=WEBHOOK).target_id,
        first_failed_at="2026-12-04T10:00:00.000Z",
        last_failed_at="2026-12-04T10:00:00.000Z",
    )

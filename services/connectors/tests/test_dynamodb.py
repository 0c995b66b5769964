"""Functional tests: the DynamoDB connector against moto."""

import json
from decimal import Decimal

import pytest

from switchyard_contracts import Delivery, DeliveryBatch

pytestmark = pytest.mark.functional

EXACT_TEXT = (
    b'{"id": "big-1", "price": 0.1, "total": 12345678901234567890.123456789,'
    b' "count": 123456789012345678901234567890, "tiny": 1e-120, "neg": -0.000}'
)


def test_each_event_becomes_one_item_with_its_envelope(
    aws, dynamodb_runner, kit
) -> None:
    events = kit.github_events(3)
    payload = kit.batch("dynamodb", {"table": kit.delivery_table}, events)

    result = dynamodb_runner().run(payload, kit.deadline())

    assert result["counts"] == {"delivered": 3, "duplicate": 0, "failed": 0}
    items = {item["id"]: item for item in aws.items()}
    first = items[events[0]["id"]]
    assert first["event"]["repo"]["name"] == events[0]["repo"]["name"]
    assert first["event"]["actor"]["id"] == events[0]["actor"]["id"]
    assert first["rule"] == "test-rule"
    assert first["correlation_id"] == f"corr-{events[0]['id']}"
    assert first["target_id"] == DeliveryBatch.from_dict(payload).target_id
    assert first["delivered_at"].endswith("Z")
    assert aws.failure_records() == []


def test_event_by_reference_keeps_every_digit(aws, dynamodb_runner, kit) -> None:
    aws.s3.put_object(
        Bucket=kit.payload_bucket, Key="payloads/big-1.json", Body=EXACT_TEXT
    )
    delivery = Delivery(
        event_id="big-1",
        rule="r",
        correlation_id="c",
        event_ref={"bucket": kit.payload_bucket, "key": "payloads/big-1.json"},
    )
    payload = DeliveryBatch(
        {"connector": "dynamodb", "params": {"table": kit.delivery_table}}, [delivery]
    ).to_dict()

    dynamodb_runner().run(payload, kit.deadline())

    (item,) = aws.items()
    assert item["event"]["price"] == Decimal("0.1")
    assert item["event"]["total"] == Decimal("12345678901234567890.123456789")
    assert item["event"]["count"] == Decimal(123456789012345678901234567890)
    assert item["event"]["tiny"] == Decimal("1e-120")


def test_inline_float_is_written_from_its_shortest_text(
    aws, dynamodb_runner, kit
) -> None:
    # The Lambda runtime hands inline events over with floats.
    event = json.loads('{"id": "f1", "price": 0.1, "ratio": 2.675}')
    payload = kit.batch("dynamodb", {"table": kit.delivery_table}, [event])

    dynamodb_runner().run(payload, kit.deadline())

    (item,) = aws.items()
    assert item["event"]["price"] == Decimal("0.1")
    assert item["event"]["ratio"] == Decimal("2.675")


def test_repeated_delivery_is_a_duplicate_and_leaves_the_item_alone(
    aws, dynamodb_runner, kit
) -> None:
    payload = kit.batch("dynamodb", {"table": kit.delivery_table}, [{"id": "e1"}])
    dynamodb_runner().run(payload, kit.deadline())
    (before,) = aws.items()

    again = kit.batch(
        "dynamodb", {"table": kit.delivery_table}, [{"id": "e1", "changed": True}]
    )
    result = dynamodb_runner().run(again, kit.deadline())

    assert result["counts"] == {"delivered": 0, "duplicate": 1, "failed": 0}
    assert aws.items() == [before]
    assert aws.failure_records() == []


def test_key_named_by_a_reserved_word_is_written_through_an_alias(
    aws, dynamodb_runner, kit
) -> None:
    table = "switchyard-test-by-name"
    aws.create_table(table, key="name")
    params = {"table": table, "key": "name"}

    dynamodb_runner().run(kit.batch("dynamodb", params, [{"id": "e1"}]), kit.deadline())
    result = dynamodb_runner().run(
        kit.batch("dynamodb", params, [{"id": "e1"}]), kit.deadline()
    )

    assert [item["name"] for item in aws.items(table)] == ["e1"]
    assert result["counts"]["duplicate"] == 1


def test_table_outside_the_prefix_is_refused_for_every_delivery(
    aws, dynamodb_runner, kit
) -> None:
    aws.create_table("users")
    payload = kit.batch("dynamodb", {"table": "users"}, [{"id": "e1"}, {"id": "e2"}])

    result = dynamodb_runner().run(payload, kit.deadline())

    assert result["counts"]["failed"] == 2
    assert aws.items("users") == []
    records = aws.failure_records()
    assert sorted(r.event_id for r in records) == ["e1", "e2"]
    assert {r.error.type for r in records} == {"InvalidTarget"}
    assert "DELIVERY_TABLE_PREFIX" in records[0].error.message
    assert records[0].error.retryable is False


def test_item_over_400_kb_is_refused_with_its_size(aws, dynamodb_runner, kit) -> None:
    events = [{"id": "small"}, {"id": "huge", "blob": "x" * 410_000}]
    payload = kit.batch("dynamodb", {"table": kit.delivery_table}, events)

    result = dynamodb_runner().run(payload, kit.deadline())

    assert [r["outcome"] for r in result["results"]] == ["delivered", "failed"]
    assert [item["id"] for item in aws.items()] == ["small"]
    records = aws.failure_records()
    assert len(records) == 1
    assert (records[0].error.type, records[0].error.retryable) == (
        "ItemTooLarge",
        False,
    )
    assert "400 KB" in records[0].error.message


def test_large_failed_event_travels_to_the_dead_letters_by_reference(
    aws, dynamodb_runner, kit
) -> None:
    event = {"id": "huge", "blob": "x" * 410_000}
    payload = kit.batch("dynamodb", {"table": kit.delivery_table}, [event])

    dynamodb_runner().run(payload, kit.deadline())

    (record,) = aws.failure_records()
    assert record.event is None
    assert record.event_ref == {
        "bucket": kit.payload_bucket,
        "key": "payloads/huge.json",
    }
    body = aws.s3.get_object(
        **{"Bucket": kit.payload_bucket, "Key": "payloads/huge.json"}
    )
    assert json.loads(body["Body"].read()) == event


def test_number_beyond_38_digits_is_refused_with_advice(
    aws, dynamodb_runner, kit
) -> None:
    text = b'{"id": "n1", "v": 1.234567890123456789012345678901234567890123}'
    aws.s3.put_object(Bucket=kit.payload_bucket, Key="payloads/n1.json", Body=text)
    delivery = Delivery(
        event_id="n1",
        rule="r",
        correlation_id="c",
        event_ref={"bucket": kit.payload_bucket, "key": "payloads/n1.json"},
    )
    payload = DeliveryBatch(
        {"connector": "dynamodb", "params": {"table": kit.delivery_table}}, [delivery]
    ).to_dict()

    dynamodb_runner().run(payload, kit.deadline())

    (record,) = aws.failure_records()
    assert record.error.type == "InvalidEvent"
    assert "38" in record.error.message and "$.v" in record.error.message
    assert aws.items() == []


def test_missing_table_is_a_clear_non_retryable_failure(
    aws, dynamodb_runner, kit
) -> None:
    payload = kit.batch("dynamodb", {"table": "switchyard-test-absent"}, [{"id": "e"}])

    dynamodb_runner().run(payload, kit.deadline())

    (record,) = aws.failure_records()
    assert (record.error.type, record.error.retryable) == (
        "DeliveryTableError",
        False,
    )
    assert "does not exist" in record.error.message


def test_missing_event_object_is_recorded_not_raised(aws, dynamodb_runner, kit) -> None:
    delivery = Delivery(
        event_id="gone",
        rule="r",
        correlation_id="c",
        event_ref={"bucket": kit.payload_bucket, "key": "payloads/gone.json"},
    )
    payload = DeliveryBatch(
        {"connector": "dynamodb", "params": {"table": kit.delivery_table}}, [delivery]
    ).to_dict()

    dynamodb_runner().run(payload, kit.deadline())

    (record,) = aws.failure_records()
    assert (record.error.type, record.error.retryable) == ("EventUnavailable", False)
    assert record.event_ref == delivery.event_ref


def test_event_ref_outside_the_payload_bucket_is_refused(
    aws, dynamodb_runner, kit
) -> None:
    delivery = Delivery(
        event_id="e",
        rule="r",
        correlation_id="c",
        event_ref={"bucket": "someone-elses-bucket", "key": "secrets.json"},
    )
    payload = DeliveryBatch(
        {"connector": "dynamodb", "params": {"table": kit.delivery_table}}, [delivery]
    ).to_dict()

    dynamodb_runner().run(payload, kit.deadline())

    (record,) = aws.failure_records()
    assert "not the payload bucket" in record.error.message


@pytest.mark.parametrize("key", ["event", "rule", "correlation_id", "delivered_at"])
def test_key_named_like_an_envelope_field_is_refused(
    aws, dynamodb_runner, kit, key: str
) -> None:
    # The id would silently replace that field (the event itself, for "event").
    table = f"switchyard-test-by-{key.replace('_', '-')}"
    aws.create_table(table, key=key)
    params = {"table": table, "key": key}

    dynamodb_runner().run(kit.batch("dynamodb", params, [{"id": "e1"}]), kit.deadline())

    assert aws.items(table) == []
    records = aws.failure_records()
    assert [(r.error.type, r.error.retryable) for r in records] == [
        ("InvalidTarget", False)
    ]
    assert repr(key) in records[0].error.message


def test_mixed_batch_writes_the_good_events_once_and_records_each_bad_one_once(
    aws, dynamodb_runner, kit
) -> None:
    deep: dict = {}
    cursor = deep
    for _ in range(40):
        cursor["d"] = {}
        cursor = cursor["d"]
    events = [
        {"id": "ok-float", "price": 0.1, "big": 10**40, "name": "reserved"},
        {"id": "nan", "value": float("nan")},
        {"id": "too-precise", "value": 2**200},
        {"id": "too-deep", "d": deep},
        {"id": "ok-plain", "status": "x"},
    ]
    payload = kit.batch("dynamodb", {"table": kit.delivery_table}, events)

    first = dynamodb_runner().run(payload, kit.deadline())
    again = dynamodb_runner().run(payload, kit.deadline())

    assert first["counts"] == {"delivered": 2, "duplicate": 0, "failed": 3}
    assert again["counts"] == {"delivered": 0, "duplicate": 2, "failed": 3}
    items = {item["id"]: item for item in aws.items()}
    assert sorted(items) == ["ok-float", "ok-plain"]
    assert items["ok-float"]["event"]["price"] == Decimal("0.1")
    assert items["ok-float"]["event"]["big"] == Decimal(10**40)
    records = aws.failure_records()
    # One record per bad event per run: the repeat is a new attempt.
    assert sorted(r.event_id for r in records) == sorted(
        ["nan", "too-precise", "too-deep"] * 2
    )
    assert {(r.error.type, r.error.retryable) for r in records} == {
        ("InvalidEvent", False)
    }


def test_event_with_a_lone_surrogate_is_one_non_retryable_record(
    aws, dynamodb_runner, kit
) -> None:
    # JSON may escape half a surrogate pair ("\ud800"); Python parses it into
    # a string that has no UTF-8 form, so no retry can ever deliver it.
    events = [{"id": "e1", "text": "broken \ud800 pair"}, {"id": "e2"}]
    payload = kit.batch("dynamodb", {"table": kit.delivery_table}, events)

    result = dynamodb_runner().run(payload, kit.deadline())

    assert result["counts"] == {"delivered": 1, "duplicate": 0, "failed": 1}
    assert [item["id"] for item in aws.items()] == ["e2"]
    (record,) = aws.failure_records()
    assert (record.error.type, record.error.retryable) == ("InvalidEvent", False)
    assert record.event == events[0]


def test_large_event_with_a_lone_surrogate_still_travels_by_reference(
    aws, dynamodb_runner, kit
) -> None:
    event = {"id": "odd", "text": "\ud800" + "x" * 5000}
    payload = kit.batch("dynamodb", {"table": kit.delivery_table}, [event])

    dynamodb_runner(dead_letter_message_limit_bytes=4096).run(payload, kit.deadline())

    (record,) = aws.failure_records()
    assert record.error.type == "InvalidEvent"
    assert record.event_ref == {
        "bucket": kit.payload_bucket,
        "key": "payloads/odd.json",
    }
    body = aws.s3.get_object(Bucket=kit.payload_bucket, Key="payloads/odd.json")
    assert json.loads(body["Body"].read()) == event

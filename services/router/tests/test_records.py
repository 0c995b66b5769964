"""Kinesis records decode into events; KPL aggregates unpack; poison is named."""

import base64
import json

import pytest
from aws_kinesis_agg.aggregator import RecordAggregator

from router.records import decode_records, unpack

pytestmark = pytest.mark.unit


def aggregate(*events: dict) -> bytes:
    """An aggregated record made by the KPL's own Python library."""
    aggregator = RecordAggregator()
    for number, event in enumerate(events):
        aggregator.add_user_record(f"pk-{number}", json.dumps(event).encode())
    return aggregator.clear_and_get().get_contents()[2]


def test_a_plain_record_becomes_one_event_with_its_id_field(kinesis):
    batch = [kinesis.record(json.dumps({"id": 17, "type": "x"}).encode(), "101")]

    decoded = decode_records(batch, 1_048_576)

    (event,) = decoded.events
    assert (event.event_id, event.correlation_id) == ("17", "17")
    assert event.body == {"id": 17, "type": "x"}
    assert decoded.user_records == 1 and decoded.poison == []


def test_without_an_id_the_event_id_comes_from_the_stream_position(kinesis):
    batch = [kinesis.record(b'{"correlation_id": "c-1"}', "202")]

    (event,) = decode_records(batch, 1_048_576).events

    assert event.event_id == f"{kinesis.shard}:202:0"
    assert event.correlation_id == "c-1"


def test_kpl_aggregates_unpack_into_user_records_with_sub_sequence_numbers(kinesis):
    data = aggregate({"n": 0}, {"n": 1}, {"id": "own", "n": 2})
    batch = [kinesis.record(data, "303")]

    decoded = decode_records(batch, 1_048_576)

    assert [e.body["n"] for e in decoded.events] == [0, 1, 2]
    assert [e.event_id for e in decoded.events] == [
        f"{kinesis.shard}:303:0",
        f"{kinesis.shard}:303:1",
        "own",
    ]
    assert {e.source.sequence_number for e in decoded.events} == {"303"}
    assert decoded.user_records == 3


def test_event_ids_are_identical_on_redelivery(kinesis):
    batch = [kinesis.record(aggregate({"n": 0}, {"n": 1}), "404")]

    first = [e.event_id for e in decode_records(batch, 1_048_576).events]
    again = [e.event_id for e in decode_records(batch, 1_048_576).events]

    assert first == again


def test_an_aggregate_with_a_bad_digest_is_treated_as_a_plain_record(kinesis):
    data = bytearray(aggregate({"n": 0}, {"n": 1}))
    data[-1] ^= 0xFF

    assert unpack(bytes(data)) == [bytes(data)]
    decoded = decode_records([kinesis.record(bytes(data), "505")], 1_048_576)
    assert decoded.events == []
    assert [p.reason for p in decoded.poison] == ["not-utf8"]


def test_a_plain_record_starting_like_json_is_not_unpacked():
    assert unpack(b'{"a": 1}') == [b'{"a": 1}']


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("not base64!", "bad-base64"),
        (base64.b64encode(b"\xff\xfe").decode(), "not-utf8"),
        (base64.b64encode(b"{nope").decode(), "not-json"),
        (base64.b64encode(b"[1, 2]").decode(), "not-object"),
        (base64.b64encode(b'"text"').decode(), "not-object"),
        (base64.b64encode(b'{"big": "' + b"x" * 100 + b'"}').decode(), "too-large"),
    ],
)
def test_records_that_can_never_be_routed_are_poison_with_a_reason(
    data, reason, kinesis
):
    decoded = decode_records([kinesis.record(data, "606")], max_event_bytes=64)

    assert decoded.events == []
    (poison,) = decoded.poison
    assert poison.reason == reason
    assert poison.source.stream_id == f"{kinesis.shard}:606:0"


def test_poison_in_one_user_record_spares_its_siblings(kinesis):
    aggregator = RecordAggregator()
    aggregator.add_user_record("a", b'{"ok": 1}')
    aggregator.add_user_record("b", b"not json")
    data = aggregator.clear_and_get().get_contents()[2]

    decoded = decode_records([kinesis.record(data, "707")], 1_048_576)

    assert [e.body for e in decoded.events] == [{"ok": 1}]
    assert [(p.reason, p.source.sub_sequence_number) for p in decoded.poison] == [
        ("not-json", 1)
    ]

"""Hostile Kinesis records: each becomes an event or named poison, never a crash.

Given records no producer should send, when a batch is decoded, then every
one is accounted for (an event or a poison record with a reason) and the
decoder never raises, so one record cannot block its shard.
"""

import base64
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from router.records import MAGIC, decode_records

pytestmark = pytest.mark.unit

LIMIT = 1_048_576


def aggregate_of(body: bytes) -> bytes:
    """A KPL frame around a protobuf body, with a correct digest."""
    return MAGIC + body + hashlib.md5(body).digest()


def reasons(records: list[dict]) -> list[tuple[str, str]]:
    decoded = decode_records(records, LIMIT)
    assert decoded.events == []
    return [(p.source.sequence_number, p.reason) for p in decoded.poison]


def test_json_nested_past_the_parser_limit_is_poison(kinesis):
    record = kinesis.record(b"[" * 100_000, "5")

    assert reasons([record]) == [("5", "not-json")]


@pytest.mark.parametrize("text", [b'{"a": NaN}', b'{"a": Infinity}', b"-Infinity"])
def test_nan_and_infinity_are_not_json(kinesis, text):
    assert reasons([kinesis.record(text, "6")]) == [("6", "not-json")]


@pytest.mark.parametrize("data", [None, 17, ["e30="]])
def test_data_that_is_not_a_base64_string_is_poison(kinesis, data):
    record = kinesis.record(b"{}", "7")
    record["kinesis"]["data"] = data

    assert reasons([record]) == [("7", "bad-base64")]


def test_a_record_without_its_kinesis_fields_is_poison_not_a_crash(kinesis):
    bare = {"eventID": f"{kinesis.shard}:8"}
    no_sequence = kinesis.record(b"{}", "9")
    del no_sequence["kinesis"]["sequenceNumber"]

    assert reasons([bare, no_sequence]) == [("", "bad-record"), ("", "bad-record")]


def test_an_aggregate_with_no_user_records_is_poison_not_dropped(kinesis):
    # Only a partition key table (field 1), no records (field 3).
    data = aggregate_of(b"\x0a\x02pk")

    decoded = decode_records([kinesis.record(data, "10")], LIMIT)

    assert [(p.reason, p.raw) for p in decoded.poison] == [("bad-aggregate", data)]
    assert decoded.user_records == 1


@pytest.mark.parametrize("cut", [1, 5, 12])
def test_a_truncated_aggregate_is_poison(kinesis, cut):
    body = b"\x0a\x02pk" + b"\x1a\x08\x08\x00\x1a\x04{}{}"
    data = aggregate_of(body)[:-cut]

    assert len(reasons([kinesis.record(data, "11")])) == 1


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.binary(max_size=64),
            st.binary(max_size=40).map(aggregate_of),
            st.text(max_size=40),
        ),
        max_size=5,
    )
)
def test_any_record_data_is_an_event_or_poison_and_never_raises(items):
    records = []
    for number, item in enumerate(items):
        data = base64.b64encode(item).decode() if isinstance(item, bytes) else item
        records.append(
            {"eventID": "s:1", "kinesis": {"sequenceNumber": str(number), "data": data}}
        )

    decoded = decode_records(records, 64)

    assert decoded.user_records == len(decoded.events) + len(decoded.poison)
    assert decoded.user_records >= len(records)


def test_an_id_too_long_to_travel_falls_back_to_the_stream_position(kinesis):
    # Every delivery and failure record carries both ids; a megabyte id
    # would make even a by-reference delivery exceed the invoke limit.
    body = {"id": "i" * 257, "correlation_id": "c" * 257}
    short = {"id": "i" * 256, "correlation_id": "c" * 256}
    records = [kinesis.event(body, "12"), kinesis.event(short, "13")]

    long_event, short_event = decode_records(records, LIMIT).events

    stream_id = f"{kinesis.shard}:12:0"
    assert (long_event.event_id, long_event.correlation_id) == (stream_id, stream_id)
    assert (short_event.event_id, short_event.correlation_id) == (
        short["id"],
        short["correlation_id"],
    )

"""Decoding Kinesis records into events, unpacking KPL aggregates.

A Kinesis record's data is base64; inside is either one event (UTF-8 JSON
object) or a KPL aggregate: the magic bytes F3 89 9A C2, a protobuf
``AggregatedRecord`` and the MD5 of that protobuf. Each user record of an
aggregate keeps its parent's sequence number and gets its position as the
sub-sequence number. An aggregate whose digest does not match is treated as
a plain record, as the KPL's own deaggregators do.

The protobuf is read here directly (three fields, varints and lengths) so
the Lambda does not import protobuf; tests check it against records made
by the aws-kinesis-agg library.
"""

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from typing import Any

MAGIC = b"\xf3\x89\x9a\xc2"
DIGEST_SIZE = 16
MAX_ID_CHARS = 256


class AggregateError(ValueError):
    """A record has the KPL magic and a good digest but a broken body."""


# Plain slotted classes: a batch builds two per user record, and frozen
# dataclasses cost several times more to construct.
@dataclass(slots=True)
class Source:
    """Where a user record came from in the stream."""

    shard_id: str
    sequence_number: str
    sub_sequence_number: int

    @property
    def stream_id(self) -> str:
        return f"{self.shard_id}:{self.sequence_number}:{self.sub_sequence_number}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "shard_id": self.shard_id,
            "sequence_number": self.sequence_number,
            "sub_sequence_number": self.sub_sequence_number,
        }


@dataclass(slots=True)
class Event:
    """A decoded event with its stable id, correlation id and JSON text."""

    source: Source
    event_id: str
    correlation_id: str
    body: dict[str, Any]
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True)
class Poison:
    """A user record that can never be routed, and why."""

    source: Source
    reason: str
    message: str
    raw: bytes


@dataclass
class Decoded:
    events: list[Event]
    poison: list[Poison]
    user_records: int


def decode_records(records: list[dict[str, Any]], max_event_bytes: int) -> Decoded:
    """Every event of a Kinesis batch, and the records that are poison."""
    events: list[Event] = []
    poison: list[Poison] = []
    user_records = 0
    for record in records:
        kinesis = record.get("kinesis") if isinstance(record, dict) else None
        shard_id = "shard"
        if isinstance(record, dict):
            shard_id = str(record.get("eventID", "")).split(":", 1)[0] or shard_id
        if not isinstance(kinesis, dict) or "sequenceNumber" not in kinesis:
            # Not what the event source mapping sends; without a sequence
            # number it cannot be retried, so it goes to the dead letters.
            user_records += 1
            raw = repr(record)[:4096].encode("utf-8", "replace")
            message = "record has no kinesis.sequenceNumber"
            poison.append(Poison(Source(shard_id, "", 0), "bad-record", message, raw))
            continue
        sequence_number = str(kinesis["sequenceNumber"])
        encoded = kinesis.get("data", "")
        try:
            if not isinstance(encoded, str | bytes):
                raise TypeError(f"data is a {type(encoded).__name__}, not base64")
            data = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError, TypeError) as exc:
            user_records += 1
            source = Source(shard_id, sequence_number, 0)
            raw = str(encoded).encode("utf-8", "replace")
            poison.append(Poison(source, "bad-base64", str(exc), raw))
            continue
        try:
            parts = unpack(data)
        except AggregateError as exc:
            user_records += 1
            source = Source(shard_id, sequence_number, 0)
            poison.append(Poison(source, "bad-aggregate", str(exc), data))
            continue
        if not parts:
            user_records += 1
            source = Source(shard_id, sequence_number, 0)
            message = "aggregated record holds no user records"
            poison.append(Poison(source, "bad-aggregate", message, data))
            continue
        for sub_sequence, part in enumerate(parts):
            user_records += 1
            source = Source(shard_id, sequence_number, sub_sequence)
            decoded = decode_event(source, part, max_event_bytes)
            (events if isinstance(decoded, Event) else poison).append(decoded)
    return Decoded(events, poison, user_records)


def decode_event(source: Source, data: bytes, max_event_bytes: int) -> Event | Poison:
    if len(data) > max_event_bytes:
        return Poison(
            source,
            "too-large",
            f"event is {len(data)} bytes, more than MAX_EVENT_BYTES={max_event_bytes}",
            data,
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Poison(source, "not-utf8", str(exc), data)
    try:
        body = _DECODER.decode(text)
    except (ValueError, RecursionError) as exc:
        # RecursionError: nested deeper than the parser's stack allows.
        return Poison(source, "not-json", str(exc) or type(exc).__name__, data)
    if not isinstance(body, dict):
        return Poison(
            source,
            "not-object",
            f"event is a JSON {type(body).__name__}, not an object",
            data,
        )
    event_id = identify(body.get("id")) or source.stream_id
    correlation_id = identify(body.get("correlation_id")) or event_id
    return Event(source, event_id, correlation_id, body, data)


def _refuse_constant(name: str) -> Any:
    """NaN and Infinity: Python reads them, JSON and EventBridge do not."""
    raise ValueError(f"{name} is not a JSON value")


# Built once: json.loads with any option builds a decoder per call.
_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)


def identify(value: Any) -> str | None:
    """A field as an id string; None when it is absent or unusable.

    Ids longer than MAX_ID_CHARS are unusable: every delivery carries the
    event and correlation ids inline, even when the event travels by
    reference, so a huge id could never fit an invoke payload.
    """
    if value is None or value == "" or isinstance(value, bool | dict | list):
        return None
    text = str(value)
    return text if len(text) <= MAX_ID_CHARS else None


def unpack(data: bytes) -> list[bytes]:
    """The user records of a KPL aggregate, or ``[data]`` for a plain record."""
    if len(data) <= len(MAGIC) + DIGEST_SIZE or not data.startswith(MAGIC):
        return [data]
    body = data[len(MAGIC) : -DIGEST_SIZE]
    if hashlib.md5(body).digest() != data[-DIGEST_SIZE:]:  # noqa: S324 - KPL format
        return [data]
    return list(_aggregated_records(body))


def _aggregated_records(body: bytes) -> list[bytes]:
    """The ``data`` of each ``records`` entry of an AggregatedRecord."""
    found = []
    for number, value in _fields(body):
        if number == 3:
            if not isinstance(value, bytes):
                raise AggregateError("aggregated record entry is not a message")
            data = [v for n, v in _fields(value) if n == 3]
            if len(data) != 1 or not isinstance(data[0], bytes):
                raise AggregateError("aggregated record entry has no data")
            found.append(data[0])
    return found


def _fields(message: bytes) -> list[tuple[int, bytes | int]]:
    fields: list[tuple[int, bytes | int]] = []
    position, end = 0, len(message)
    while position < end:
        tag, position = _varint(message, position)
        number, wire_type = tag >> 3, tag & 7
        if wire_type == 0:
            value, position = _varint(message, position)
            fields.append((number, value))
        elif wire_type == 2:
            length, position = _varint(message, position)
            if position + length > end:
                raise AggregateError("aggregated record is truncated")
            fields.append((number, message[position : position + length]))
            position += length
        elif wire_type == 1:
            position += 8
        elif wire_type == 5:
            position += 4
        else:
            raise AggregateError(f"unsupported protobuf wire type {wire_type}")
    if position != end:
        raise AggregateError("aggregated record is truncated")
    return fields


def _varint(data: bytes, position: int) -> tuple[int, int]:
    result, shift = 0, 0
    while True:
        if position >= len(data) or shift > 63:
            raise AggregateError("aggregated record has a broken varint")
        byte = data[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, position
        shift += 7

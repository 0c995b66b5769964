"""What can reach the dead-letter queue, and how each shape becomes failures.

Four shapes arrive, and each becomes one failure per event:

- a ``switchyard.failure`` document, sent by the router or a connector;
- a Lambda asynchronous-invocation record (the connector's on-failure
  destination), whose ``requestPayload`` is a delivery batch: one failure
  per delivery;
- a Kinesis event-source on-failure record, which names a shard and a
  range of sequence numbers but carries no data: the events are read back
  from the stream (``stream.py``) and become one failure each;
- anything else, stored raw as "unrecognised" so nothing is deleted unseen.

An SNS envelope around any of them is opened first. This module is pure:
no AWS calls, no clock except the fallback time a caller passes in.
"""

import base64
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from dlq_processor.checks import MESSAGE_LIMIT, checked_record
from switchyard_contracts import (
    ContractError,
    DeliveryBatch,
    FailureError,
    FailureRecord,
    Origin,
    target_id,
)

RAW_TEXT = "text"
RAW_BASE64 = "base64"
UNRECOGNISED_ERROR = "UnrecognisedMessage"
UNREAD_BATCH_ERROR = "StreamRecordsUnavailable"
# Kinesis sequence numbers: ASCII digits, at most 129 of them.
SEQUENCE_NUMBER = re.compile(r"[0-9]{1,129}")


class Shape(StrEnum):
    """The kinds of dead-letter message this processor tells apart."""

    FAILURE = "failure"
    ASYNC_INVOKE = "async-invoke"
    STREAM_BATCH = "stream-batch"
    UNRECOGNISED = "unrecognised"


@dataclass(frozen=True)
class Classified:
    """A message body with its shape and parsed JSON (or why it has none)."""

    shape: Shape
    document: Any = None
    reason: str | None = None


@dataclass(frozen=True)
class Incoming:
    """One failure to store, as understood from a dead-letter message.

    ``raw_encoding`` says how ``record.raw`` is written: ``"text"`` for a
    message body kept as it came, ``"base64"`` for bytes.
    """

    record: FailureRecord
    raw_encoding: str | None = None


@dataclass(frozen=True)
class StreamBatch:
    """The ``KinesisBatchInfo`` of an on-failure record and its context."""

    shard_id: str
    start_sequence: str
    end_sequence: str
    batch_size: int | None
    stream_arn: str | None
    first_arrival: str | None
    last_arrival: str | None
    condition: str | None
    invoke_count: int
    function_error: str | None
    function_arn: str | None
    timestamp: str | None

    @property
    def stream_name(self) -> str | None:
        """The stream's name, taken from its ARN (``...:stream/<name>``)."""
        if not self.stream_arn or ":stream/" not in self.stream_arn:
            return None
        return self.stream_arn.split(":stream/", 1)[1].split("/", 1)[0] or None


@dataclass(frozen=True)
class StreamEvent:
    """One user record read back from the stream (deaggregated if need be)."""

    shard_id: str
    sequence_number: str
    sub_sequence_number: int
    data: bytes
    partition_key: str | None = None
    aggregated: bool = False


def classify(body: str) -> Classified:
    """Tell which shape a message body has; never raises."""
    try:
        document = _STRICT_JSON.decode(body)
    except (TypeError, ValueError) as exc:
        reason = f"body is not JSON ({str(exc)[:200]})"
        return Classified(Shape.UNRECOGNISED, reason=reason)
    except RecursionError:
        reason = "body is JSON nested deeper than the parser can follow"
        return Classified(Shape.UNRECOGNISED, reason=reason)

    # An SNS topic subscribed to the queue without raw delivery wraps the
    # record in a notification envelope; the record is its Message.
    if (
        isinstance(document, Mapping)
        and document.get("Type") == "Notification"
        and isinstance(document.get("Message"), str)
    ):
        inner = classify(document["Message"])
        if inner.shape is not Shape.UNRECOGNISED:
            return inner

    if not isinstance(document, Mapping):
        return Classified(
            Shape.UNRECOGNISED, document, f"body is JSON {type(document).__name__}"
        )
    if FailureRecord.is_failure_document(document):
        return Classified(Shape.FAILURE, document)
    if isinstance(document.get("KinesisBatchInfo"), Mapping):
        return Classified(Shape.STREAM_BATCH, document)
    if isinstance(document.get("requestContext"), Mapping) and (
        "requestPayload" in document or "responseContext" in document
    ):
        return Classified(Shape.ASYNC_INVOKE, document)
    return Classified(
        Shape.UNRECOGNISED, document, "JSON object matches no dead-letter shape"
    )


def failures_from_document(document: Mapping[str, Any]) -> list[Incoming]:
    """A failure record sent by the router or a connector, as it came.

    A record that names a target but not its id gets the id the contract
    derives, so that failures for different targets never share a key.
    """
    try:
        record = FailureRecord.from_dict(document)
    except (TypeError, OverflowError) as exc:
        raise ContractError(f"failure record has a bad value: {exc}") from exc
    if record.target is not None and not isinstance(record.target, Mapping):
        raise ContractError("failure record field 'target' must be an object")
    if record.target_id is None and record.target and record.target.get("connector"):
        record = replace(record, target_id=target_id(record.target))
    return [Incoming(record, RAW_BASE64 if record.raw is not None else None)]


def failures_from_async_record(
    document: Mapping[str, Any], received_at: str
) -> list[Incoming]:
    """One failure per delivery of the batch a connector failed to process.

    Raises ContractError when the request payload is not a delivery batch
    (for example when Lambda dropped an oversized payload).
    """
    context = _mapping(document.get("requestContext"))
    payload = document.get("requestPayload")
    items = payload.get("deliveries") if isinstance(payload, Mapping) else None
    if isinstance(items, list) and not all(isinstance(d, Mapping) for d in items):
        raise ContractError("every delivery of the batch must be an object")
    batch = DeliveryBatch.from_dict(payload)
    if not batch.deliveries:
        raise ContractError("async invocation record holds a batch of no deliveries")

    error = async_error(document)
    attempts = _positive_int(context.get("approximateInvokeCount"), default=1)
    at = _text(document.get("timestamp")) or received_at
    return [
        Incoming(
            FailureRecord(
                event_id=delivery.event_id,
                error=error,
                origin=Origin.ASYNC_INVOKE,
                event=delivery.event,
                event_ref=delivery.event_ref,
                rule=delivery.rule or None,
                target=batch.target,
                target_id=batch.target_id,
                attempts=attempts,
                first_failed_at=at,
                last_failed_at=at,
                correlation_id=delivery.correlation_id,
                source=delivery.source,
            )
        )
        for delivery in batch.deliveries
    ]


def async_error(document: Mapping[str, Any]) -> FailureError:
    """The error an async invocation record reports, in a record's terms."""
    context = _mapping(document.get("requestContext"))
    response = _mapping(document.get("responseContext"))
    payload = document.get("responsePayload")
    condition = str(context.get("condition") or "Unknown")
    count = _positive_int(context.get("approximateInvokeCount"), default=1)

    error_type = condition
    message = ""
    if isinstance(payload, Mapping):
        error_type = str(payload.get("errorType") or error_type)
        message = str(payload.get("errorMessage") or "")
    elif isinstance(payload, str):
        message = payload
    if not message:
        message = f"function error {response.get('functionError') or 'unknown'}"

    summary = (
        f"{message} (async invoke {condition} after {count} attempt(s), "
        f"request {context.get('requestId') or 'unknown'})"
    )
    # A connector reports an event it can never deliver as a failure record
    # of its own and returns normally, so an error that ended an async
    # invoke (crash, timeout, throttle) is one a later try may get past.
    return FailureError(
        type=error_type, message=summary[:MESSAGE_LIMIT], retryable=True
    )


def parse_stream_batch(document: Mapping[str, Any]) -> StreamBatch:
    """Read the batch coordinates; ContractError if they are unusable."""
    info = _mapping(document.get("KinesisBatchInfo"))
    context = _mapping(document.get("requestContext"))
    response = _mapping(document.get("responseContext"))
    shard = info.get("shardId")
    start = str(info.get("startSequenceNumber") or "")
    end = str(info.get("endSequenceNumber") or start)
    numeric = SEQUENCE_NUMBER.fullmatch(start) and SEQUENCE_NUMBER.fullmatch(end)
    if not isinstance(shard, str) or not shard or not numeric:
        raise ContractError(
            "KinesisBatchInfo needs shardId and numeric startSequenceNumber and "
            f"endSequenceNumber, got shardId={shard!r:.80}, start={start!r:.140}, "
            f"end={end!r:.140}"
        )
    stream_arn = info.get("streamArn")
    if stream_arn is not None and not isinstance(stream_arn, str):
        raise ContractError("KinesisBatchInfo field 'streamArn' must be text")
    size = info.get("batchSize")
    return StreamBatch(
        shard_id=shard,
        start_sequence=start,
        end_sequence=end,
        batch_size=_positive_int(size, default=0) or None,
        stream_arn=stream_arn,
        first_arrival=_text(info.get("approximateArrivalOfFirstRecord")),
        last_arrival=_text(info.get("approximateArrivalOfLastRecord")),
        condition=_text(context.get("condition")),
        invoke_count=_positive_int(context.get("approximateInvokeCount"), default=1),
        function_error=_text(response.get("functionError")),
        function_arn=_text(context.get("functionArn")),
        timestamp=_text(document.get("timestamp")),
    )


def stream_error(batch: StreamBatch) -> FailureError:
    """The router's failure on a whole batch, as each of its events' error."""
    error_type = batch.condition or "RetryAttemptsExhausted"
    message = (
        f"the router gave up on a batch of {batch.batch_size or 'unknown'} "
        f"record(s) from {batch.shard_id} ({error_type}, function error "
        f"{batch.function_error or 'none'}, {batch.invoke_count} invocation(s))"
    )
    # The whole batch failed, maybe because of one bad event, so every
    # other event of it may well pass when tried again.
    return FailureError(type=error_type, message=message, retryable=True)


def event_id_for(event: Any, shard_id: str, sequence: str, sub_sequence: int) -> str:
    """The id the router gives an event: its ``id``, else its coordinates."""
    if isinstance(event, Mapping):
        value = event.get("id")
        if isinstance(value, str) and value:
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
    return f"{shard_id}:{sequence}:{sub_sequence}"


def failures_from_stream_events(
    batch: StreamBatch, events: list[StreamEvent], received_at: str
) -> list[Incoming]:
    """One failure per event read back from the stream.

    An event the table could not hold as JSON (an id too long to key on,
    text that is not UTF-8) is kept as its bytes under its coordinates, so
    one such event does not turn the whole batch into an unrecognised
    message.
    """
    error = stream_error(batch)
    at = batch.timestamp or received_at
    failures = []
    for item in events:
        event, raw = _decode_event(item.data)
        record = _stream_record(batch, item, event, raw, error, at)
        try:
            record = checked_record(record, received_at)
        except ContractError:
            raw = base64.b64encode(item.data).decode("ascii")
            record = _stream_record(batch, item, None, raw, error, at)
        failures.append(Incoming(record, RAW_BASE64 if raw is not None else None))
    return failures


def _stream_record(
    batch: StreamBatch,
    item: StreamEvent,
    event: dict[str, Any] | None,
    raw: str | None,
    error: FailureError,
    at: str,
) -> FailureRecord:
    event_id = event_id_for(
        event, item.shard_id, item.sequence_number, item.sub_sequence_number
    )
    return FailureRecord(
        event_id=event_id,
        error=error,
        origin=Origin.STREAM,
        event=event,
        raw=raw,
        attempts=batch.invoke_count,
        first_failed_at=at,
        last_failed_at=at,
        correlation_id=event_id,
        source={
            "shard_id": item.shard_id,
            "sequence_number": item.sequence_number,
            "sub_sequence_number": item.sub_sequence_number,
            "stream_arn": batch.stream_arn,
        },
    )


def failure_from_unread_batch(
    batch: StreamBatch, body: str, reason: str, received_at: str
) -> Incoming:
    """What is known of a batch whose events could not be read back."""
    event_id = f"{batch.shard_id}:{batch.start_sequence}-{batch.end_sequence}"
    router = stream_error(batch)
    message = (
        f"{reason}; only the batch metadata is stored, not its events. {router.message}"
    )
    at = batch.timestamp or received_at
    record = FailureRecord(
        event_id=event_id,
        error=FailureError(UNREAD_BATCH_ERROR, message[:MESSAGE_LIMIT], False),
        origin=Origin.STREAM,
        raw=body,
        attempts=batch.invoke_count,
        first_failed_at=at,
        last_failed_at=at,
        correlation_id=event_id,
        source={
            "shard_id": batch.shard_id,
            "start_sequence_number": batch.start_sequence,
            "end_sequence_number": batch.end_sequence,
            "batch_size": batch.batch_size,
            "stream_arn": batch.stream_arn,
        },
    )
    return Incoming(record, RAW_TEXT)


def unrecognised(body: str, message_id: str, reason: str, received_at: str) -> Incoming:
    """A message no shape explains, kept whole so an operator can see it.

    A body that is not valid UTF-8 text (a lone surrogate) cannot be stored
    as text, so its code points are kept in base64 instead.
    """
    event_id = f"sqs:{message_id}"
    raw, encoding = body, RAW_TEXT
    try:
        body.encode("utf-8")
    except UnicodeEncodeError:
        raw = base64.b64encode(body.encode("utf-8", "surrogatepass")).decode("ascii")
        encoding = RAW_BASE64
    reason = reason.encode("utf-8", "backslashreplace").decode("utf-8")
    record = FailureRecord(
        event_id=event_id,
        error=FailureError(UNRECOGNISED_ERROR, reason[:MESSAGE_LIMIT], False),
        origin=Origin.UNRECOGNISED,
        raw=raw,
        first_failed_at=received_at,
        last_failed_at=received_at,
        correlation_id=event_id,
    )
    return Incoming(record, encoding)


def _decode_event(data: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """The event as a JSON object, or its bytes in base64 when it is not one."""
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, ValueError):
        value = None
    if isinstance(value, dict):
        return value, None
    return None, base64.b64encode(data).decode("ascii")


def _positive_int(value: Any, default: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return default
    return number if number > 0 else default


def _mapping(value: Any) -> Mapping[str, Any]:
    """The value if it is an object, else an empty one (AWS fields are optional)."""
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str | None:
    """The value if it is non-empty text, else None."""
    return value if isinstance(value, str) and value else None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:40]} is too large for a JSON number")
    return value


# Strict JSON, as the router and the connectors read it: no NaN, no
# Infinity, no number beyond a double. Built once; json.loads with options
# builds a decoder per call.
_STRICT_JSON = json.JSONDecoder(
    parse_constant=_refuse_constant, parse_float=_finite_float
)

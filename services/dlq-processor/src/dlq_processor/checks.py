"""What a failure record must hold before it is written to the table.

Producers are other services, and the contract's parser coerces rather
than checks, so a record built from a message can carry a list where an
object belongs, a float where DynamoDB wants text, a string that is not
valid UTF-8, or a key too long for an index. Written as it is, such a
record makes DynamoDB (or the serializer before it) refuse the write every
time, and the message would bounce until it left the queue for good. This
module refuses it up front with a ContractError, so the processor keeps the
message whole as an "unrecognised" record instead; small defects that lose
nothing (an attempt count out of range, an unusable failure time, an
over-long error) are mended rather than refused.
"""

import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from switchyard_contracts import ContractError, FailureError, FailureRecord

MESSAGE_LIMIT = 2000
# error_type keys an index; keep it well inside a key's 2048 bytes.
ERROR_TYPE_LIMIT = 255
# Index keys: a range key may hold 1024 bytes, a hash key 2048.
TIME_LIMIT = 64
ID_LIMIT = 1024
MAX_ATTEMPTS = 1_000_000

_TEXT_FIELDS = ("rule", "target_id", "correlation_id", "raw")
_OBJECT_FIELDS = ("event", "target", "source")


def checked_record(record: FailureRecord, received_at: str) -> FailureRecord:
    """The record, mended where nothing is lost; ContractError if unusable."""
    if not isinstance(record.event_id, str) or not record.event_id:
        raise ContractError("failure record field 'event_id' must be non-empty text")
    if len(record.event_id.encode("utf-8", "surrogatepass")) > ID_LIMIT:
        raise ContractError(f"failure record field 'event_id' exceeds {ID_LIMIT} bytes")
    for name in _TEXT_FIELDS:
        value = getattr(record, name)
        if value is not None and not isinstance(value, str):
            raise ContractError(
                f"failure record field {name!r} must be text or null, not "
                f"{type(value).__name__}"
            )
    for name in _OBJECT_FIELDS:
        value = getattr(record, name)
        if value is not None and not isinstance(value, Mapping):
            raise ContractError(
                f"failure record field {name!r} must be an object or null, not "
                f"{type(value).__name__}"
            )
    _check_event_ref(record.event_ref)
    _check_target(record.target)

    mended = replace(
        record,
        error=_mended_error(record.error),
        attempts=_mended_attempts(record.attempts),
        first_failed_at=_mended_time(record.first_failed_at, received_at),
        last_failed_at=_mended_time(record.last_failed_at, received_at),
    )
    _check_encodable(mended)
    return mended


def _check_event_ref(ref: Any) -> None:
    if ref is None:
        return
    valid = (
        isinstance(ref, Mapping)
        and isinstance(ref.get("bucket"), str)
        and isinstance(ref.get("key"), str)
        and ref["bucket"]
        and ref["key"]
        and all(isinstance(v, str) for v in ref.values())
    )
    if not valid:
        raise ContractError(
            "failure record field 'event_ref' must be an object of text with "
            "'bucket' and 'key'"
        )


def _check_target(target: Mapping[str, Any] | None) -> None:
    if target is None:
        return
    connector = target.get("connector")
    if connector is not None and not isinstance(connector, str):
        raise ContractError("failure record field 'target.connector' must be text")


def _mended_error(error: FailureError) -> FailureError:
    return FailureError(
        type=str(error.type or "Unknown")[:ERROR_TYPE_LIMIT],
        message=str(error.message or "")[:MESSAGE_LIMIT],
        retryable=bool(error.retryable),
    )


def _mended_attempts(attempts: Any) -> int:
    if isinstance(attempts, bool) or not isinstance(attempts, int):
        return 1
    return min(max(attempts, 1), MAX_ATTEMPTS)


def _mended_time(value: Any, fallback: str) -> str:
    """An ISO 8601 time as given, or the fallback when it is not one."""
    if isinstance(value, str) and len(value) <= TIME_LIMIT:
        try:
            datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            return value
    return fallback


def _check_encodable(record: FailureRecord) -> None:
    """Every text is UTF-8 and every number finite, as JSON and DynamoDB need."""
    try:
        text = json.dumps(record.to_dict(), ensure_ascii=False, allow_nan=False)
        text.encode("utf-8")
    except (TypeError, ValueError, RecursionError) as exc:
        raise ContractError(
            f"failure record cannot be stored as JSON text: {str(exc)[:200]}"
        ) from None

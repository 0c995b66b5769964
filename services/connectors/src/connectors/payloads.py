"""Events, inline or by reference, read with their numbers exact.

An event travels inline in the batch or as an object in the payload bucket.
Text read from S3 is parsed with ``Decimal`` for fractions, so a DynamoDB
write keeps every digit, and the webhook posts the object's bytes unchanged.
Inline events were already parsed by the Lambda runtime: their fractions are
floats, turned into ``Decimal`` from their shortest text when written.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NoReturn

from connectors.aws import AWS_ERRORS, error_code, is_throttle_or_fault
from connectors.errors import EventUnavailable, InvalidEvent
from switchyard_contracts import Delivery


@dataclass(frozen=True)
class LoadedEvent:
    """An event ready to deliver: as a document and as the JSON bytes to send."""

    data: dict[str, Any]
    body: bytes


def _refuse_constant(name: str) -> NoReturn:
    raise InvalidEvent(
        f"event holds the non-JSON number {name}; send finite numbers only",
        retryable=False,
    )


def parse_event(text: bytes | str) -> dict[str, Any]:
    """Parse event JSON exactly: fractions as Decimal, NaN/Infinity refused."""
    try:
        data = json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        if isinstance(exc, InvalidEvent):
            raise
        raise InvalidEvent(f"event is not valid JSON: {exc}", retryable=False) from exc
    if not isinstance(data, dict):
        raise InvalidEvent(
            f"event must be a JSON object, not {type(data).__name__}", retryable=False
        )
    return data


def encode_event(event: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON for an inline event; NaN, Infinity and half
    surrogate pairs (text with no UTF-8 form) refused."""
    try:
        text = json.dumps(
            event, ensure_ascii=False, separators=(",", ":"), allow_nan=False
        )
        return text.encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise InvalidEvent(
            f"event cannot be written as JSON: {exc}", retryable=False
        ) from exc


class EventLoader:
    """Reads a delivery's event, from the batch or from the payload bucket."""

    def __init__(
        self,
        bucket: str | None,
        max_bytes: int,
        s3: Callable[[], Any] | None = None,
    ) -> None:
        self._bucket = bucket
        self._max_bytes = max_bytes
        self._s3 = s3

    def load(self, delivery: Delivery) -> LoadedEvent:
        if delivery.event is not None:
            if not isinstance(delivery.event, dict):
                raise InvalidEvent(
                    f"event {delivery.event_id!r} must be a JSON object, not "
                    f"{type(delivery.event).__name__}",
                    retryable=False,
                )
            return LoadedEvent(delivery.event, encode_event(delivery.event))
        body = self._fetch(delivery)
        return LoadedEvent(parse_event(body), body)

    def _fetch(self, delivery: Delivery) -> bytes:
        ref = delivery.event_ref if isinstance(delivery.event_ref, dict) else {}
        bucket, key = ref.get("bucket"), ref.get("key")
        if not (isinstance(bucket, str) and bucket and isinstance(key, str) and key):
            raise EventUnavailable(
                f"event_ref of {delivery.event_id!r} needs 'bucket' and 'key', "
                "non-empty strings",
                retryable=False,
            )
        # Reading any bucket a payload names would let whoever can invoke
        # the connector read objects through it.
        if self._bucket is None or bucket != self._bucket:
            raise EventUnavailable(
                f"event_ref bucket {bucket!r} is not the payload bucket "
                f"({self._bucket!r}); set PAYLOAD_BUCKET to the router's bucket",
                retryable=False,
            )
        if self._s3 is None:
            raise EventUnavailable("no S3 client to read event_ref", retryable=False)
        try:
            response = self._s3().get_object(Bucket=bucket, Key=key)
            size = int(response.get("ContentLength") or 0)
            if size > self._max_bytes:
                response["Body"].close()
                raise InvalidEvent(
                    f"event s3://{bucket}/{key} is {size} bytes, over the "
                    f"{self._max_bytes}-byte limit (MAX_EVENT_BYTES)",
                    retryable=False,
                )
            body = bytes(response["Body"].read(self._max_bytes + 1))
        except AWS_ERRORS as exc:
            raise EventUnavailable(
                f"GetObject s3://{bucket}/{key} failed: {error_code(exc)}: {exc}",
                retryable=is_throttle_or_fault(exc),
            ) from exc

        if len(body) > self._max_bytes:
            raise InvalidEvent(
                f"event s3://{bucket}/{key} is over the {self._max_bytes}-byte "
                "limit (MAX_EVENT_BYTES)",
                retryable=False,
            )
        return body

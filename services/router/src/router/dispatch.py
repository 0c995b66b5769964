"""Fan-out: deliveries grouped per target, packed, and sent by async invoke.

Each target gets as few ``lambda:Invoke`` calls (``InvocationType=Event``) as
the async payload limit allows, measured on the serialized payload; the
calls run in parallel. An event whose delivery alone exceeds the limit is
stored in S3 and travels by reference, so nothing is dropped for its size.

A delivery is serialized by splicing the event's original JSON text into the
contract's fields rather than re-encoding the parsed event: the bytes are
the ones that arrived, and the router avoids a second ``json.dumps`` per
event and target.
"""

import json
import logging
from collections.abc import Iterable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from router.errors import StorageError
from router.payloads import store_payload
from router.records import Event
from switchyard_contracts import (
    ConnectorRegistry,
    ContractError,
    DeliveryBatch,
    FailureError,
)

# Invoke errors a later attempt can fix; anything else fails for good.
RETRYABLE_CODES = frozenset(
    {
        "TooManyRequestsException",
        "ThrottlingException",
        "Throttling",
        "RequestLimitExceeded",
        "ServiceException",
        "ServiceUnavailableException",
        "InternalFailure",
        "ResourceNotReadyException",
        "ResourceConflictException",
        "EC2ThrottledException",
        "EC2UnexpectedException",
        "ENILimitReachedException",
        "SubnetIPAddressLimitReachedException",
    }
)


@dataclass
class Route:
    """The deliveries bound for one target."""

    target: dict[str, Any]
    target_id: str
    items: list[tuple[Event, str]] = field(default_factory=list)
    event_ids: set[str] = field(default_factory=set)

    def add(self, event: Event, rule: str) -> None:
        """Queue an event once: a producer's retry repeats its id."""
        if event.event_id not in self.event_ids:
            self.event_ids.add(event.event_id)
            self.items.append((event, rule))


# One packed delivery: the event, its rule, its S3 reference, its bytes.
Packed = tuple[Event, str, dict[str, str] | None, bytes]


@dataclass(frozen=True)
class Undelivered:
    """Deliveries that failed for good, with the error."""

    event: Event
    rule: str
    route: Route
    error: FailureError
    event_ref: dict[str, str] | None = None


@dataclass
class DispatchResult:
    deliveries: int = 0
    invoke_calls: int = 0
    by_reference: int = 0
    retry: list[Event] = field(default_factory=list)
    failed: list[Undelivered] = field(default_factory=list)


def delivery_bytes(
    event: Event, rule: str, event_ref: dict[str, str] | None = None
) -> bytes:
    """One ``Delivery`` in its wire form, the event's own bytes spliced in."""
    head = (
        f'{{"event_id":{json.dumps(event.event_id)},"rule":{json.dumps(rule)},"correlation_id":{json.dumps(event.correlation_id)},"event":'
    ).encode()
    tail = ',"event_ref":{},"source":{},"redrive":null}}'.format(
        json.dumps(event_ref) if event_ref else "null",
        json.dumps(event.source.to_dict(), separators=(",", ":")),
    )
    body = b"null" if event_ref else event.data
    return head + body + tail.encode()


def envelope(target: dict[str, Any]) -> tuple[bytes, bytes]:
    """The batch document around its deliveries: (opening, closing) bytes."""
    empty = json.dumps(DeliveryBatch(target=target).to_dict(), separators=(",", ":"))
    if not empty.endswith("[]}"):  # pragma: no cover - contract shape changed
        raise ContractError("a delivery batch must end with its deliveries")
    return empty[:-2].encode(), b"]}"


def is_retryable(exc: Exception) -> bool:
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return code in RETRYABLE_CODES or status >= 500 or status == 429
    return isinstance(exc, BotoCoreError | StorageError)


class Dispatcher:
    """Packs and sends the deliveries of one batch."""

    def __init__(
        self,
        lambda_client: Any,
        s3_client: Any,
        connectors: ConnectorRegistry,
        payload_bucket: str,
        payload_limit: int,
        executor: Executor,
        logger: logging.Logger | Any,
    ) -> None:
        self.lambda_client = lambda_client
        self.s3_client = s3_client
        self.connectors = connectors
        self.payload_bucket = payload_bucket
        self.payload_limit = payload_limit
        self.executor = executor
        self.logger = logger

    def dispatch(self, routes: Iterable[Route]) -> DispatchResult:
        result = DispatchResult()
        references: dict[str, dict[str, str]] = {}
        calls = []
        for route in routes:
            result.deliveries += len(route.items)
            try:
                function = self.connectors.function_for(route.target["connector"])
            except ContractError as exc:
                error = FailureError("UnknownConnector", str(exc), retryable=False)
                result.failed.extend(
                    Undelivered(event, rule, route, error)
                    for event, rule in route.items
                )
                continue
            for chunk in self._pack(route, references, result):
                calls.append((route, chunk, self._submit(function, route, chunk)))

        for route, chunk, future in calls:
            result.invoke_calls += 1
            exc = future.exception()
            if exc is None:
                continue
            if is_retryable(exc):
                self.logger.warning(
                    "Invoke %s failed and will be retried: %s",
                    route.target["connector"],
                    exc,
                )
                result.retry.extend(packed[0] for packed in chunk)
                continue
            error = FailureError.from_exception(exc, retryable=False)
            if isinstance(exc, ClientError):
                code = exc.response.get("Error", {}).get("Code") or error.type
                error = FailureError(str(code), str(exc)[:2000], retryable=False)
            self.logger.error(
                "Invoke %s failed for good: %s", route.target["connector"], exc
            )
            result.failed.extend(
                Undelivered(event, rule, route, error, ref)
                for event, rule, ref, _ in chunk
            )
        return result

    def _pack(
        self,
        route: Route,
        references: dict[str, dict[str, str]],
        result: DispatchResult,
    ) -> list[list[Packed]]:
        """Split a route's deliveries into payloads within the limit."""
        opening, closing = envelope(route.target)
        overhead = len(opening) + len(closing)
        chunks: list[list[Packed]] = []
        chunk: list[Packed] = []
        size = overhead
        for event, rule in route.items:
            ref = None
            item = delivery_bytes(event, rule)
            if overhead + len(item) > self.payload_limit:
                try:
                    ref = self._reference(event, references)
                except StorageError as exc:
                    self.logger.warning("%s; the record will be retried", exc)
                    result.retry.append(event)
                    continue
                result.by_reference += 1
                item = delivery_bytes(event, rule, ref)
            separator = 1 if chunk else 0
            if chunk and size + separator + len(item) > self.payload_limit:
                chunks.append(chunk)
                chunk, size, separator = [], overhead, 0
            chunk.append((event, rule, ref, item))
            size += separator + len(item)
        if chunk:
            chunks.append(chunk)
        return chunks

    def _reference(
        self, event: Event, references: dict[str, dict[str, str]]
    ) -> dict[str, str]:
        if event.event_id not in references:
            references[event.event_id] = store_payload(
                self.s3_client, self.payload_bucket, event.event_id, event.data
            )
        return references[event.event_id]

    def _submit(
        self,
        function: str,
        route: Route,
        chunk: list[Packed],
    ) -> Any:
        opening, closing = envelope(route.target)
        payload = opening + b",".join(packed[3] for packed in chunk) + closing
        return self.executor.submit(
            self.lambda_client.invoke,
            FunctionName=function,
            InvocationType="Event",
            Payload=payload,
        )

"""One Kinesis batch, end to end: decode, match, deliver, account.

The result says which records must be retried. Lambda resumes a Kinesis
batch from the lowest sequence number listed, so only failures a retry can
fix are listed (throttling, 5xx, a failed S3 or SQS write); everything that
can never succeed becomes a failure record on the dead-letter queue instead.
Records after the lowest listed one are delivered again on retry, and
connectors deduplicate them on the event id.
"""

import base64
import gc
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from router.deadletters import send_failures
from router.dispatch import Dispatcher, Route, Undelivered
from router.errors import StorageError
from router.payloads import store_payload
from router.records import Event, Poison, Source, decode_records
from router.rules_source import RulesSource
from switchyard_contracts import FailureError, FailureRecord, Origin

# Failure records above this size carry their event by reference, to stay
# under the SQS message limit with room for the record's other fields.
INLINE_FAILURE_LIMIT_BYTES = 192 * 1024


@dataclass
class BatchReport:
    """What one batch did: the figures of its log line, and what to retry."""

    records: int = 0
    user_records: int = 0
    matched: int = 0
    unrouted: int = 0
    poison: int = 0
    deliveries: int = 0
    invoke_calls: int = 0
    by_reference: int = 0
    failures: int = 0
    retried: int = 0
    rules_version: str | None = None
    duration_ms: float = 0.0
    retry_sequence_numbers: list[str] = field(default_factory=list)

    def batch_item_failures(self) -> list[dict[str, str]]:
        return [{"itemIdentifier": n} for n in self.retry_sequence_numbers]

    def log_fields(self) -> dict[str, Any]:
        fields = dict(self.__dict__)
        fields.pop("retry_sequence_numbers")
        fields["duration_ms"] = round(self.duration_ms, 2)
        return fields


class Router:
    """Routes Kinesis batches with the current rules."""

    def __init__(
        self,
        rules: RulesSource,
        dispatcher: Dispatcher,
        sqs_client: Any,
        s3_client: Any,
        dead_letter_queue_url: str,
        payload_bucket: str,
        max_event_bytes: int,
        logger: logging.Logger | Any,
    ) -> None:
        self.rules = rules
        self.dispatcher = dispatcher
        self.sqs_client = sqs_client
        self.s3_client = s3_client
        self.dead_letter_queue_url = dead_letter_queue_url
        self.payload_bucket = payload_bucket
        self.max_event_bytes = max_event_bytes
        self.logger = logger

    def process(self, records: list[dict[str, Any]]) -> BatchReport:
        # A batch keeps up to 10,000 decoded events alive at once, and the
        # cyclic collector would scan them again and again while they are
        # built; they hold no cycles, so reference counting frees them and
        # the collector runs once the batch is done.
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._process(records)
        finally:
            if collecting:
                gc.enable()

    def _process(self, records: list[dict[str, Any]]) -> BatchReport:
        started = time.perf_counter()
        report = BatchReport(records=len(records))
        decoded = decode_records(records, self.max_event_bytes)
        report.user_records = decoded.user_records
        report.poison = len(decoded.poison)

        rules = self.rules.current()
        report.rules_version = rules.version if rules else None
        routes: dict[str, Route] = {}
        for event in decoded.events:
            # A failure here would fail every batch of the shard, forever:
            # the event goes to the dead-letter queue instead.
            try:
                found = rules.routes_for(event.body) if rules else []
            except Exception as exc:
                decoded.poison.append(self._unmatchable(event, exc))
                report.poison += 1
                continue
            if not found:
                report.unrouted += 1
                continue
            report.matched += 1
            for rule, target, identity in found:
                route = routes.get(identity)
                if route is None:
                    route = routes[identity] = Route(target, identity)
                route.add(event, rule)

        result = self.dispatcher.dispatch(routes.values())
        report.deliveries = result.deliveries
        report.invoke_calls = result.invoke_calls
        report.by_reference = result.by_reference
        retry: list[Source] = [event.source for event in result.retry]

        failures: list[tuple[Source, FailureRecord]] = []
        for poison in decoded.poison:
            self._add(failures, retry, poison.source, self._poison_failure, poison)
        for undelivered in result.failed:
            source = undelivered.event.source
            self._add(failures, retry, source, self._delivery_failure, undelivered)
        if failures:
            unsent = send_failures(
                self.sqs_client,
                self.dead_letter_queue_url,
                [record for _, record in failures],
                self.logger,
            )
            retry.extend(failures[position][0] for position in unsent)
            report.failures = len(failures) - len(unsent)

        report.retry_sequence_numbers = _lowest_first(s.sequence_number for s in retry)
        report.retried = len(report.retry_sequence_numbers)
        report.duration_ms = (time.perf_counter() - started) * 1000
        return report

    def _unmatchable(self, event: Event, exc: Exception) -> Poison:
        """An event the matcher failed on: a failure record, not a retry."""
        if isinstance(exc, RecursionError):
            reason = "too-deep"
            message = "event is nested too deeply to match"
        else:
            reason = "match-error"
            message = f"matching failed: {type(exc).__name__}: {exc}"[:2000]
            self.logger.error(
                "matching event %s failed; it goes to the dead-letter queue",
                event.event_id,
                exc_info=exc,
            )
        return Poison(event.source, reason, message, event.data)

    def _add(
        self,
        failures: list[tuple[Source, FailureRecord]],
        retry: list[Source],
        source: Source,
        build: Callable[[Any], FailureRecord],
        item: Any,
    ) -> None:
        """Add a failure record; a failed S3 write makes the record retry."""
        try:
            failures.append((source, build(item)))
        except StorageError as exc:
            self.logger.warning("%s; the record will be retried", exc)
            retry.append(source)

    def _poison_failure(self, poison: Poison) -> FailureRecord:
        event_id = poison.source.stream_id
        raw: str | None = base64.b64encode(poison.raw).decode("ascii")
        event_ref = None
        if len(raw) > INLINE_FAILURE_LIMIT_BYTES:
            event_ref = store_payload(
                self.s3_client, self.payload_bucket, event_id, poison.raw, "raw"
            )
            raw = None
        return FailureRecord(
            event_id=event_id,
            error=FailureError(poison.reason, poison.message, retryable=False),
            origin=Origin.ROUTER,
            raw=raw,
            event_ref=event_ref,
            correlation_id=event_id,
            source=poison.source.to_dict(),
        )

    def _delivery_failure(self, undelivered: Undelivered) -> FailureRecord:
        event: Event = undelivered.event
        record = self._failure_record(undelivered, undelivered.event_ref)
        # Measured on the message itself: escaping can make it larger than
        # the event's own bytes. An event nested near the parser's limit may
        # not serialize at all here; it travels by reference too.
        inline = record.event is not None
        if inline:
            try:
                size = len(record.to_message().encode("utf-8"))
                inline = size <= INLINE_FAILURE_LIMIT_BYTES
            except RecursionError:
                inline = False
        if record.event is not None and not inline:
            ref = store_payload(
                self.s3_client, self.payload_bucket, event.event_id, event.data
            )
            record = self._failure_record(undelivered, ref)
        return record

    @staticmethod
    def _failure_record(
        undelivered: Undelivered, event_ref: dict[str, str] | None
    ) -> FailureRecord:
        event = undelivered.event
        return FailureRecord(
            event_id=event.event_id,
            error=undelivered.error,
            origin=Origin.ROUTER,
            event=None if event_ref else event.body,
            event_ref=event_ref,
            rule=undelivered.rule,
            target=undelivered.route.target,
            target_id=undelivered.route.target_id,
            correlation_id=event.correlation_id,
            source=event.source.to_dict(),
        )


def _lowest_first(values: Any) -> list[str]:
    """Distinct sequence numbers, lowest first (Lambda resumes there).

    Kinesis sequence numbers are decimal strings of varying length, so they
    sort by value; anything else sorts first, as a string.
    """
    unique = dict.fromkeys(values)
    return sorted(unique, key=lambda n: (1, len(n), n) if n.isdigit() else (0, 0, n))

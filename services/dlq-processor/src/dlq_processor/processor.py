"""From one dead-letter message to stored failure records and alarms.

Understanding a message never fails: a shape that does not parse, or a
record the table could never hold, becomes an "unrecognised" record that
keeps the body whole. Storing can fail for a while (throttling, a missing
table or bucket), and then the error propagates so the handler reports the
message as a batch item failure and SQS keeps it. Records already written
for that message are not written twice when it comes back, because the
store deduplicates on the SQS message id.
"""

import logging
from dataclasses import dataclass, field, replace
from typing import Any

from dlq_processor.alarm import BurstAlarm
from dlq_processor.checks import checked_record
from dlq_processor.errors import AlarmError, DlqError, StorageRejected
from dlq_processor.items import target_name
from dlq_processor.shapes import (
    Incoming,
    Shape,
    async_error,
    classify,
    failure_from_unread_batch,
    failures_from_async_record,
    failures_from_document,
    failures_from_stream_events,
    parse_stream_batch,
    unrecognised,
)
from dlq_processor.store import FailureStore, WriteOutcome
from dlq_processor.stream import StreamReader
from switchyard_contracts import ContractError
from switchyard_contracts.failures import utc_now

logger = logging.getLogger(__name__)


@dataclass
class MessageResult:
    """What one message became."""

    shape: Shape
    outcomes: dict[str, WriteOutcome] = field(default_factory=dict)
    alarms: int = 0
    # (target name, error type) pairs whose alarm this message already
    # tried: a batch of 500 failures claims (or fails to publish) once.
    alarm_tried: set[tuple[str, str]] = field(default_factory=set)

    def count(self, outcome: WriteOutcome) -> int:
        return sum(1 for o in self.outcomes.values() if o is outcome)


class DeadLetterProcessor:
    """Turns dead-letter messages into failure records."""

    def __init__(
        self,
        store: FailureStore,
        stream_reader: StreamReader | None = None,
        alarm: BurstAlarm | None = None,
    ) -> None:
        self.store = store
        self.stream_reader = stream_reader
        self.alarm = alarm

    def process(
        self, message_id: str, body: str, received_at: str | None = None
    ) -> MessageResult:
        """Store one record per event the message names; alarm on new ones."""
        received_at = received_at or utc_now()
        shape, failures = self.understand(message_id, body, received_at)
        result = MessageResult(shape=shape)

        kept_raw = False
        for incoming in failures:
            try:
                self._store(incoming, message_id, result)
            except StorageRejected as exc:
                if shape is Shape.UNRECOGNISED:
                    raise
                # The table will never take this record as it is (too large,
                # a history grown past the item limit); keep the message
                # whole, once, instead of bouncing it until SQS gives up on
                # it, and go on with the message's other events.
                logger.warning("dead-letter message %s kept raw: %s", message_id, exc)
                if not kept_raw:
                    reason = (
                        f"a {shape} message whose failure record for event "
                        f"{incoming.record.event_id} the table refused: {exc}"
                    )
                    fallback = unrecognised(body, message_id, reason, received_at)
                    self._store(fallback, message_id, result)
                    kept_raw = True

        logger.info(
            "dead-letter message %s (%s): %d created, %d updated, %d duplicate",
            message_id,
            shape,
            result.count(WriteOutcome.CREATED),
            result.count(WriteOutcome.UPDATED),
            result.count(WriteOutcome.DUPLICATE),
        )
        return result

    def _store(
        self, incoming: Incoming, message_id: str, result: MessageResult
    ) -> None:
        """Write one failure and alarm when it is news."""
        record = incoming.record
        outcome = self.store.record_failure(incoming, message_id)
        # An event named twice in one message is one record; keep what its
        # first write did rather than report the second as a duplicate.
        result.outcomes.setdefault(record.record_id, outcome)
        if outcome is not WriteOutcome.DUPLICATE:
            logger.info(
                "failure %s of event %s %s",
                record.record_id,
                record.event_id,
                outcome,
                extra={
                    "correlation_id": record.correlation_id,
                    "record_id": record.record_id,
                    "origin": str(record.origin),
                    "error_type": record.error.type,
                },
            )
            if self._alarm(incoming, result.alarm_tried):
                result.alarms += 1

    def understand(
        self, message_id: str, body: str, received_at: str
    ) -> tuple[Shape, list[Incoming]]:
        """The failures a message holds; unparseable ones become unrecognised."""
        classified = classify(body)
        shape = classified.shape
        try:
            if shape is Shape.FAILURE:
                failures = failures_from_document(classified.document)
            elif shape is Shape.ASYNC_INVOKE:
                failures = failures_from_async_record(classified.document, received_at)
            elif shape is Shape.STREAM_BATCH:
                failures = self._stream_failures(classified.document, body, received_at)
            else:
                reason = classified.reason or "message matches no known shape"
                return shape, [unrecognised(body, message_id, reason, received_at)]
            failures = [
                replace(each, record=checked_record(each.record, received_at))
                for each in failures
            ]
        except DlqError:
            # A stream read that may work later: leave the message queued.
            raise
        except Exception as exc:
            # Producers are other services: any value of any type can be in
            # any field. Whatever the parsers trip on, keep the body whole.
            detail = (str(exc) if isinstance(exc, ContractError) else repr(exc))[:300]
            logger.warning(
                "dead-letter message %s looked like %s but is not: %s",
                message_id,
                shape,
                detail,
            )
            reason = f"looks like a {shape} message but is not: {detail}"
            if shape is Shape.ASYNC_INVOKE:
                error = async_error(classified.document)
                reason = (
                    "async invocation record whose request payload is not a "
                    f"delivery batch ({detail}); the function reported "
                    f"{error.type}: {error.message}"
                )
            return Shape.UNRECOGNISED, [
                unrecognised(body, message_id, reason, received_at)
            ]
        if not failures:
            reason = f"{shape} message names no event"
            return Shape.UNRECOGNISED, [
                unrecognised(body, message_id, reason, received_at)
            ]
        return shape, failures

    def _stream_failures(
        self, document: dict[str, Any], body: str, received_at: str
    ) -> list[Incoming]:
        batch = parse_stream_batch(document)
        if self.stream_reader is None:
            reason = "no stream reader is configured"
            return [failure_from_unread_batch(batch, body, reason, received_at)]
        read = self.stream_reader.read(batch)
        if not read.events:
            reason = read.missing_reason or "the stream returned no records"
            logger.warning("failed batch not read back: %s", reason)
            return [failure_from_unread_batch(batch, body, reason, received_at)]
        return failures_from_stream_events(batch, read.events, received_at)

    def _alarm(self, incoming: Incoming, tried: set[tuple[str, str]]) -> bool:
        if self.alarm is None:
            return False
        record = incoming.record
        name = target_name(record.target, str(record.origin))
        if (name, record.error.type) in tried:
            return False
        tried.add((name, record.error.type))
        try:
            return self.alarm.notify(
                name,
                record.error.type,
                {
                    "record_id": record.record_id,
                    "origin": str(record.origin),
                    "error_message": record.error.message,
                },
            )
        except AlarmError:
            # The record is stored; failing the message now would only
            # store it again as a duplicate. Lose the alarm, say so.
            logger.exception("alarm for %s / %s was not sent", name, record.error.type)
            return False

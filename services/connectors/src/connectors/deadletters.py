"""Failure records to the dead-letter queue, sent by the connector itself.

A record too large for one SQS message (an inline event near the 1 MiB
async limit) carries its event by reference instead: the event is written
to the payload bucket at ``payloads/<event id>.json``, the key the router
uses, and the record names it in ``event_ref``.

``send_many`` sends up to ten records per SendMessageBatch call, for the
records of deliveries that were never attempted (out of time, or a target
refused outright): the time kept back at the end of an invocation then
covers a large batch.
"""

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from connectors.aws import AWS_ERRORS, error_code
from connectors.errors import DeadLetterError
from switchyard_contracts import FailureRecord

# SendMessageBatch takes at most ten messages.
BATCH_SIZE = 10


class DeadLetterQueue:
    """Sends failure records; any failure to send raises DeadLetterError."""

    def __init__(
        self,
        queue_url: str | None,
        sqs: Callable[[], Any],
        s3: Callable[[], Any] | None = None,
        payload_bucket: str | None = None,
        limit_bytes: int = 256 * 1024,
    ) -> None:
        self.queue_url = queue_url
        self._sqs = sqs
        self._s3 = s3
        self._bucket = payload_bucket
        self.limit_bytes = limit_bytes

    def send(self, record: FailureRecord) -> None:
        body = self._body(record)
        try:
            self._sqs().send_message(QueueUrl=self.queue_url, MessageBody=body)
        except AWS_ERRORS as exc:
            raise DeadLetterError(
                f"SendMessage of the failure record for {record.event_id!r} to "
                f"{self.queue_url} failed: {error_code(exc)}: {exc}"
            ) from exc

    def send_many(self, records: list[FailureRecord]) -> None:
        """Send records ten (and at most ``limit_bytes``) to a call."""
        group: list[tuple[FailureRecord, str]] = []
        size = 0
        for record in records:
            body = self._body(record)
            length = len(body.encode())
            if group and (len(group) == BATCH_SIZE or size + length > self.limit_bytes):
                self._send_batch(group)
                group, size = [], 0
            group.append((record, body))
            size += length
        if group:
            self._send_batch(group)

    def _send_batch(self, group: list[tuple[FailureRecord, str]]) -> None:
        entries = [
            {"Id": str(index), "MessageBody": body}
            for index, (_, body) in enumerate(group)
        ]
        names = ", ".join(repr(record.event_id) for record, _ in group)
        try:
            response = self._sqs().send_message_batch(
                QueueUrl=self.queue_url, Entries=entries
            )
        except AWS_ERRORS as exc:
            raise DeadLetterError(
                f"SendMessageBatch of the failure records for {names} to "
                f"{self.queue_url} failed: {error_code(exc)}: {exc}"
            ) from exc
        failed = response.get("Failed") or []
        if failed:
            lost = [group[int(f["Id"])][0].event_id for f in failed]
            raise DeadLetterError(
                f"SendMessageBatch to {self.queue_url} refused the failure "
                f"records for {lost}: {failed[0].get('Code')}: "
                f"{failed[0].get('Message')}"
            )

    def _body(self, record: FailureRecord) -> str:
        """The message for a record, its event by reference if too large."""
        if not self.queue_url:
            raise DeadLetterError(
                "DEAD_LETTER_QUEUE_URL is not set: a failure record for "
                f"{record.event_id!r} cannot be kept"
            )
        body = record.to_message()
        if len(body.encode()) > self.limit_bytes:
            body = self._by_reference(record).to_message()
        if len(body.encode()) > self.limit_bytes:
            raise DeadLetterError(
                f"failure record for {record.event_id!r} is {len(body.encode())} "
                f"bytes, over the {self.limit_bytes}-byte message limit"
            )
        return body

    def _by_reference(self, record: FailureRecord) -> FailureRecord:
        if record.event is None or not self._bucket or self._s3 is None:
            return record
        key = f"payloads/{record.event_id}.json"
        try:
            body = json.dumps(record.event, separators=(",", ":"), ensure_ascii=False)
            data = body.encode()
        except UnicodeEncodeError:
            # Half a surrogate pair has no UTF-8 form; JSON escapes keep it.
            data = json.dumps(record.event, separators=(",", ":")).encode()
        try:
            self._s3().put_object(
                Bucket=self._bucket,
                Key=key,
                Body=data,
                ContentType="application/json",
            )
        except AWS_ERRORS as exc:
            raise DeadLetterError(
                f"PutObject s3://{self._bucket}/{key} for a large failure record "
                f"failed: {error_code(exc)}: {exc}"
            ) from exc
        return replace(
            record, event=None, event_ref={"bucket": self._bucket, "key": key}
        )

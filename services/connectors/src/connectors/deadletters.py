"""Failure records to the dead-letter queue, sent by the connector itself.

A record too large for one SQS message (an inline event near the 1 MiB
async limit) carries its event by reference instead: the event is written
to the payload bucket at ``payloads/<event id>.json``, the key the router
uses, and the record names it in ``event_ref``.
"""

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from connectors.aws import AWS_ERRORS, error_code
from connectors.errors import DeadLetterError
from switchyard_contracts import FailureRecord


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
        try:
            self._sqs().send_message(QueueUrl=self.queue_url, MessageBody=body)
        except AWS_ERRORS as exc:
            raise DeadLetterError(
                f"SendMessage of the failure record for {record.event_id!r} to "
                f"{self.queue_url} failed: {error_code(exc)}: {exc}"
            ) from exc

    def _by_reference(self, record: FailureRecord) -> FailureRecord:
        if record.event is None or not self._bucket or self._s3 is None:
            return record
        key = f"payloads/{record.event_id}.json"
        body = json.dumps(record.event, separators=(",", ":"), ensure_ascii=False)
        try:
            self._s3().put_object(
                Bucket=self._bucket,
                Key=key,
                Body=body.encode(),
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

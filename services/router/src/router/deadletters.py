"""Sending failure records to the dead-letter queue, ten per request."""

import logging
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from router.config import DEAD_LETTER_MESSAGE_LIMIT_BYTES
from router.errors import DeadLetterError
from switchyard_contracts import FailureRecord

BATCH_SIZE = 10


def send_failures(
    client: Any,
    queue_url: str,
    records: list[FailureRecord],
    logger: logging.Logger | Any,
) -> list[int]:
    """Send every record; return the positions of those that were not sent."""
    unsent: list[int] = []
    bodies = [record.to_message() for record in records]
    batch: list[int] = []
    size = 0
    for position, body in enumerate(bodies):
        length = len(body.encode("utf-8"))
        if batch and (
            len(batch) == BATCH_SIZE or size + length > DEAD_LETTER_MESSAGE_LIMIT_BYTES
        ):
            unsent.extend(_send(client, queue_url, bodies, batch, logger))
            batch, size = [], 0
        batch.append(position)
        size += length
    if batch:
        unsent.extend(_send(client, queue_url, bodies, batch, logger))
    return unsent


def _send(
    client: Any,
    queue_url: str,
    bodies: list[str],
    batch: list[int],
    logger: logging.Logger | Any,
) -> list[int]:
    entries = [{"Id": str(p), "MessageBody": bodies[p]} for p in batch]
    try:
        response = client.send_message_batch(QueueUrl=queue_url, Entries=entries)
    except (ClientError, BotoCoreError) as exc:
        logger.error(
            "%s",
            DeadLetterError(f"SendMessageBatch to {queue_url} failed: {exc}"),
        )
        return list(batch)
    failed = response.get("Failed") or []
    for entry in failed:
        logger.error(
            "SendMessageBatch to %s refused a failure record: %s %s",
            queue_url,
            entry.get("Code"),
            entry.get("Message"),
        )
    return [int(entry["Id"]) for entry in failed]

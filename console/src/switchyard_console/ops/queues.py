"""Queue depths, and the second-level queue's raw messages.

The unprocessable queue holds what the dead-letter processor could not
store. Its messages are shown as they are (peeked with a zero visibility
timeout, so looking never hides them from anyone) and can be moved back to
the dead-letter queue: sent there with their body and attributes, then
deleted here. SQS's own StartMessageMoveTask refuses queues fed by Lambda,
so the console moves them itself.
"""

import logging
from dataclasses import dataclass
from typing import Any

from switchyard_console.ops import aws
from switchyard_console.ops.errors import AwsError, NotConfiguredError

logger = logging.getLogger(__name__)

DEPTH_ATTRIBUTES = [
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
]


@dataclass(frozen=True)
class QueueDepth:
    url: str
    visible: int
    in_flight: int
    delayed: int

    @property
    def name(self) -> str:
        return self.url.rstrip("/").rsplit("/", 1)[-1]


@dataclass(frozen=True)
class RawMessage:
    message_id: str
    body: str
    attributes: dict[str, str]
    message_attributes: dict[str, Any]

    @property
    def receive_count(self) -> int:
        return int(self.attributes.get("ApproximateReceiveCount", "0"))

    @property
    def sent_at(self) -> str:
        return self.attributes.get("SentTimestamp", "")


@dataclass(frozen=True)
class MoveResult:
    """What a move did; ``error`` says why it stopped early, if it did."""

    moved: list[str]
    not_found: list[str]
    error: str = ""


def depth(url: str, client: Any | None = None) -> QueueDepth:
    sqs = client or aws.client("sqs")
    with aws.calling("GetQueueAttributes", url):
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=DEPTH_ATTRIBUTES)
    values = attrs.get("Attributes", {})
    return QueueDepth(
        url=url,
        visible=int(values.get("ApproximateNumberOfMessages", 0)),
        in_flight=int(values.get("ApproximateNumberOfMessagesNotVisible", 0)),
        delayed=int(values.get("ApproximateNumberOfMessagesDelayed", 0)),
    )


def _receive(sqs: Any, url: str, visibility: int) -> list[dict[str, Any]]:
    with aws.calling("ReceiveMessage", url):
        response = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=visibility,
            WaitTimeSeconds=0,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
    return response.get("Messages", [])


def peek(
    url: str, *, limit: int = 50, rounds: int = 10, client: Any | None = None
) -> list[RawMessage]:
    """Up to ``limit`` distinct messages, left visible for everyone else."""
    if not url:
        raise NotConfiguredError("UNPROCESSABLE_QUEUE_URL", "read the queue")
    sqs = client or aws.client("sqs")
    seen: dict[str, RawMessage] = {}
    for _ in range(rounds):
        batch = _receive(sqs, url, visibility=0)
        fresh = [m for m in batch if m["MessageId"] not in seen]
        for message in fresh:
            seen[message["MessageId"]] = RawMessage(
                message_id=message["MessageId"],
                body=message.get("Body", ""),
                attributes=message.get("Attributes", {}),
                message_attributes=message.get("MessageAttributes", {}),
            )
        if not fresh or len(seen) >= limit:
            break
    return list(seen.values())[:limit]


def _sendable(attributes: dict[str, Any]) -> dict[str, Any]:
    """Message attributes as SendMessage takes them (no list members)."""
    kept = {}
    for name, value in attributes.items():
        entry = {"DataType": value["DataType"]}
        if "StringValue" in value:
            entry["StringValue"] = value["StringValue"]
        if "BinaryValue" in value:
            entry["BinaryValue"] = value["BinaryValue"]
        kept[name] = entry
    return kept


def move(
    source_url: str,
    destination_url: str,
    message_ids: set[str] | None,
    *,
    rounds: int = 20,
    client: Any | None = None,
) -> MoveResult:
    """Move the named messages (every message when None) to another queue.

    Each moved message is sent first and deleted after, so a failure between
    the two leaves a copy in both queues rather than none: the dead-letter
    processor stores records idempotently.
    """
    if not source_url:
        raise NotConfiguredError("UNPROCESSABLE_QUEUE_URL", "move its messages")
    if not destination_url:
        raise NotConfiguredError("DEAD_LETTER_QUEUE_URL", "move messages to it")
    sqs = client or aws.client("sqs")
    wanted = set(message_ids) if message_ids is not None else None
    moved: list[str] = []
    try:
        _move_rounds(sqs, source_url, destination_url, wanted, moved, rounds)
    except AwsError as exc:
        # What was moved before the failure stays moved and is reported, so
        # the caller can audit it; the rest stays where it was.
        logger.warning("moving messages stopped after %d: %s", len(moved), exc.code)
        return MoveResult(moved=moved, not_found=[], error=str(exc))

    logger.info("moved %d messages back to the dead-letter queue", len(moved))
    missing = sorted(wanted - set(moved)) if wanted is not None else []
    return MoveResult(moved=moved, not_found=missing)


def _move_rounds(
    sqs: Any,
    source_url: str,
    destination_url: str,
    wanted: set[str] | None,
    moved: list[str],
    rounds: int,
) -> None:
    """Receive, send and delete until every wanted message moved; fills ``moved``."""
    for _ in range(rounds):
        batch = _receive(sqs, source_url, visibility=30)
        if not batch:
            return
        for message in batch:
            if wanted is not None and message["MessageId"] not in wanted:
                with aws.calling("ChangeMessageVisibility", source_url):
                    sqs.change_message_visibility(
                        QueueUrl=source_url,
                        ReceiptHandle=message["ReceiptHandle"],
                        VisibilityTimeout=0,
                    )
                continue
            params: dict[str, Any] = {
                "QueueUrl": destination_url,
                "MessageBody": message["Body"],
            }
            if message.get("MessageAttributes"):
                params["MessageAttributes"] = _sendable(message["MessageAttributes"])
            with aws.calling("SendMessage", destination_url):
                sqs.send_message(**params)
            with aws.calling("DeleteMessage", source_url):
                sqs.delete_message(
                    QueueUrl=source_url, ReceiptHandle=message["ReceiptHandle"]
                )
            moved.append(message["MessageId"])
        if wanted is not None and wanted.issubset(moved):
            return

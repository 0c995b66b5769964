"""An SQS event source mapping, run here instead of in moto.

Receives up to ``BatchSize`` messages (gathering across receives for up to
``MaximumBatchingWindowInSeconds``), invokes the function synchronously with
AWS's SQS event, and deletes what succeeded: the whole batch on success;
with ``ReportBatchItemFailures`` every message except those reported (an
unknown identifier keeps the whole batch); nothing when the function fails.
Messages not deleted come back after the queue's visibility timeout, and the
queue's own redrive policy moves them on after ``maxReceiveCount``.
"""

import json
import logging
import threading
import time
from typing import Any

from botocore.exceptions import ClientError

from switchyard_local.errors import LocalRuntimeError
from switchyard_local.moto_server import REGION, local_client
from switchyard_local.runner import FunctionRunner, InvokeResult
from switchyard_local.templates import EventSourceMappingSpec

logger = logging.getLogger(__name__)


def _message_attributes(message: dict[str, Any]) -> dict[str, Any]:
    import base64

    attributes = {}
    for name, value in (message.get("MessageAttributes") or {}).items():
        binary = value.get("BinaryValue")
        attributes[name] = {
            "stringValue": value.get("StringValue"),
            "binaryValue": base64.b64encode(binary).decode() if binary else None,
            "stringListValues": value.get("StringListValues", []),
            "binaryListValues": value.get("BinaryListValues", []),
            "dataType": value["DataType"],
        }
    return attributes


class SqsPoller:
    """Polls one queue for one function."""

    def __init__(
        self,
        mapping: EventSourceMappingSpec,
        runner: FunctionRunner,
        moto_url: str,
        wait_seconds: int = 1,
    ) -> None:
        props = mapping.properties
        self.mapping = mapping
        self.runner = runner
        self.queue_arn = mapping.event_source_arn
        self.batch_size = int(props.get("BatchSize", 10))
        self.window = float(props.get("MaximumBatchingWindowInSeconds", 0))
        self.partial = "ReportBatchItemFailures" in (
            props.get("FunctionResponseTypes") or []
        )
        self.enabled = str(props.get("Enabled", True)).lower() not in ("false", "0")
        self.wait_seconds = wait_seconds
        self.sqs = local_client("sqs", moto_url)
        self.queue_url = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._idle = False
        self.stats = {"invocations": 0, "deleted": 0, "kept": 0}

    def start(self) -> "SqsPoller":
        if not self.enabled:
            self._idle = True
            return self
        account, name = self.queue_arn.split(":")[4], self.queue_arn.split(":")[5]
        self.queue_url = self.sqs.get_queue_url(
            QueueName=name, QueueOwnerAWSAccountId=account
        )["QueueUrl"]
        self._thread = threading.Thread(
            target=self._poll, name=f"sqs-{self.mapping.function_name}", daemon=True
        )
        self._thread.start()
        return self

    @property
    def idle(self) -> bool:
        """The last receive found nothing and no batch is being processed."""
        return self._idle

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.wait_seconds + 10)

    def _receive(self, count: int, wait: int) -> list[dict[str, Any]]:
        return self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=min(10, count),
            WaitTimeSeconds=wait,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])

    def _poll(self) -> None:
        while not self._stop.is_set():
            try:
                messages = self._receive(self.batch_size, self.wait_seconds)
                if not messages:
                    self._idle = True
                    continue
                self._idle = False
                started = time.monotonic()
                while len(messages) < self.batch_size and not self._stop.is_set():
                    if time.monotonic() - started >= self.window:
                        break
                    more = self._receive(self.batch_size - len(messages), 0)
                    if not more:
                        self._stop.wait(0.05)
                    messages.extend(more)
                self._process(messages)
            except (ClientError, LocalRuntimeError):
                logger.exception("sqs poller of %s", self.mapping.function_name)
                self._stop.wait(1.0)

    def _event(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "Records": [
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": m.get("Attributes", {}),
                    "messageAttributes": _message_attributes(m),
                    "md5OfBody": m["MD5OfBody"],
                    "eventSource": "aws:sqs",
                    "eventSourceARN": self.queue_arn,
                    "awsRegion": REGION,
                }
                for m in messages
            ]
        }

    def _process(self, messages: list[dict[str, Any]]) -> None:
        payload = json.dumps(self._event(messages)).encode()
        self.stats["invocations"] += 1
        result = self.runner.invoke(self.mapping.function_name, payload)
        failed = self._failed_ids(result, messages)
        done = [m for m in messages if m["MessageId"] not in failed]
        self.stats["kept"] += len(messages) - len(done)
        for start in range(0, len(done), 10):
            chunk = done[start : start + 10]
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(chunk)
                ],
            )
            self.stats["deleted"] += len(chunk)

    def _failed_ids(
        self, result: InvokeResult, messages: list[dict[str, Any]]
    ) -> set[str]:
        everything = {m["MessageId"] for m in messages}
        if not result.ok:
            return everything
        if not self.partial:
            return set()
        try:
            response = result.json()
        except ValueError:
            return everything
        if not response or not isinstance(response, dict):
            return set()
        failed = set()
        for failure in response.get("batchItemFailures") or []:
            identifier = (
                failure.get("itemIdentifier") if isinstance(failure, dict) else None
            )
            if not identifier or identifier not in everything:
                return everything
            failed.add(identifier)
        return failed

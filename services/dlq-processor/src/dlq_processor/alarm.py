"""One alarm per burst of failures for the same target and error type.

A burst is every failure of one (target_name, error_type) pair within
``window_seconds`` of the first one that raised the alarm. Whoever claims
the window publishes; the claim is a conditional PutItem (new key, or a
window already over), so concurrent invocations cannot both alarm. Claims
live in the idempotency table when there is one (key ``id``, TTL on
``expiration``), else in the failed-events table (key ``record_id``) under
names the indexes ignore.
"""

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from dlq_processor.errors import AlarmError
from dlq_processor.items import serialize
from switchyard_contracts.canonical import digest

logger = logging.getLogger(__name__)

SUBJECT_LIMIT = 100
MESSAGE_DETAIL_LIMIT = 300


class BurstAlarm:
    """Publishes to SNS at most once per window per target and error type."""

    def __init__(
        self,
        topic_arn: str,
        table_name: str,
        *,
        key_name: str = "id",
        window_seconds: int = 300,
        dynamodb_client: Any = None,
        sns_client: Any = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.topic_arn = topic_arn
        self.table_name = table_name
        self.key_name = key_name
        self.window_seconds = window_seconds
        self._dynamodb = dynamodb_client
        self._sns = sns_client
        self.clock = clock

    @property
    def dynamodb(self) -> Any:
        if self._dynamodb is None:
            import boto3

            self._dynamodb = boto3.client("dynamodb")
        return self._dynamodb

    @property
    def sns(self) -> Any:
        if self._sns is None:
            import boto3

            self._sns = boto3.client("sns")
        return self._sns

    def notify(
        self, target_name: str, error_type: str, example: dict[str, Any]
    ) -> bool:
        """Alarm for this failure unless its burst has already alarmed.

        Returns True when a notification was published. ``example`` is a
        small summary of the failure that opened the burst (record id,
        origin, error message); never the event itself.
        """
        now = int(self.clock())
        until = now + self.window_seconds
        key = "alarm#" + digest({"target": target_name, "error": error_type})
        if not self._claim(key, now, until, target_name, error_type):
            return False

        try:
            self.sns.publish(
                TopicArn=self.topic_arn,
                Subject=_subject(target_name, error_type),
                Message=json.dumps(
                    {
                        "kind": "switchyard.failure-alarm",
                        "target_name": target_name,
                        "error_type": error_type,
                        "window_seconds": self.window_seconds,
                        "first_record_id": example.get("record_id"),
                        "origin": example.get("origin"),
                        "error_message": str(example.get("error_message") or "")[
                            :MESSAGE_DETAIL_LIMIT
                        ],
                    }
                ),
            )
        except (ClientError, BotoCoreError) as exc:
            # Give the window back so the next failure of the burst alarms.
            self._release(key, until)
            raise AlarmError(
                f"Publish to {self.topic_arn} for {target_name} / {error_type} "
                f"failed: {exc}"
            ) from exc
        return True

    def _claim(
        self, key: str, now: int, until: int, target_name: str, error_type: str
    ) -> bool:
        try:
            self.dynamodb.put_item(
                TableName=self.table_name,
                Item={
                    self.key_name: serialize(key),
                    "kind": serialize("alarm-window"),
                    "alarm_target": serialize(target_name),
                    "alarm_error_type": serialize(error_type),
                    "window_until": serialize(until),
                    "expiration": serialize(until + self.window_seconds),
                },
                ConditionExpression="attribute_not_exists(#k) OR #u <= :now",
                ExpressionAttributeNames={"#k": self.key_name, "#u": "window_until"},
                ExpressionAttributeValues={":now": serialize(now)},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == (
                "ConditionalCheckFailedException"
            ):
                return False
            raise AlarmError(
                f"PutItem on {self.table_name} claiming the alarm window of "
                f"{target_name} / {error_type} failed: {exc}"
            ) from exc
        except BotoCoreError as exc:
            raise AlarmError(
                f"PutItem on {self.table_name} for an alarm window failed: {exc}"
            ) from exc
        return True

    def _release(self, key: str, until: int) -> None:
        try:
            self.dynamodb.delete_item(
                TableName=self.table_name,
                Key={self.key_name: serialize(key)},
                ConditionExpression="#u = :until",
                ExpressionAttributeNames={"#u": "window_until"},
                ExpressionAttributeValues={":until": serialize(until)},
            )
        except (ClientError, BotoCoreError):
            logger.warning("could not release alarm window %s", key, exc_info=True)


def _subject(target_name: str, error_type: str) -> str:
    subject = f"Switchyard failures: {error_type} at {target_name}"
    if len(subject) > SUBJECT_LIMIT:
        subject = subject[: SUBJECT_LIMIT - 3] + "..."
    # SNS subjects must be printable ASCII without line breaks.
    return "".join(c if 32 <= ord(c) < 127 else "?" for c in subject)

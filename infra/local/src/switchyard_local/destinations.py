"""Deliver a record to a Lambda destination given by ARN: SQS, SNS or Lambda.

Both async invocation and the Kinesis poller send their on-failure records
here. The record shapes are AWS's own (see ``invocation_record``).
"""

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from switchyard_local.errors import LocalRuntimeError
from switchyard_local.moto_server import local_client

logger = logging.getLogger(__name__)


class DestinationError(LocalRuntimeError):
    """A record could not be delivered to its destination."""


def aws_timestamp(when: datetime | None = None) -> str:
    """ISO 8601 with milliseconds and a Z, as Lambda writes its timestamps."""
    when = when or datetime.now(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def invocation_record(
    *,
    request_id: str,
    function_arn: str,
    condition: str,
    invoke_count: int,
    request_payload: Any,
    status_code: int,
    function_error: str | None,
    response_payload: Any,
) -> dict[str, Any]:
    """The record AWS sends to an async invocation's destination."""
    response_context: dict[str, Any] = {
        "statusCode": status_code,
        "executedVersion": "$LATEST",
    }
    if function_error:
        response_context["functionError"] = function_error
    return {
        "version": "1.0",
        "timestamp": aws_timestamp(),
        "requestContext": {
            "requestId": request_id,
            "functionArn": f"{function_arn}:$LATEST",
            "condition": condition,
            "approximateInvokeCount": invoke_count,
        },
        "requestPayload": request_payload,
        "responseContext": response_context,
        "responsePayload": response_payload,
    }


class Destinations:
    """Sends records to destinations, clients pointed at the moto server."""

    def __init__(
        self,
        moto_url: str,
        invoke_async: Callable[[str, bytes], None] | None = None,
    ) -> None:
        self.moto_url = moto_url
        self.invoke_async = invoke_async
        self._clients: dict[str, Any] = {}
        self._queue_urls: dict[str, str] = {}

    def _client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = local_client(service, self.moto_url)
        return self._clients[service]

    def send(self, arn: str, record: dict[str, Any]) -> None:
        """Deliver one record; raises DestinationError naming the ARN."""
        service = arn.split(":")[2]
        body = json.dumps(record)
        try:
            if service == "sqs":
                self._client("sqs").send_message(
                    QueueUrl=self._queue_url(arn), MessageBody=body
                )
            elif service == "sns":
                self._client("sns").publish(TopicArn=arn, Message=body)
            elif service == "lambda" and self.invoke_async is not None:
                self.invoke_async(arn, body.encode())
            else:
                raise DestinationError(
                    f"destination {arn} is of a kind the local runtime does not "
                    "deliver to; use an SQS queue, SNS topic or Lambda function"
                )
        except ClientError as exc:
            raise DestinationError(f"sending to destination {arn} failed") from exc

    def _queue_url(self, arn: str) -> str:
        if arn not in self._queue_urls:
            account, name = arn.split(":")[4], arn.split(":")[5]
            response = self._client("sqs").get_queue_url(
                QueueName=name, QueueOwnerAWSAccountId=account
            )
            self._queue_urls[arn] = response["QueueUrl"]
        return self._queue_urls[arn]

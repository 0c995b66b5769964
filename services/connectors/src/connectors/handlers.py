"""Lambda entry points: ``dynamodb_handler`` and ``webhook_handler``.

Thin adapters: build the connector once per warm container from the
environment, run the batch, return the summary. The invocation is async, so
Lambda discards the return value; it is there for tests, logs and the local
runtime. Only a failure record that could not be sent raises.
"""

from functools import cache
from typing import Any

from connectors.aws import client_factory
from connectors.batch import BatchRunner
from connectors.budget import invocation_deadline
from connectors.connector import Connector
from connectors.credentials import CredentialStore
from connectors.deadletters import DeadLetterQueue
from connectors.dedupe import DeliveryLedger
from connectors.dynamodb import DynamoDbConnector
from connectors.log import logger
from connectors.payloads import EventLoader
from connectors.settings import Settings
from connectors.webhook import WebhookConnector


@cache
def runner(kind: str) -> tuple[BatchRunner, Settings]:
    """The runner for one connector kind, built from the environment once."""
    settings = Settings.from_env()
    s3 = client_factory("s3")
    dynamodb = client_factory("dynamodb")

    connector: Connector
    if kind == "dynamodb":
        connector = DynamoDbConnector(dynamodb, settings.delivery_table_prefix)
    else:
        ledger = None
        if settings.idempotency_table:
            ledger = DeliveryLedger(
                settings.idempotency_table, settings.idempotency_ttl_seconds, dynamodb
            )
        else:
            logger.warning(
                "IDEMPOTENCY_TABLE is not set: repeats are only marked by the "
                "Idempotency-Key header, not skipped"
            )
        credentials = CredentialStore(
            client_factory("ssm"),
            client_factory("secretsmanager"),
            settings.secret_cache_seconds,
        )
        connector = WebhookConnector(settings, credentials, ledger)

    loader = EventLoader(settings.payload_bucket, settings.max_event_bytes, s3)
    dead_letters = DeadLetterQueue(
        settings.dead_letter_queue_url,
        client_factory("sqs"),
        s3,
        settings.payload_bucket,
        settings.dead_letter_message_limit_bytes,
    )
    return BatchRunner(connector, loader, dead_letters), settings


def _handle(kind: str, event: Any, context: Any) -> dict[str, Any]:
    logger.append_keys(
        function_request_id=getattr(context, "aws_request_id", None),
        connector=kind,
    )
    batch_runner, settings = runner(kind)
    deadline = invocation_deadline(
        context, settings.reserve_seconds, settings.default_budget_seconds
    )
    return batch_runner.run(event, deadline)


def dynamodb_handler(event: Any, context: Any) -> dict[str, Any]:
    """Write each delivery of the batch as one item of the target table."""
    return _handle("dynamodb", event, context)


def webhook_handler(event: Any, context: Any) -> dict[str, Any]:
    """POST each delivery of the batch to the target URL."""
    return _handle("webhook", event, context)

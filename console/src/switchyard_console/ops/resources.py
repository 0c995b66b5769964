"""The AWS-backed stores the views use, built from the console's settings.

Views call these factories instead of building clients themselves, so a test
can swap one (the Lambda client above all) without touching the views.
"""

from typing import Any

from django.conf import settings

from dlq_processor.store import FailureStore
from switchyard_console.ops import aws
from switchyard_console.ops.errors import InvalidInputError, NotConfiguredError
from switchyard_console.ops.rules_store import RulesStore
from switchyard_console.ops.users_store import UsersStore
from switchyard_contracts import ConnectorRegistry, ContractError


def rules_store() -> RulesStore:
    return RulesStore(settings.RULES_BUCKET, settings.RULES_KEY)


def users_store() -> UsersStore:
    return UsersStore(settings.USERS_TABLE)


def registry() -> ConnectorRegistry:
    """The connector registry from CONNECTOR_FUNCTIONS."""
    try:
        return ConnectorRegistry.from_env(
            {"CONNECTOR_FUNCTIONS": settings.CONNECTOR_FUNCTIONS}
        )
    except ContractError as exc:
        raise InvalidInputError(f"the console's CONNECTOR_FUNCTIONS: {exc}") from exc


def lambda_client() -> Any:
    return aws.client("lambda")


def sqs_client() -> Any:
    return aws.client("sqs")


def failure_store() -> FailureStore:
    """The dead-letter processor's own store of failure records."""
    if not settings.FAILED_EVENTS_TABLE:
        raise NotConfiguredError("FAILED_EVENTS_TABLE", "read failure records")
    return FailureStore(
        settings.FAILED_EVENTS_TABLE,
        client=aws.client("dynamodb"),
        s3_client=aws.client("s3"),
    )

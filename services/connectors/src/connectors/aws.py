"""boto3 clients, created lazily so tests and the local stack can point them
elsewhere (boto3 honours ``AWS_ENDPOINT_URL``)."""

from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

# botocore's standard mode retries throttling and 5xx with backoff itself.
CLIENT_CONFIG = Config(
    retries={"max_attempts": 3, "mode": "standard"},
    connect_timeout=3,
    read_timeout=10,
)

AWS_ERRORS = (ClientError, BotoCoreError)


def client_factory(service: str) -> Callable[[], Any]:
    """A function returning one cached client for ``service``."""
    cache: list[Any] = []

    def get() -> Any:
        if not cache:
            cache.append(boto3.client(service, config=CLIENT_CONFIG))
        return cache[0]

    return get


def error_code(exc: BaseException) -> str:
    """The AWS error code of a ClientError, or the exception's class name."""
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "ClientError"))
    return type(exc).__name__


def is_throttle_or_fault(exc: BaseException) -> bool:
    """Whether trying again later could help: throttling, 5xx, no connection."""
    if not isinstance(exc, ClientError):
        return True
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    code = error_code(exc)
    return status >= 500 or "Throttl" in code or code in RETRYABLE_CODES


RETRYABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "SlowDown",
        "TransactionConflictException",
    }
)

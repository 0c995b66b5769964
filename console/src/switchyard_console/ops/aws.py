"""boto3 clients for the console, and the translation of AWS errors.

Clients are made on demand (never at import), from a fresh session with the
standard credential chain, so the ``AWS_ENDPOINT_URL`` variables the local
system sets are honoured and tests can point them elsewhere.
"""

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError
from django.conf import settings

from switchyard_console.ops.errors import (
    AccessDeniedError,
    AwsError,
    MissingResourceError,
    ThrottledError,
    UnreachableError,
)

logger = logging.getLogger(__name__)

_CONFIG = Config(
    connect_timeout=5,
    read_timeout=20,
    retries={"max_attempts": 3, "mode": "standard"},
)

THROTTLING_CODES = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "ProvisionedThroughputExceededException",
    "RequestThrottled",
    "SlowDown",
    "LimitExceededException",
}
ACCESS_DENIED_CODES = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "ExpiredToken",
    "ExpiredTokenException",
    "SignatureDoesNotMatch",
    "InvalidAccessKeyId",
}
MISSING_CODES = {
    "NoSuchBucket",
    "ResourceNotFoundException",
    "AWS.SimpleQueueService.NonExistentQueue",
    "QueueDoesNotExist",
    "NoSuchKey",
    "NoSuchVersion",
}


_clients: dict[tuple[str | None, ...], Any] = {}
_clients_lock = threading.Lock()


def client(service: str) -> Any:
    """A boto3 client for one service, with the console's timeouts.

    Clients are thread-safe and costly to build (a tenth of a second), so
    one is kept per service and per endpoint and credential setting: a
    changed ``AWS_ENDPOINT_URL`` gets a new client.
    """
    env_name = "AWS_ENDPOINT_URL_" + service.upper().replace("-", "_")
    key = (
        service,
        settings.AWS_REGION,
        os.environ.get("AWS_ENDPOINT_URL"),
        os.environ.get(env_name),
        os.environ.get("AWS_ACCESS_KEY_ID"),
        os.environ.get("AWS_PROFILE"),
    )
    with _clients_lock:
        found = _clients.get(key)
        if found is None:
            session = boto3.session.Session()
            found = session.client(
                service, region_name=settings.AWS_REGION, config=_CONFIG
            )
            _clients[key] = found
        return found


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "Unknown"))


def translate(exc: Exception, operation: str, resource: str) -> AwsError:
    """The console error for a botocore error raised by one call."""
    if isinstance(exc, ClientError):
        code = error_code(exc)
        detail = str(exc.response.get("Error", {}).get("Message") or code)
        if code in THROTTLING_CODES:
            return ThrottledError(operation, resource, code, detail)
        if code in ACCESS_DENIED_CODES:
            return AccessDeniedError(operation, resource, code, detail)
        if code in MISSING_CODES:
            return MissingResourceError(operation, resource, code, detail)
        return AwsError(operation, resource, code, detail)
    if isinstance(exc, EndpointConnectionError):
        return UnreachableError(
            operation, resource, "EndpointConnectionError", str(exc)
        )
    return AwsError(operation, resource, type(exc).__name__, str(exc))


@contextmanager
def calling(operation: str, resource: str) -> Iterator[None]:
    """Run AWS calls, raising an AwsError that names the operation and resource."""
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        error = translate(exc, operation, resource)
        logger.warning("AWS call failed: %s on %s: %s", operation, resource, error.code)
        raise error from exc

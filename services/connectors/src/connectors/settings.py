"""Every environment variable the connectors read, in one place.

An explicit argument beats an environment variable beats a default: the
handlers build ``Settings.from_env()``; tests build ``Settings(...)`` directly.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass

from connectors.errors import ConfigurationError

DEAD_LETTER_QUEUE_URL = "DEAD_LETTER_QUEUE_URL"
PAYLOAD_BUCKET = "PAYLOAD_BUCKET"
IDEMPOTENCY_TABLE = "IDEMPOTENCY_TABLE"
IDEMPOTENCY_TTL_SECONDS = "IDEMPOTENCY_TTL_SECONDS"
DELIVERY_TABLE_PREFIX = "DELIVERY_TABLE_PREFIX"
WEBHOOK_ALLOWLIST = "WEBHOOK_ALLOWLIST"
WEBHOOK_MAX_ATTEMPTS = "WEBHOOK_MAX_ATTEMPTS"
WEBHOOK_CONNECT_TIMEOUT_SECONDS = "WEBHOOK_CONNECT_TIMEOUT_SECONDS"
WEBHOOK_READ_TIMEOUT_SECONDS = "WEBHOOK_READ_TIMEOUT_SECONDS"
WEBHOOK_MAX_RESPONSE_BYTES = "WEBHOOK_MAX_RESPONSE_BYTES"
SECRET_CACHE_SECONDS = "SECRET_CACHE_SECONDS"  # noqa: S105 - a variable name
MAX_EVENT_BYTES = "MAX_EVENT_BYTES"
DEAD_LETTER_MESSAGE_LIMIT_BYTES = "DEAD_LETTER_MESSAGE_LIMIT_BYTES"


@dataclass(frozen=True)
class Settings:
    """The connectors' configuration; defaults suit a deployed function."""

    dead_letter_queue_url: str | None = None
    payload_bucket: str | None = None
    idempotency_table: str | None = None
    idempotency_ttl_seconds: int = 7 * 24 * 3600
    delivery_table_prefix: str = ""
    webhook_allowlist: str = ""
    webhook_max_attempts: int = 5
    webhook_connect_timeout: float = 3.0
    webhook_read_timeout: float = 10.0
    webhook_max_read_timeout: float = 30.0
    webhook_max_response_bytes: int = 64 * 1024
    backoff_base_seconds: float = 0.2
    backoff_cap_seconds: float = 10.0
    secret_cache_seconds: float = 300.0
    max_event_bytes: int = 1024 * 1024
    dead_letter_message_limit_bytes: int = 256 * 1024
    # Time kept back at the end of an invocation to send failure records.
    reserve_seconds: float = 2.0
    # Used when there is no Lambda context (the local runtime may pass none).
    default_budget_seconds: float = 60.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ
        defaults = cls()
        return cls(
            dead_letter_queue_url=env.get(DEAD_LETTER_QUEUE_URL) or None,
            payload_bucket=env.get(PAYLOAD_BUCKET) or None,
            idempotency_table=env.get(IDEMPOTENCY_TABLE) or None,
            idempotency_ttl_seconds=_int(
                env, IDEMPOTENCY_TTL_SECONDS, defaults.idempotency_ttl_seconds
            ),
            delivery_table_prefix=env.get(DELIVERY_TABLE_PREFIX, ""),
            webhook_allowlist=env.get(WEBHOOK_ALLOWLIST, ""),
            webhook_max_attempts=_int(
                env, WEBHOOK_MAX_ATTEMPTS, defaults.webhook_max_attempts
            ),
            webhook_connect_timeout=_float(
                env, WEBHOOK_CONNECT_TIMEOUT_SECONDS, defaults.webhook_connect_timeout
            ),
            webhook_read_timeout=_float(
                env, WEBHOOK_READ_TIMEOUT_SECONDS, defaults.webhook_read_timeout
            ),
            webhook_max_response_bytes=_int(
                env, WEBHOOK_MAX_RESPONSE_BYTES, defaults.webhook_max_response_bytes
            ),
            secret_cache_seconds=_float(
                env, SECRET_CACHE_SECONDS, defaults.secret_cache_seconds
            ),
            max_event_bytes=_int(env, MAX_EVENT_BYTES, defaults.max_event_bytes),
            dead_letter_message_limit_bytes=_int(
                env,
                DEAD_LETTER_MESSAGE_LIMIT_BYTES,
                defaults.dead_letter_message_limit_bytes,
            ),
        )


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    text = env.get(name)
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ConfigurationError(
            f"{name}={text!r} is not a whole number; set a positive integer"
        ) from None
    if value <= 0:
        raise ConfigurationError(f"{name}={text!r} must be positive")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    text = env.get(name)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise ConfigurationError(
            f"{name}={text!r} is not a number of seconds; set e.g. '3' or '2.5'"
        ) from None
    if not value > 0:
        raise ConfigurationError(f"{name}={text!r} must be positive")
    return value

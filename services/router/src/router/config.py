"""Every setting the router reads, with its environment variable and default.

An explicit argument beats the environment, which beats the default.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from router.errors import ConfigError
from switchyard_contracts import ConnectorRegistry, ContractError

RULES_BUCKET = "RULES_BUCKET"
RULES_KEY = "RULES_KEY"
RULES_TTL_SECONDS = "RULES_TTL_SECONDS"
CONNECTOR_FUNCTIONS = "CONNECTOR_FUNCTIONS"
DEAD_LETTER_QUEUE_URL = "DEAD_LETTER_QUEUE_URL"
PAYLOAD_BUCKET = "PAYLOAD_BUCKET"
ASYNC_PAYLOAD_LIMIT_BYTES = "ASYNC_PAYLOAD_LIMIT_BYTES"
MAX_EVENT_BYTES = "MAX_EVENT_BYTES"
INVOKE_CONCURRENCY = "INVOKE_CONCURRENCY"

ENVIRONMENT_VARIABLES = (
    RULES_BUCKET,
    RULES_KEY,
    RULES_TTL_SECONDS,
    CONNECTOR_FUNCTIONS,
    DEAD_LETTER_QUEUE_URL,
    PAYLOAD_BUCKET,
    ASYNC_PAYLOAD_LIMIT_BYTES,
    MAX_EVENT_BYTES,
    INVOKE_CONCURRENCY,
)

DEFAULT_RULES_KEY = "rules/rules.json"
DEFAULT_RULES_TTL_SECONDS = 30.0
DEFAULT_ASYNC_PAYLOAD_LIMIT_BYTES = 1_048_576
DEFAULT_MAX_EVENT_BYTES = 1_048_576
DEFAULT_INVOKE_CONCURRENCY = 8

# SQS refuses larger message bodies (and larger SendMessageBatch requests).
DEAD_LETTER_MESSAGE_LIMIT_BYTES = 262_144


@dataclass(frozen=True)
class Settings:
    rules_bucket: str
    dead_letter_queue_url: str
    payload_bucket: str
    connectors: ConnectorRegistry
    rules_key: str = DEFAULT_RULES_KEY
    rules_ttl_seconds: float = DEFAULT_RULES_TTL_SECONDS
    async_payload_limit_bytes: int = DEFAULT_ASYNC_PAYLOAD_LIMIT_BYTES
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES
    invoke_concurrency: int = DEFAULT_INVOKE_CONCURRENCY

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        """Read the environment; ConfigError names each missing or bad value."""
        env = os.environ if environ is None else environ
        missing = [
            name
            for name in (RULES_BUCKET, DEAD_LETTER_QUEUE_URL, PAYLOAD_BUCKET)
            if not env.get(name)
        ]
        if missing:
            raise ConfigError(
                "the router needs these environment variables: " + ", ".join(missing)
            )
        try:
            connectors = ConnectorRegistry.from_env(env)
        except ContractError as exc:
            raise ConfigError(str(exc)) from exc
        return cls(
            rules_bucket=env[RULES_BUCKET],
            dead_letter_queue_url=env[DEAD_LETTER_QUEUE_URL],
            payload_bucket=env[PAYLOAD_BUCKET],
            connectors=connectors,
            rules_key=env.get(RULES_KEY) or DEFAULT_RULES_KEY,
            rules_ttl_seconds=_number(
                env, RULES_TTL_SECONDS, DEFAULT_RULES_TTL_SECONDS, float, 0
            ),
            async_payload_limit_bytes=_number(
                env,
                ASYNC_PAYLOAD_LIMIT_BYTES,
                DEFAULT_ASYNC_PAYLOAD_LIMIT_BYTES,
                int,
                1024,
            ),
            max_event_bytes=_number(
                env, MAX_EVENT_BYTES, DEFAULT_MAX_EVENT_BYTES, int, 1
            ),
            invoke_concurrency=_number(
                env, INVOKE_CONCURRENCY, DEFAULT_INVOKE_CONCURRENCY, int, 1
            ),
        )


def _number(
    env: Mapping[str, str], name: str, default: Any, kind: type, minimum: float
) -> Any:
    text = env.get(name)
    if not text:
        return default
    try:
        value = kind(text)
    except ValueError:
        raise ConfigError(f"{name}={text!r} is not a number") from None
    if value < minimum:
        raise ConfigError(f"{name}={text!r} must be at least {minimum}")
    return value

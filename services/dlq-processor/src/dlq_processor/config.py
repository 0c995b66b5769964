"""Every setting the dead-letter processor reads, and where it comes from.

An explicit argument beats an environment variable beats a default. This
module is the only place that names the environment variables.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass

from dlq_processor.errors import ConfigurationError

FAILED_EVENTS_TABLE = "FAILED_EVENTS_TABLE"
IDEMPOTENCY_TABLE = "IDEMPOTENCY_TABLE"
EVENTS_STREAM_NAME = "EVENTS_STREAM_NAME"
PAYLOAD_BUCKET = "PAYLOAD_BUCKET"
ALARM_TOPIC_ARN = "ALARM_TOPIC_ARN"
ALARM_WINDOW_SECONDS = "ALARM_WINDOW_SECONDS"
CONNECTOR_FUNCTIONS = "CONNECTOR_FUNCTIONS"
POWERTOOLS_SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"

SERVICE_NAME = os.environ.get(POWERTOOLS_SERVICE_NAME) or "dlq-processor"

DEFAULT_ALARM_WINDOW_SECONDS = 300


@dataclass(frozen=True)
class Settings:
    """The processor's configuration, already validated."""

    failed_events_table: str
    idempotency_table: str | None = None
    events_stream_name: str | None = None
    payload_bucket: str | None = None
    alarm_topic_arn: str | None = None
    alarm_window_seconds: int = DEFAULT_ALARM_WINDOW_SECONDS

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ
        table = env.get(FAILED_EVENTS_TABLE, "").strip()
        if not table:
            raise ConfigurationError(
                f"{FAILED_EVENTS_TABLE} is not set; give it the failed-events "
                "table name"
            )
        window_text = env.get(ALARM_WINDOW_SECONDS, "").strip()
        try:
            window = int(window_text) if window_text else DEFAULT_ALARM_WINDOW_SECONDS
        except ValueError:
            raise ConfigurationError(
                f"{ALARM_WINDOW_SECONDS} must be a whole number of seconds, "
                f"not {window_text!r}"
            ) from None
        if window < 1:
            raise ConfigurationError(f"{ALARM_WINDOW_SECONDS} must be at least 1")
        return cls(
            failed_events_table=table,
            idempotency_table=_optional(env, IDEMPOTENCY_TABLE),
            events_stream_name=_optional(env, EVENTS_STREAM_NAME),
            payload_bucket=_optional(env, PAYLOAD_BUCKET),
            alarm_topic_arn=_optional(env, ALARM_TOPIC_ARN),
            alarm_window_seconds=window,
        )


def _optional(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None

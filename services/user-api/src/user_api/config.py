"""Every environment variable the user API reads, in one place.

An explicit argument beats an environment variable, which beats a default.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass

from user_api.errors import ConfigurationError

# DynamoDB's own ceiling for one item: 400 KB, counted as 1024-byte KB.
DYNAMODB_MAX_ITEM_BYTES = 400 * 1024

# API Gateway accepts up to 10 MB; nothing near that can become one item, so
# larger bodies are refused before parsing.
DEFAULT_MAX_BODY_BYTES = 1024 * 1024

ENV_USERS_TABLE = "USERS_TABLE"
ENV_CORS_ALLOWED_ORIGINS = "CORS_ALLOWED_ORIGINS"
ENV_MAX_ITEM_BYTES = "MAX_ITEM_BYTES"
ENV_SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"

DEFAULT_SERVICE_NAME = "user-api"


@dataclass(frozen=True)
class Settings:
    """What the handler needs to know about its deployment."""

    users_table: str
    cors_allowed_origins: tuple[str, ...] = ()
    max_item_bytes: int = DYNAMODB_MAX_ITEM_BYTES
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        """Read the settings, failing with the variable's name when one is bad."""
        env = os.environ if environ is None else environ

        table = env.get(ENV_USERS_TABLE, "").strip()
        if not table:
            raise ConfigurationError(
                f"{ENV_USERS_TABLE} is not set: give it the users table's name"
            )

        origins = tuple(
            origin.strip().rstrip("/")
            for origin in env.get(ENV_CORS_ALLOWED_ORIGINS, "").split(",")
            if origin.strip()
        )

        raw_limit = env.get(ENV_MAX_ITEM_BYTES, "").strip()
        limit = DYNAMODB_MAX_ITEM_BYTES
        if raw_limit:
            try:
                limit = int(raw_limit)
            except ValueError:
                limit = 0
            if not 1 <= limit <= DYNAMODB_MAX_ITEM_BYTES:
                raise ConfigurationError(
                    f"{ENV_MAX_ITEM_BYTES}={raw_limit!r} is not a whole number of "
                    f"bytes between 1 and {DYNAMODB_MAX_ITEM_BYTES}"
                )

        return cls(
            users_table=table, cors_allowed_origins=origins, max_item_bytes=limit
        )


def service_name(environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    return env.get(ENV_SERVICE_NAME) or DEFAULT_SERVICE_NAME

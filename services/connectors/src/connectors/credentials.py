"""Webhook auth headers, read from a named secret and never from the rules.

``params.secret`` names where the headers live:

- ``ssm:/switchyard/crm`` or an SSM parameter ARN: a (SecureString)
  parameter, read with decryption;
- ``secretsmanager:crm-hook`` or a Secrets Manager ARN: a secret string.

The value is either a JSON object of header names to values, or one string
used as the ``Authorization`` header. Values are cached per warm container
for ``SECRET_CACHE_SECONDS`` and never logged.
"""

import json
import re
import time
from collections.abc import Callable
from typing import Any

from connectors.aws import AWS_ERRORS, error_code, is_throttle_or_fault
from connectors.errors import CredentialsError, InvalidTarget

HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
# Control characters other than tab (RFC 9110 field values): CR and LF would
# split the header, the rest are read differently by different servers.
FORBIDDEN_VALUE_CHARS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def parse_secret_ref(ref: object) -> tuple[str, str]:
    """Split a secret reference into (``ssm`` | ``secretsmanager``, name)."""
    if not isinstance(ref, str) or not ref.strip():
        raise InvalidTarget("params.secret must be a non-empty string")
    if ref.startswith("arn:") and ":secretsmanager:" in ref:
        return "secretsmanager", ref
    if ref.startswith("arn:") and ":ssm:" in ref:
        return "ssm", ref
    kind, sep, name = ref.partition(":")
    if not sep or kind not in ("ssm", "secretsmanager") or not name:
        raise InvalidTarget(
            f"params.secret {ref!r} must look like 'ssm:/path/name' or "
            "'secretsmanager:name' (or be an SSM or Secrets Manager ARN)"
        )
    return kind, name


def parse_headers(text: str, ref: str) -> dict[str, str]:
    """Headers from a secret's value; the message never quotes the value."""
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except ValueError:
            raise CredentialsError(
                f"secret {ref!r} starts like JSON but does not parse; store a "
                "JSON object of headers or a single Authorization value",
                retryable=False,
            ) from None
    else:
        data = {"Authorization": stripped}
    if not isinstance(data, dict) or not data:
        raise CredentialsError(f"secret {ref!r} holds no headers", retryable=False)
    headers: dict[str, str] = {}
    for name, value in data.items():
        if not isinstance(value, str) or not HEADER_NAME.match(str(name)):
            raise CredentialsError(
                f"secret {ref!r} has a header {name!r} that is not a valid "
                "header name with a string value",
                retryable=False,
            )
        if FORBIDDEN_VALUE_CHARS.search(value) or not value.isascii():
            raise CredentialsError(
                f"secret {ref!r} header {name!r} holds a control character "
                "(line break, NUL...) or non-ASCII text",
                retryable=False,
            )
        headers[str(name)] = value
    return headers


class CredentialStore:
    """Reads and caches auth headers from SSM or Secrets Manager."""

    def __init__(
        self,
        ssm: Callable[[], Any],
        secretsmanager: Callable[[], Any],
        cache_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clients = {"ssm": ssm, "secretsmanager": secretsmanager}
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._cache: dict[str, tuple[float, dict[str, str]]] = {}

    def headers(self, ref: str) -> dict[str, str]:
        cached = self._cache.get(ref)
        if cached is not None and cached[0] > self._clock():
            return dict(cached[1])

        kind, name = parse_secret_ref(ref)
        headers = parse_headers(self._read(kind, name, ref), ref)
        self._cache[ref] = (self._clock() + self._cache_seconds, headers)
        return dict(headers)

    def _read(self, kind: str, name: str, ref: str) -> str:
        client = self._clients[kind]()
        try:
            if kind == "ssm":
                response = client.get_parameter(Name=name, WithDecryption=True)
                return str(response["Parameter"]["Value"])
            response = client.get_secret_value(SecretId=name)
        except AWS_ERRORS as exc:
            operation = "GetParameter" if kind == "ssm" else "GetSecretValue"
            raise CredentialsError(
                f"{operation} for webhook secret {ref!r} failed: {error_code(exc)}",
                retryable=is_throttle_or_fault(exc),
            ) from exc
        if "SecretString" not in response:
            raise CredentialsError(
                f"secret {ref!r} is binary; store the headers as a secret string",
                retryable=False,
            )
        return str(response["SecretString"])

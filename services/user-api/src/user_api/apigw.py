"""API Gateway REST API (v1 proxy) events in, proxy responses out.

The wire format stops here: the rest of the package sees a ``Request`` with
lower-cased headers and a decoded body, and hands back a status, a JSON
value and headers. CORS is decided here too, from the allowed origins.
"""

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from user_api import jsontext
from user_api.errors import (
    BadRequestError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
)

METHODS = ("GET", "PUT", "POST", "PATCH", "DELETE", "OPTIONS")
ALLOWED_REQUEST_HEADERS = "Authorization, Content-Type, If-Match"
EXPOSED_HEADERS = "ETag"
PREFLIGHT_MAX_AGE_SECONDS = "600"
JSON_MEDIA_TYPE = "application/json"


@dataclass(frozen=True)
class Request:
    """What the handler needs from one proxy event."""

    method: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    body_is_base64: bool = False
    claims: Mapping[str, Any] | None = None
    request_id: str | None = None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def body_bytes(self, max_bytes: int) -> bytes | None:
        """The raw body, None when absent; 400 on bad base64, 413 when too big."""
        if self.body is None or self.body == "":
            return None
        if self.body_is_base64:
            # base64 grows data by 4/3: refuse before decoding a huge body.
            if len(self.body) > (max_bytes + 2) // 3 * 4 + 4:
                raise _body_too_large(max_bytes)
            try:
                data = base64.b64decode(self.body, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise BadRequestError(
                    "the body is marked base64-encoded but is not valid base64",
                    code="invalid_body_encoding",
                ) from exc
        else:
            data = self.body.encode("utf-8", errors="surrogatepass")
        if len(data) > max_bytes:
            raise _body_too_large(max_bytes)
        return data

    def json_body(self, max_bytes: int) -> Any:
        """The body parsed as exact JSON; 400, 413 or 415 when it cannot be."""
        data = self.body_bytes(max_bytes)
        if data is None:
            raise BadRequestError(
                "this method needs a JSON object body; send '{}' for no attributes",
                code="body_required",
            )

        _require_json_media_type(self.header("content-type"))

        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadRequestError(
                f"the body is not valid UTF-8 (byte {exc.start}); send UTF-8 JSON",
                code="invalid_json",
            ) from exc
        try:
            return jsontext.loads(text)
        except jsontext.JsonTextError as exc:
            raise BadRequestError(str(exc), code="invalid_json") from exc


def _body_too_large(max_bytes: int) -> PayloadTooLargeError:
    return PayloadTooLargeError(
        f"the body is larger than {max_bytes} bytes; a profile cannot be that big",
        code="body_too_large",
    )


def _require_json_media_type(content_type: str | None) -> None:
    if content_type is None or not content_type.strip():
        raise UnsupportedMediaTypeError(
            "the body has no Content-Type; send 'Content-Type: application/json'",
        )
    media_type, *parameters = content_type.split(";")
    if media_type.strip().lower() != JSON_MEDIA_TYPE:
        raise UnsupportedMediaTypeError(
            f"Content-Type {media_type.strip()[:80]!r} is not accepted; "
            "send 'Content-Type: application/json'",
        )
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip(
            '"'
        ).lower() not in (
            "utf-8",
            "utf8",
        ):
            raise UnsupportedMediaTypeError(
                f"charset {value.strip()[:40]!r} is not accepted; send UTF-8 JSON",
            )


def parse_event(event: Mapping[str, Any]) -> Request:
    """The parts of a REST API proxy event this API uses."""
    if not isinstance(event, Mapping):
        raise TypeError(f"expected an API Gateway proxy event, got {type(event)}")
    headers = {
        str(name).lower(): str(value)
        for name, value in (event.get("headers") or {}).items()
        if value is not None
    }
    # Repeated headers arrive only in multiValueHeaders, under each spelling
    # the client used; for If-Match every value counts, so they are joined
    # the way HTTP folds repeated field lines.
    multi: dict[str, list[Any]] = {}
    for name, values in (event.get("multiValueHeaders") or {}).items():
        if isinstance(values, list) and values:
            multi.setdefault(str(name).lower(), []).extend(values)
    if "if-match" in multi:
        headers["if-match"] = ", ".join(str(value) for value in multi["if-match"])
    for name, values in multi.items():
        headers.setdefault(name, str(values[-1]))

    context = event.get("requestContext") or {}
    authorizer = context.get("authorizer") or {}
    body = event.get("body")
    return Request(
        method=str(event.get("httpMethod") or "").upper(),
        headers=headers,
        body=body if isinstance(body, str) else None,
        body_is_base64=bool(event.get("isBase64Encoded")),
        claims=authorizer.get("claims") if isinstance(authorizer, Mapping) else None,
        request_id=context.get("requestId"),
    )


def cors_headers(
    origin: str | None, allowed_origins: tuple[str, ...], *, preflight: bool = False
) -> dict[str, str]:
    """CORS response headers for ``origin``; none when it is not allowed."""
    if not allowed_origins:
        return {}
    headers: dict[str, str] = {}
    if "*" in allowed_origins:
        headers["Access-Control-Allow-Origin"] = "*"
    else:
        # The answer depends on Origin, so shared caches must key on it.
        headers["Vary"] = "Origin"
        wanted = (origin or "").strip().rstrip("/").lower()
        if not wanted or wanted not in {o.lower() for o in allowed_origins}:
            return headers
        headers["Access-Control-Allow-Origin"] = origin.strip().rstrip("/")
    if preflight:
        headers["Access-Control-Allow-Methods"] = ", ".join(METHODS)
        headers["Access-Control-Allow-Headers"] = ALLOWED_REQUEST_HEADERS
        headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE_SECONDS
    else:
        headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    return headers


def response(
    status: int, body: Any | None = None, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """A proxy response; ``body`` is written as exact JSON when given."""
    out_headers = {"Cache-Control": "no-store", **(headers or {})}
    if body is None:
        return {
            "statusCode": status,
            "headers": out_headers,
            "body": "",
            "isBase64Encoded": False,
        }
    out_headers["Content-Type"] = JSON_MEDIA_TYPE
    return {
        "statusCode": status,
        "headers": out_headers,
        "body": jsontext.dumps(body),
        "isBase64Encoded": False,
    }

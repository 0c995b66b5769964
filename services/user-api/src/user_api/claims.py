"""Who is calling, from the claims API Gateway's Cognito authorizer passes.

A REST API hands the verified token's claims to the function as strings,
whatever their type in the token: ``"true"`` for a boolean, one string for
the list of groups (``"a,b"`` or ``"[a b]"`` depending on the integration),
and dates either as epoch seconds or as text like
``"Tue Jun 18 15:00:04 UTC 2024"``. The caller is the ``sub`` claim and
nothing else: no header, path, query or body can name another profile.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from user_api.errors import UnauthenticatedError

MAX_SUB_CHARS = 128
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DATE_FORMATS = ("%a %b %d %H:%M:%S %Z %Y", "%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Caller:
    """The signed-in user, as far as this API needs to know."""

    sub: str
    email: str | None = None
    email_verified: bool | None = None
    username: str | None = None
    groups: tuple[str, ...] = field(default=())
    token_use: str | None = None
    issued_at: datetime | None = None
    expires_at: datetime | None = None


def caller_from_claims(claims: Mapping[str, Any] | None) -> Caller:
    """The caller named by the claims; 401 when there is no usable ``sub``."""
    if not isinstance(claims, Mapping):
        raise UnauthenticatedError(
            "no verified identity came with the request; sign in and send "
            "'Authorization: <Cognito token>'"
        )

    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub.strip():
        raise UnauthenticatedError("the token has no 'sub' claim naming the user")
    sub = sub.strip()
    if len(sub) > MAX_SUB_CHARS or _CONTROL.search(sub):
        raise UnauthenticatedError("the token's 'sub' claim is not a user id")

    email = _text(claims.get("email"))
    return Caller(
        sub=sub,
        email=email.lower() if email else None,
        email_verified=parse_bool(claims.get("email_verified")),
        username=_text(claims.get("cognito:username") or claims.get("username")),
        groups=parse_groups(claims.get("cognito:groups")),
        token_use=_text(claims.get("token_use")),
        issued_at=parse_time(claims.get("iat")),
        expires_at=parse_time(claims.get("exp")),
    )


def parse_bool(value: Any) -> bool | None:
    """``"true"``/``"false"`` (any case) or a real bool; None otherwise."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "false"):
            return lowered == "true"
    return None


def parse_groups(value: Any) -> tuple[str, ...]:
    """Group names from a list or from one string: ``"a,b"``, ``"[a b]"``."""
    if isinstance(value, list | tuple):
        return tuple(str(item) for item in value if str(item).strip())
    if not isinstance(value, str):
        return ()
    inner = value.strip()
    if inner.startswith("[") and inner.endswith("]"):
        inner = inner[1:-1]
    return tuple(part for part in re.split(r"[,\s]+", inner) if part)


def parse_time(value: Any) -> datetime | None:
    """Epoch seconds (number or text) or the authorizer's date text, in UTC."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return _from_epoch(value)
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return _from_epoch(int(text))
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def _from_epoch(seconds: float) -> datetime | None:
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None

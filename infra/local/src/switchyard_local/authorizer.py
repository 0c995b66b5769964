"""The Cognito user pool authorizer of API Gateway, verifying tokens for real.

The token's signature is checked against the pool's JWKS, which the moto
server serves at ``<moto>/<pool id>/.well-known/jwks.json``, while the issuer
is the AWS form ``https://cognito-idp.<region>.amazonaws.com/<pool id>``: the
two are configured separately. RS256 only; the client must be the pool's app
client (``aud`` in an ID token, ``client_id`` in an access token); expiry is
checked with a small leeway. As API Gateway does, a method without
authorization scopes takes only ID tokens, and a method with scopes takes
only access tokens carrying one of them.

Limitation: moto signs every pool's tokens with one key that ships inside
moto, so anyone can forge them. This authorizer is for local use only.
"""

import logging
from datetime import UTC, datetime
from typing import Any

import jwt

from switchyard_local.errors import LocalRuntimeError

logger = logging.getLogger(__name__)


class Unauthorized(LocalRuntimeError):
    """The request carries no valid token; API Gateway answers 401."""


def claim_text(name: str, value: Any) -> str:
    """A claim as API Gateway passes it to the function: always a string."""
    if name in ("exp", "iat") and isinstance(value, int | float):
        when = datetime.fromtimestamp(value, UTC)
        return when.strftime("%a %b %d %H:%M:%S UTC %Y")
    if isinstance(value, list):
        return "[" + " ".join(str(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class CognitoAuthorizer:
    """Verifies bearer tokens of one user pool and its allowed clients."""

    def __init__(
        self,
        *,
        jwks_url: str,
        issuer: str,
        client_ids: list[str],
        leeway_seconds: int = 60,
    ) -> None:
        self.jwks = jwt.PyJWKClient(jwks_url, cache_keys=True)
        self.issuer = issuer
        self.client_ids = set(client_ids)
        self.leeway = leeway_seconds

    def verify(
        self, authorization: str | None, scopes: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        """The token's claims; raises Unauthorized with the reason otherwise.

        ``scopes`` are the method's authorization scopes: none means the ID
        token is required; some means an access token with one of them.
        """
        if not authorization:
            raise Unauthorized("no Authorization header")
        token = authorization
        if token.lower().startswith("bearer "):
            token = token[7:].strip()
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"malformed token: {exc}") from exc
        if header.get("alg") != "RS256":
            raise Unauthorized(f"token algorithm {header.get('alg')!r} is not RS256")
        try:
            key = self.jwks.get_signing_key_from_jwt(token)
            claims = jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                issuer=self.issuer,
                leeway=self.leeway,
                options={"verify_aud": False, "require": ["exp", "iss", "token_use"]},
            )
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"token rejected: {exc}") from exc

        # ID tokens name the client in aud, access tokens in client_id.
        client_claim = {"id": "aud", "access": "client_id"}.get(claims["token_use"])
        token_use = claims["token_use"]
        if client_claim:
            client = claims.get(client_claim)
        else:
            raise Unauthorized(f"token_use {token_use!r} is neither id nor access")
        if client not in self.client_ids:
            raise Unauthorized(f"token was issued to client {client!r}, not this API's")
        if not scopes and token_use != "id":  # noqa: S105 - a claim, not a secret
            raise Unauthorized("this method has no scopes: it takes the ID token")
        if scopes:
            granted = set(str(claims.get("scope", "")).split())
            if token_use != "access" or not granted & set(scopes):  # noqa: S105
                raise Unauthorized(
                    f"this method needs an access token with one of {list(scopes)}"
                )
        return claims

    @staticmethod
    def as_strings(claims: dict[str, Any]) -> dict[str, str]:
        return {name: claim_text(name, value) for name, value in claims.items()}

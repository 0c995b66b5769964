"""A stand-in for Cognito's hosted UI, for the browser test of the PKCE flow.

The local system has no hosted UI (moto has none), so this small WSGI app
plays its four endpoints as Cognito documents them: ``/oauth2/authorize``
redirects straight back with a one-time code (as if the person had signed
in), ``/oauth2/token`` exchanges it only for the verifier whose S256
challenge was sent, ``/oauth2/revoke`` and ``/logout``. It records every
request so the test can check what the site sent.
"""

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response


@dataclass
class FakeHostedUi:
    """The hosted UI of one app client, handing out the given tokens."""

    client_id: str
    tokens: dict[str, str]
    site_origin: str
    authorize_requests: list[dict[str, str]] = field(default_factory=list)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list)
    logouts: list[dict[str, str]] = field(default_factory=list)
    _codes: dict[str, dict[str, str]] = field(default_factory=dict)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.handle(Request(environ))(environ, start_response)

    def handle(self, request: Request) -> Response:
        if request.path == "/oauth2/authorize":
            return self.authorize(request)
        if request.path == "/oauth2/token" and request.method == "POST":
            return self.token(request)
        if request.path == "/oauth2/revoke" and request.method == "POST":
            self.revoked.append(request.form.get("token", ""))
            return self.json({}, 200)
        if request.path == "/logout":
            self.logouts.append(dict(request.args))
            return Response(
                status=302, headers={"Location": request.args["logout_uri"]}
            )
        return self.json({"error": "not_found"}, 404)

    def authorize(self, request: Request) -> Response:
        params = dict(request.args)
        self.authorize_requests.append(params)
        if params.get("client_id") != self.client_id:
            return self.json({"error": "invalid_client"}, 400)
        code = secrets.token_urlsafe(16)
        self._codes[code] = params
        query = urlencode({"code": code, "state": params.get("state", "")})
        return Response(
            status=302, headers={"Location": f"{params['redirect_uri']}?{query}"}
        )

    def token(self, request: Request) -> Response:
        form = dict(request.form)
        self.token_requests.append(form)
        if form.get("grant_type") != "authorization_code":
            return self.json({"error": "unsupported_grant_type"}, 400)
        sent = self._codes.pop(form.get("code", ""), None)
        if sent is None:
            return self.json({"error": "invalid_grant"}, 400)
        digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
        challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        if (
            sent.get("code_challenge_method") != "S256"
            or challenge != sent.get("code_challenge")
            or form.get("redirect_uri") != sent.get("redirect_uri")
            or form.get("client_id") != self.client_id
        ):
            return self.json({"error": "invalid_grant"}, 400)
        return self.json(
            {
                "id_token": self.tokens["IdToken"],
                "access_token": self.tokens["AccessToken"],
                "refresh_token": self.tokens["RefreshToken"],
                "token_type": "Bearer",
                "expires_in": 3600,
            },
            200,
        )

    def json(self, body: dict[str, Any], status: int) -> Response:
        # Cognito's token endpoint answers cross-origin calls from the site.
        return Response(
            json.dumps(body),
            status=status,
            content_type="application/json",
            headers={"Access-Control-Allow-Origin": self.site_origin},
        )

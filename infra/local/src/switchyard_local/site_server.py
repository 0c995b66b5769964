"""Serve ``site/`` as it is, with a ``config.json`` generated for this stack.

On AWS the site's configuration is written at deploy time; here it names the
local API, the user pool and its client, and the moto server as the Cognito
endpoint. There is no hosted UI locally, so no domain is given.
"""

import json
import mimetypes
from pathlib import Path
from typing import Any

from werkzeug.exceptions import NotFound
from werkzeug.security import safe_join
from werkzeug.wrappers import Request, Response


def site_config(
    *, api_url: str, region: str, user_pool_id: str, client_id: str, cognito_url: str
) -> dict[str, Any]:
    """The site's ``config.json`` for a local stack."""
    return {
        "apiUrl": api_url,
        "region": region,
        "userPoolId": user_pool_id,
        "clientId": client_id,
        "cognitoEndpoint": cognito_url,
    }


class SiteApp:
    """Static files from one directory, plus the generated configuration."""

    def __init__(self, root: Path, config: dict[str, Any]) -> None:
        self.root = Path(root)
        self.config = config

    def __call__(self, environ, start_response):
        request = Request(environ)
        return self.handle(request)(environ, start_response)

    def handle(self, request: Request) -> Response:
        path = request.path.lstrip("/") or "index.html"
        if path == "config.json":
            return Response(
                json.dumps(self.config),
                content_type="application/json",
                headers={"Cache-Control": "no-store"},
            )
        target = safe_join(str(self.root), path)
        if target is None:
            return Response("not found", status=404)
        file = Path(target)
        if file.is_dir():
            file = file / "index.html"
        if not file.is_file():
            return Response(NotFound().description, status=404)
        kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        if file.suffix == ".js" or file.suffix == ".mjs":
            kind = "text/javascript"
        return Response(file.read_bytes(), content_type=kind)

"""API Gateway (REST, v1) on 127.0.0.1: routes, the Cognito authorizer, CORS.

Routes come from the REST API definition (``routes_from_openapi``): Lambda
proxy integrations receive API Gateway's v1 proxy event, with the verified
token's claims as strings in ``requestContext.authorizer.claims``; a Kinesis
service integration (``POST /events``) puts the request body on the stream
with ``PutRecord``, as the real integration does, without any Lambda.
The API is served under ``/<stage>`` like an ``execute-api`` URL (and at the
root, for convenience).
"""

import json
import logging
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError
from werkzeug.wrappers import Request, Response

from switchyard_local.authorizer import CognitoAuthorizer, Unauthorized
from switchyard_local.errors import LocalRuntimeError
from switchyard_local.moto_server import ACCOUNT_ID, local_client
from switchyard_local.runner import FunctionRunner
from switchyard_local.templates import function_name

logger = logging.getLogger(__name__)

KINESIS_MAX_RECORD_BYTES = 1024 * 1024
CORS_HEADERS = "Authorization,Content-Type,If-Match,If-None-Match,X-Amz-Date"
_LAMBDA_URI = re.compile(r"functions/(?P<arn>arn:[^/]+)/invocations")
_STREAM = re.compile(r'"StreamName"\s*:\s*"([A-Za-z0-9_.-]+)"')
_KEY_FIELD = re.compile(
    r"\"PartitionKey\"\s*:\s*\"\$input\.path\('\$\.([A-Za-z0-9_]+)'\)"
)


@dataclass
class Route:
    """One method on one resource path, and where it goes."""

    method: str
    path: str
    kind: str
    target: str = ""
    authorized: bool = False
    partition_key_field: str | None = None
    scopes: tuple[str, ...] = ()
    status: int = 200
    response_headers: dict[str, str] = field(default_factory=dict)
    response_template: str | None = None
    _pattern: re.Pattern[str] | None = field(default=None, repr=False)

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if self.method not in ("ANY", method):
            return None
        if self._pattern is None:
            regex = ""
            for part in self.path.strip("/").split("/"):
                if part.startswith("{") and part.endswith("+}"):
                    regex += f"/(?P<{part[1:-2]}>.+)"
                elif part.startswith("{"):
                    regex += f"/(?P<{part[1:-1]}>[^/]+)"
                elif part:
                    regex += "/" + re.escape(part)
            self._pattern = re.compile(f"^{regex or '/'}/?$")
        found = self._pattern.match(path)
        return found.groupdict() if found else None


def routes_from_openapi(document: dict[str, Any]) -> list[Route]:
    """Routes of an OpenAPI (3 or Swagger 2) body with API Gateway extensions."""
    schemes = (
        (document.get("components") or {}).get("securitySchemes")
        or document.get("securityDefinitions")
        or {}
    )
    cognito_schemes = {
        name
        for name, scheme in schemes.items()
        if scheme.get("x-amazon-apigateway-authtype") == "cognito_user_pools"
    }
    default_security = document.get("security") or []
    routes = []
    for path, operations in (document.get("paths") or {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict):
                continue
            verb = method.upper()
            if verb == "X-AMAZON-APIGATEWAY-ANY-METHOD":
                verb = "ANY"
            integration = operation.get("x-amazon-apigateway-integration") or {}
            security = operation.get("security", default_security) or []
            authorized = any(name in cognito_schemes for s in security for name in s)
            route = _route_for(verb, path, integration, authorized)
            if route is not None:
                route.scopes = tuple(
                    scope
                    for requirement in security
                    for name, listed in requirement.items()
                    if name in cognito_schemes
                    for scope in listed or ()
                )
                routes.append(route)
    return routes


def _route_for(
    method: str, path: str, integration: dict[str, Any], authorized: bool
) -> Route | None:
    kind = str(integration.get("type", "")).lower()
    uri = integration.get("uri", "")
    if isinstance(uri, dict):
        uri = json.dumps(uri)
    if kind == "aws_proxy":
        found = _LAMBDA_URI.search(uri)
        if not found:
            return None
        return Route(method, path, "lambda", function_name(found["arn"]), authorized)
    if kind == "aws" and "kinesis" in uri:
        stream, key_field = kinesis_target(integration.get("requestTemplates"))
        return Route(method, path, "kinesis", stream, authorized, key_field)
    if kind == "mock":
        return Route(method, path, "mock", "", authorized)
    return None


def kinesis_target(request_templates: Any) -> tuple[str, str | None]:
    """A Kinesis integration's stream and the body field that is its key.

    Both come from the request templates; the field is None when the key is
    something else (the request id, as in ``api.yaml``).
    """
    text = "\n".join(str(t) for t in (request_templates or {}).values())
    stream = _STREAM.search(text)
    key = _KEY_FIELD.search(text)
    return (stream.group(1) if stream else "", key.group(1) if key else None)


def default_routes(stage: str, stream_name: str) -> list[Route]:
    """The routes of Switchyard's API when no definition is given."""
    user_api = f"switchyard-{stage}-user-api"
    return [
        Route("ANY", "/user", "lambda", user_api, authorized=True),
        Route("ANY", "/user/{proxy+}", "lambda", user_api, authorized=True),
        Route("POST", "/events", "kinesis", stream_name),
    ]


def _json_response(
    status: int, body: dict[str, Any], headers: dict[str, str]
) -> Response:
    return Response(
        json.dumps(body),
        status=status,
        content_type="application/json",
        headers=headers,
    )


class ApiGateway:
    """The WSGI application serving one REST API stage."""

    def __init__(
        self,
        *,
        routes: list[Route],
        runner: FunctionRunner,
        authorizer: CognitoAuthorizer | None,
        moto_url: str,
        stage: str,
        allowed_origins: list[str],
        default_stream: str = "",
    ) -> None:
        self.routes = routes
        self.runner = runner
        self.authorizer = authorizer
        self.stage = stage
        self.allowed_origins = set(allowed_origins)
        self.default_stream = default_stream
        self.api_id = "local" + uuid.uuid4().hex[:5]
        self.kinesis = local_client("kinesis", moto_url)

    def __call__(self, environ, start_response):
        request = Request(environ)
        response = self.handle(request)
        return response(environ, start_response)

    def _cors(self, request: Request) -> dict[str, str]:
        origin = request.headers.get("Origin")
        if origin and (origin in self.allowed_origins or "*" in self.allowed_origins):
            return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
        return {}

    def handle(self, request: Request) -> Response:
        path = request.path
        prefix = f"/{self.stage}"
        if path == prefix or path.startswith(prefix + "/"):
            path = path[len(prefix) :] or "/"
        cors = self._cors(request)

        explicit = any(
            r.method == "OPTIONS" and r.match("OPTIONS", path) is not None
            for r in self.routes
        )
        if request.method == "OPTIONS" and not explicit:
            allowed = sorted(
                {r.method for r in self.routes if r.match(r.method, path) is not None}
            )
            if not allowed:
                return _json_response(
                    403, {"message": "Missing Authentication Token"}, cors
                )
            methods = (
                "DELETE,GET,HEAD,OPTIONS,PATCH,POST,PUT"
                if "ANY" in allowed
                else (",".join([*allowed, "OPTIONS"]))
            )
            headers = {
                **cors,
                "Access-Control-Allow-Methods": methods,
                "Access-Control-Allow-Headers": CORS_HEADERS,
                "Access-Control-Max-Age": "600",
            }
            return Response(b"", status=204 if cors else 200, headers=headers)

        for route in self.routes:
            parameters = route.match(request.method, path)
            if parameters is None:
                continue
            claims = None
            if route.authorized:
                if self.authorizer is None:
                    return _json_response(500, {"message": "no authorizer"}, cors)
                try:
                    claims = self.authorizer.verify(
                        request.headers.get("Authorization"), route.scopes
                    )
                except Unauthorized as exc:
                    logger.warning("401 for %s %s: %s", request.method, path, exc)
                    return _json_response(401, {"message": "Unauthorized"}, cors)
            if route.kind == "lambda":
                return self._lambda(request, route, path, parameters, claims)
            if route.kind == "kinesis":
                return self._kinesis(request, route, cors)
            return self._mapped(route, {}, cors)
        # API Gateway's answer for a path or method it does not know.
        return _json_response(403, {"message": "Missing Authentication Token"}, cors)

    def proxy_event(
        self,
        request: Request,
        route: Route,
        path: str,
        parameters: dict[str, str],
        claims: dict[str, Any] | None,
    ) -> dict[str, Any]:
        """API Gateway's REST (v1) Lambda proxy event for one request."""
        headers = dict(request.headers.items())
        multi_headers: dict[str, list[str]] = {}
        for name, value in request.headers.items():
            multi_headers.setdefault(name, []).append(value)
        query = {k: v for k, v in request.args.items()} or None
        multi_query = {k: request.args.getlist(k) for k in request.args} or None
        now = datetime.now(UTC)
        body = request.get_data(as_text=True)
        context: dict[str, Any] = {
            "resourceId": "local",
            "resourcePath": route.path,
            "httpMethod": request.method,
            "extendedRequestId": uuid.uuid4().hex[:16],
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "path": f"/{self.stage}{path}",
            "accountId": ACCOUNT_ID,
            "protocol": "HTTP/1.1",
            "stage": self.stage,
            "domainPrefix": self.api_id,
            "requestTimeEpoch": int(time.time() * 1000),
            "requestId": str(uuid.uuid4()),
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "sourceIp": request.remote_addr or "127.0.0.1",
                "principalOrgId": None,
                "accessKey": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": request.headers.get("User-Agent", ""),
                "user": None,
            },
            "domainName": request.host,
            "apiId": self.api_id,
        }
        if claims is not None:
            context["authorizer"] = {"claims": CognitoAuthorizer.as_strings(claims)}
        return {
            "resource": route.path,
            "path": path,
            "httpMethod": request.method,
            "headers": headers or None,
            "multiValueHeaders": multi_headers or None,
            "queryStringParameters": query,
            "multiValueQueryStringParameters": multi_query,
            "pathParameters": parameters or None,
            "stageVariables": None,
            "requestContext": context,
            "body": body or None,
            "isBase64Encoded": False,
        }

    def _lambda(self, request, route, path, parameters, claims) -> Response:
        event = self.proxy_event(request, route, path, parameters, claims)
        try:
            result = self.runner.invoke(route.target, json.dumps(event).encode())
        except LocalRuntimeError as exc:
            logger.error("integration %s: %s", route.target, exc)
            return _json_response(500, {"message": "Internal server error"}, {})
        try:
            answer = result.json() if result.ok else None
        except ValueError:
            answer = None
        if not isinstance(answer, dict) or "statusCode" not in answer:
            # API Gateway's answer to an error or a malformed proxy response.
            return _json_response(502, {"message": "Internal server error"}, {})
        headers: list[tuple[str, str]] = list((answer.get("headers") or {}).items())
        for name, values in (answer.get("multiValueHeaders") or {}).items():
            headers.extend((name, v) for v in values)
        body = answer.get("body") or ""
        if answer.get("isBase64Encoded"):
            import base64

            data = base64.b64decode(body)
        else:
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        return Response(data, status=int(answer["statusCode"]), headers=headers)

    def _kinesis(
        self, request: Request, route: Route, cors: dict[str, str]
    ) -> Response:
        data = request.get_data()
        try:
            document = json.loads(data)
        except ValueError:
            return _json_response(400, {"message": "Invalid request body"}, cors)
        if not isinstance(document, dict):
            return _json_response(400, {"message": "Invalid request body"}, cors)
        # Like the template's mapping: the key is $context.requestId unless a
        # body field is named.
        request_id = str(uuid.uuid4())
        partition_key = None
        if route.partition_key_field:
            partition_key = document.get(route.partition_key_field)
        partition_key = str(partition_key or request_id)
        # Kinesis refuses a record over 1 MiB with a 4xx, which the template's
        # integration responses map to 400; moto does not enforce the limit.
        if len(data) > KINESIS_MAX_RECORD_BYTES:
            logger.warning("400 /events: body of %d bytes is over 1 MiB", len(data))
            return _json_response(400, {"message": "the event was refused"}, cors)
        try:
            answer = self.kinesis.put_record(
                StreamName=route.target or self.default_stream,
                Data=data,
                PartitionKey=partition_key,
            )
        except ClientError as exc:
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 500)
            logger.error("PutRecord to %s: %s", route.target, exc)
            if 400 <= int(status) < 500:
                return _json_response(400, {"message": "the event was refused"}, cors)
            return _json_response(
                502, {"message": "the events stream is unavailable"}, cors
            )
        return self._mapped(route, answer, cors, request_id)

    def _mapped(
        self,
        route: Route,
        answer: dict[str, Any],
        cors: dict[str, str],
        request_id: str | None = None,
    ) -> Response:
        """A non-proxy integration's answer through its response mapping."""
        headers = {**route.response_headers, **cors}
        if route.response_template is None:
            body = json.dumps(
                {k: answer[k] for k in ("SequenceNumber", "ShardId") if k in answer}
            )
        else:
            body = route.response_template.replace(
                "$context.requestId", request_id or str(uuid.uuid4())
            )
        return Response(
            body if route.status != 204 else b"",
            status=route.status,
            headers=headers,
            content_type="application/json",
        )

"""Routes of the REST API from its CloudFormation template (``api.yaml``).

Two ways a REST API is written are read: ``AWS::ApiGateway::Method``
resources on a tree of ``AWS::ApiGateway::Resource`` (what ``api.yaml``
holds), and an OpenAPI ``Body`` on the ``AWS::ApiGateway::RestApi``.
Integrations understood: ``AWS_PROXY`` to a Lambda function, ``AWS`` to
Kinesis ``PutRecord``, and ``MOCK`` (CORS preflight answers).
"""

import re
from typing import Any

from switchyard_local.apigateway import Route, kinesis_target, routes_from_openapi
from switchyard_local.errors import TemplateError
from switchyard_local.moto_server import ACCOUNT_ID
from switchyard_local.templates import Resolver, function_name

_LAMBDA_URI = re.compile(r"functions/(?P<arn>arn:[^/]+)/invocations")


def _header_value(value: Any) -> str:
    """``'text'`` (a static mapping value) as ``text``."""
    text = str(value)
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == "'" else text


def routes_from_template(
    template: dict[str, Any],
    parameters: dict[str, str],
    exports: dict[str, str],
    stack_name: str,
) -> list[Route]:
    """Every route of the template's REST API."""
    resources = template.get("Resources") or {}
    declared = template.get("Parameters") or {}
    physical = {
        logical_id: {
            "Ref": logical_id,
            "Arn": f"arn:aws:iam::{ACCOUNT_ID}:role/{logical_id}",
            "RootResourceId": "root",
        }
        for logical_id in resources
    }
    resolver = Resolver(
        template,
        {k: v for k, v in parameters.items() if k in declared},
        exports,
        stack_name,
        physical,
    )

    routes: list[Route] = []
    for resource in resources.values():
        body = (resource.get("Properties") or {}).get("Body")
        if resource.get("Type") == "AWS::ApiGateway::RestApi" and body:
            routes.extend(routes_from_openapi(resolver.resolve(body)))

    for resource in resources.values():
        if resource.get("Type") != "AWS::ApiGateway::Method":
            continue
        props = resource.get("Properties") or {}
        path = _path(resources, props.get("ResourceId"))
        integration = resolver.resolve(props.get("Integration") or {})
        authorized = props.get("AuthorizationType") == "COGNITO_USER_POOLS"
        route = _method_route(
            props["HttpMethod"].upper(), path, integration, authorized
        )
        if route is not None:
            route.scopes = tuple(resolver.resolve(props.get("AuthorizationScopes", [])))
            routes.append(route)
    return routes


def _path(resources: dict[str, Any], reference: Any) -> str:
    parts: list[str] = []
    seen = 0
    while isinstance(reference, dict) and "Ref" in reference and seen < 50:
        seen += 1
        resource = resources.get(reference["Ref"]) or {}
        if resource.get("Type") != "AWS::ApiGateway::Resource":
            break
        props = resource.get("Properties") or {}
        parts.insert(0, str(props["PathPart"]))
        reference = props.get("ParentId")
    return "/" + "/".join(parts)


def _method_route(
    method: str, path: str, integration: dict[str, Any], authorized: bool
) -> Route | None:
    kind = str(integration.get("Type", "")).upper()
    uri = str(integration.get("Uri", ""))
    if kind == "AWS_PROXY":
        found = _LAMBDA_URI.search(uri)
        if not found:
            raise TemplateError(f"{method} {path}: Lambda integration URI {uri!r}")
        return Route(method, path, "lambda", function_name(found["arn"]), authorized)

    responses = integration.get("IntegrationResponses") or []
    first = responses[0] if responses else {}
    headers = {
        name.removeprefix("method.response.header."): _header_value(value)
        for name, value in (first.get("ResponseParameters") or {}).items()
    }
    template = (first.get("ResponseTemplates") or {}).get("application/json")
    status = int(first.get("StatusCode", 200))
    if kind == "AWS" and ":kinesis:action/PutRecord" in uri:
        stream, key_field = kinesis_target(integration.get("RequestTemplates"))
        return Route(
            method,
            path,
            "kinesis",
            stream,
            authorized,
            key_field,
            status=status,
            response_headers=headers,
            response_template=template,
        )
    if kind == "MOCK":
        return Route(
            method,
            path,
            "mock",
            authorized=authorized,
            status=status,
            response_headers=headers,
            response_template=template,
        )
    return None

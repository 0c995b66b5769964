"""Schema-driven fuzzing: every response is one the OpenAPI document allows.

Schemathesis generates requests from ``openapi.yaml`` (valid and invalid
ones) and sends them through a WSGI adapter that plays API Gateway: it
turns the request into a REST API proxy event, with the Cognito claims of a
fixed user when an Authorization header came (the authorizer's job), and
calls the handler. No response may be a 500, and each must match the
documented status codes, headers, content type and schema.

The document is OpenAPI 3.0, whose schemas cannot restrict property names;
it states those rules as ``x-propertyNames``, promoted here to JSON
Schema's ``propertyNames`` so the generator honours them.

``positive_data_acceptance`` is left out on purpose: some bodies valid by
the schema are still refused by rules JSON Schema cannot say (at most 38
significant digits, the 400 KB item size, 16 levels of nesting).
"""

import base64
import uuid
from importlib import resources
from typing import Any

import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from user_api.handler import handler

pytestmark = pytest.mark.functional

FUZZ_SUB = "00000000-0000-4000-8000-00000000f022"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


def promote_property_names(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            ("propertyNames" if key == "x-propertyNames" else key): (
                promote_property_names(value)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [promote_property_names(item) for item in node]
    return node


DOCUMENT = yaml.safe_load(
    resources.files("user_api").joinpath("openapi.yaml").read_text(encoding="utf-8")
)
schema = schemathesis.openapi.from_dict(promote_property_names(DOCUMENT))


def api_gateway(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """A WSGI app that hands each request to the handler as API Gateway would."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(length) if length else b""
    headers = {
        key[5:].replace("_", "-").title(): value
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    if environ.get("CONTENT_TYPE"):
        headers["Content-Type"] = environ["CONTENT_TYPE"]

    try:
        body, encoded = (raw.decode("utf-8"), False) if raw else (None, False)
    except UnicodeDecodeError:
        body, encoded = base64.b64encode(raw).decode("ascii"), True
    claims = (
        {"sub": FUZZ_SUB, "email": "fuzz@example.com", "token_use": "id"}
        if "Authorization" in headers
        else None
    )
    event = {
        "resource": "/user",
        "path": environ.get("PATH_INFO", "/user"),
        "httpMethod": environ["REQUEST_METHOD"],
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": None,
        "body": body,
        "isBase64Encoded": encoded,
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "authorizer": {"claims": claims},
        },
    }

    result = handler(event, None)

    status = result["statusCode"]
    start_response(f"{status} Status", list(result["headers"].items()))
    return [result["body"].encode("utf-8")]


@pytest.fixture
def fuzz_table(users_table: Any) -> Any:
    """The table holding a profile for the fuzzing user, so reads succeed too."""
    users_table.put_item(
        TableName="switchyard-test-users",
        Item={
            "user_id": {"S": FUZZ_SUB},
            "version": {"S": "seed"},
            "status": {"S": "active"},
            "height": {"N": "30.4"},
            "tags": {"L": [{"S": "a"}, {"NULL": True}, {"M": {"k": {"BOOL": True}}}]},
        },
    )
    return users_table


@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_response_is_documented_and_none_is_a_500(case, fuzz_table) -> None:
    case.call_and_validate(app=api_gateway, checks=CHECKS)

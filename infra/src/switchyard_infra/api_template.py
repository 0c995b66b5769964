"""Generate infra/templates/api.yaml from the user-api's OpenAPI document.

The OpenAPI document, owned by the user-api, is the one description of the
REST API. This module turns it into plain CloudFormation resources (one
``AWS::ApiGateway::Resource`` per path segment, one ``Method`` per operation)
rather than a ``RestApi`` ``Body``: moto and the local runtime read explicit
resources, and cfn-lint checks each of them. Every user-api operation is a
Lambda proxy integration behind the Cognito authorizer (an operation with
``security: []`` is public); preflight ``OPTIONS`` goes to the function
unauthenticated, as the user-api answers CORS itself. ``/events`` is added
here, not taken from the document: a Kinesis ``PutRecord`` service
integration whose mapping template wraps the request body, base64, as the
record's data, with the request id as partition key.

The generated file is checked in; ``--check`` (and a test) fails when it is
out of date with the document. Run ``python -m switchyard_infra.api_template``
to regenerate it.
"""

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

from switchyard_infra.errors import TemplateError
from switchyard_infra.paths import REPO_ROOT, TEMPLATES_DIR

OPENAPI_DIR = REPO_ROOT / "services" / "user-api" / "src" / "user_api"
OPENAPI_NAMES = ("openapi.yaml", "openapi.yml", "openapi.json")
API_TEMPLATE = TEMPLATES_DIR / "api.yaml"
HTTP_METHODS = ("get", "put", "post", "patch", "delete", "head")
EVENTS_PATH = "/events"

# Used only until the user-api ships its document: the /user resource of
# docs/contracts.md with the methods a profile API needs.
PLACEHOLDER_OPENAPI: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Switchyard user API (placeholder)", "version": "0"},
    "paths": {
        "/user": {
            "get": {"summary": "Read the caller's profile"},
            "put": {"summary": "Create or replace the caller's profile"},
            "delete": {"summary": "Delete the caller's profile"},
        }
    },
}


def find_openapi(directory: Path = OPENAPI_DIR) -> Path | None:
    """The user-api's OpenAPI document, or None while it does not exist."""
    for name in OPENAPI_NAMES:
        if (directory / name).is_file():
            return directory / name
    return None


def load_openapi(path: Path | None) -> dict[str, Any]:
    """The OpenAPI document at path (YAML or JSON), or the placeholder."""
    if path is None:
        return PLACEHOLDER_OPENAPI
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise TemplateError(f"cannot read the OpenAPI document {path}: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("paths"), dict):
        raise TemplateError(f"{path} has no 'paths' object; is it OpenAPI?")
    return document


def _logical_name(segment: str) -> str:
    words = re.split(r"[^A-Za-z0-9]+", segment)
    return "".join(word[:1].upper() + word[1:] for word in words if word)


def _sub(text: str) -> dict[str, Any]:
    return {"Fn::Sub": text}


def _import(output: str) -> dict[str, Any]:
    return {"Fn::ImportValue": _sub("switchyard-${Stage}-" + output)}


def _cors_origin_header() -> dict[str, Any]:
    return {"method.response.header.Access-Control-Allow-Origin": True}


class _Builder:
    def __init__(self) -> None:
        self.resources: dict[str, Any] = {}
        self.methods: list[str] = []
        # path ("/user/{id}") -> logical id of its AWS::ApiGateway::Resource
        self.path_ids: dict[str, str] = {}

    def resource_for(self, path: str) -> dict[str, Any]:
        """A Ref to the API resource of path, creating its parents too."""
        if path == "/":
            return {"Fn::GetAtt": ["RestApi", "RootResourceId"]}
        if path not in self.path_ids:
            parent, _, part = path.rstrip("/").rpartition("/")
            parent_ref = self.resource_for(parent or "/")
            logical_id = "".join(_logical_name(s) for s in path.split("/")) or "Root"
            logical_id += "Resource"
            if logical_id in self.resources:
                raise TemplateError(
                    f"paths {path!r} and another path map to the same resource "
                    f"id {logical_id}; rename one of them"
                )
            self.resources[logical_id] = {
                "Type": "AWS::ApiGateway::Resource",
                "Properties": {
                    "RestApiId": {"Ref": "RestApi"},
                    "ParentId": parent_ref,
                    "PathPart": part,
                },
            }
            self.path_ids[path] = logical_id
        return {"Ref": self.path_ids[path]}

    def add_method(self, path: str, method: str, spec: dict[str, Any]) -> None:
        logical_id = (
            "".join(_logical_name(s) for s in path.split("/")) + method.capitalize()
        )
        logical_id = (logical_id or "Root") + "Method"
        self.resources[logical_id] = {"Type": "AWS::ApiGateway::Method", **spec}
        self.methods.append(logical_id)

    def user_api_method(self, path: str, method: str, public: bool) -> None:
        properties: dict[str, Any] = {
            "RestApiId": {"Ref": "RestApi"},
            "ResourceId": self.resource_for(path),
            "HttpMethod": method.upper(),
            "AuthorizationType": "NONE" if public else "COGNITO_USER_POOLS",
            "Integration": {
                "Type": "AWS_PROXY",
                "IntegrationHttpMethod": "POST",
                "Uri": _sub(
                    "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/"
                    "2015-03-31/functions/${UserApiFunctionArn}/invocations"
                ),
            },
        }
        if not public:
            properties["AuthorizerId"] = {"Ref": "CognitoAuthorizer"}
        self.add_method(path, method, {"Properties": properties})


def _user_api_template_parts(builder: _Builder, openapi: dict[str, Any]) -> None:
    default_security = openapi.get("security")
    for path in sorted(openapi["paths"]):
        if path == EVENTS_PATH:
            continue
        operations = openapi["paths"][path] or {}
        for method in HTTP_METHODS:
            if method not in operations:
                continue
            security = (operations[method] or {}).get("security", default_security)
            builder.user_api_method(path, method, public=security == [])
        # Browsers send preflight requests without credentials.
        builder.user_api_method(path, "options", public=True)


def _events_parts(builder: _Builder) -> None:
    resource = builder.resource_for(EVENTS_PATH)
    request_template = _sub(
        '{"StreamName": "${EventsStreamName}", '
        '"Data": "$util.base64Encode($input.body)", '
        '"PartitionKey": "$context.requestId"}'
    )
    cors = {
        "method.response.header.Access-Control-Allow-Origin": _sub("'${SiteOrigin}'")
    }
    builder.add_method(
        EVENTS_PATH,
        "post",
        {
            "Properties": {
                "RestApiId": {"Ref": "RestApi"},
                "ResourceId": resource,
                "HttpMethod": "POST",
                "AuthorizationType": "COGNITO_USER_POOLS",
                "AuthorizerId": {"Ref": "CognitoAuthorizer"},
                "RequestValidatorId": {"Ref": "BodyValidator"},
                "RequestModels": {"application/json": {"Ref": "EventModel"}},
                "Integration": {
                    "Type": "AWS",
                    "IntegrationHttpMethod": "POST",
                    "Uri": _sub(
                        "arn:${AWS::Partition}:apigateway:${AWS::Region}"
                        ":kinesis:action/PutRecord"
                    ),
                    "Credentials": {"Fn::GetAtt": ["EventsApiRole", "Arn"]},
                    "PassthroughBehavior": "NEVER",
                    "RequestParameters": {
                        "integration.request.header.Content-Type": (
                            "'application/x-amz-json-1.1'"
                        )
                    },
                    "RequestTemplates": {"application/json": request_template},
                    "IntegrationResponses": [
                        {
                            "StatusCode": "200",
                            "ResponseParameters": cors,
                            "ResponseTemplates": {
                                "application/json": (
                                    '{"accepted": true, "request_id": '
                                    '"$context.requestId"}'
                                )
                            },
                        },
                        {
                            "StatusCode": "400",
                            "SelectionPattern": "4\\d{2}",
                            "ResponseParameters": cors,
                            "ResponseTemplates": {
                                "application/json": (
                                    '{"message": "the event was refused"}'
                                )
                            },
                        },
                        {
                            "StatusCode": "502",
                            "SelectionPattern": "5\\d{2}",
                            "ResponseParameters": cors,
                            "ResponseTemplates": {
                                "application/json": (
                                    '{"message": "the events stream is unavailable"}'
                                )
                            },
                        },
                    ],
                },
                "MethodResponses": [
                    {"StatusCode": code, "ResponseParameters": _cors_origin_header()}
                    for code in ("200", "400", "502")
                ],
            }
        },
    )
    builder.add_method(
        EVENTS_PATH,
        "options",
        {
            "Properties": {
                "RestApiId": {"Ref": "RestApi"},
                "ResourceId": resource,
                "HttpMethod": "OPTIONS",
                "AuthorizationType": "NONE",
                "Integration": {
                    "Type": "MOCK",
                    "RequestTemplates": {"application/json": '{"statusCode": 200}'},
                    "IntegrationResponses": [
                        {
                            "StatusCode": "204",
                            "ResponseParameters": {
                                **cors,
                                "method.response.header.Access-Control-Allow-Methods": (
                                    "'OPTIONS,POST'"
                                ),
                                "method.response.header.Access-Control-Allow-Headers": (
                                    "'Authorization,Content-Type'"
                                ),
                                "method.response.header.Access-Control-Max-Age": (
                                    "'600'"
                                ),
                            },
                        }
                    ],
                },
                "MethodResponses": [
                    {
                        "StatusCode": "204",
                        "ResponseParameters": {
                            "method.response.header.Access-Control-Allow-Origin": True,
                            "method.response.header.Access-Control-Allow-Methods": True,
                            "method.response.header.Access-Control-Allow-Headers": True,
                            "method.response.header.Access-Control-Max-Age": True,
                        },
                    }
                ],
            }
        },
    )


def _fixed_resources() -> dict[str, Any]:
    cors_header = {
        "gatewayresponse.header.Access-Control-Allow-Origin": _sub("'${SiteOrigin}'")
    }
    return {
        "RestApi": {
            "Type": "AWS::ApiGateway::RestApi",
            "Properties": {
                "Name": _sub("switchyard-${Stage}-api"),
                "Description": "Switchyard: /user (user-api) and /events (Kinesis).",
                "EndpointConfiguration": {"Types": ["REGIONAL"]},
            },
        },
        "CognitoAuthorizer": {
            "Type": "AWS::ApiGateway::Authorizer",
            "Properties": {
                "Name": "cognito",
                "RestApiId": {"Ref": "RestApi"},
                "Type": "COGNITO_USER_POOLS",
                "IdentitySource": "method.request.header.Authorization",
                "ProviderARNs": [_import("UserPoolArn")],
            },
        },
        "BodyValidator": {
            "Type": "AWS::ApiGateway::RequestValidator",
            "Properties": {
                "Name": "body",
                "RestApiId": {"Ref": "RestApi"},
                "ValidateRequestBody": True,
                "ValidateRequestParameters": False,
            },
        },
        "EventModel": {
            "Type": "AWS::ApiGateway::Model",
            "Properties": {
                "Name": "Event",
                "RestApiId": {"Ref": "RestApi"},
                "ContentType": "application/json",
                "Schema": {
                    "$schema": "http://json-schema.org/draft-04/schema#",
                    "title": "Event",
                    "description": "Any JSON object; the router reads it.",
                    "type": "object",
                },
            },
        },
        "EventsApiRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "Description": _sub(
                    "switchyard-${Stage}-api puts /events on the stream"
                ),
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "apigateway.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                },
                "Policies": [
                    {
                        "PolicyName": "put-events",
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [
                                {
                                    "Sid": "PutEvents",
                                    "Effect": "Allow",
                                    "Action": ["kinesis:PutRecord"],
                                    "Resource": _import("EventsStreamArn"),
                                }
                            ],
                        },
                    }
                ],
            },
        },
        "UserApiInvokePermission": {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "Action": "lambda:InvokeFunction",
                "FunctionName": _import("UserApiFunctionArn"),
                "Principal": "apigateway.amazonaws.com",
                "SourceArn": _sub(
                    "arn:${AWS::Partition}:execute-api:${AWS::Region}"
                    ":${AWS::AccountId}:${RestApi}/*"
                ),
            },
        },
        "Default4xxResponse": {
            "Type": "AWS::ApiGateway::GatewayResponse",
            "Properties": {
                "RestApiId": {"Ref": "RestApi"},
                "ResponseType": "DEFAULT_4XX",
                "ResponseParameters": cors_header,
            },
        },
        "Default5xxResponse": {
            "Type": "AWS::ApiGateway::GatewayResponse",
            "Properties": {
                "RestApiId": {"Ref": "RestApi"},
                "ResponseType": "DEFAULT_5XX",
                "ResponseParameters": cors_header,
            },
        },
    }


def render(openapi: dict[str, Any], source: str) -> dict[str, Any]:
    """The api.yaml template (as dicts) for an OpenAPI document."""
    builder = _Builder()
    builder.resources.update(_fixed_resources())
    _user_api_template_parts(builder, openapi)
    _events_parts(builder)

    # A Deployment is immutable: CloudFormation makes a new one only when its
    # logical id changes, so the id carries a digest of the methods it serves.
    digest = hashlib.sha256(
        json.dumps(builder.resources, sort_keys=True).encode()
    ).hexdigest()[:10]
    deployment_id = f"Deployment{digest}"
    resources = dict(builder.resources)
    resources[deployment_id] = {
        "Type": "AWS::ApiGateway::Deployment",
        "DependsOn": sorted(builder.methods),
        "Properties": {
            "RestApiId": {"Ref": "RestApi"},
            "Description": f"Methods digest {digest}",
        },
    }
    resources["ApiStage"] = {
        "Type": "AWS::ApiGateway::Stage",
        "Properties": {
            "RestApiId": {"Ref": "RestApi"},
            "DeploymentId": {"Ref": deployment_id},
            "StageName": {"Ref": "Stage"},
            "MethodSettings": [
                {
                    "ResourcePath": "/*",
                    "HttpMethod": "*",
                    "ThrottlingBurstLimit": {"Ref": "ThrottlingBurstLimit"},
                    "ThrottlingRateLimit": {"Ref": "ThrottlingRateLimit"},
                }
            ],
        },
    }
    resources["Api5xxAlarm"] = {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmName": _sub("switchyard-${Stage}-api-5xx"),
            "AlarmDescription": "The REST API answered 5xx (user-api or Kinesis).",
            "Namespace": "AWS/ApiGateway",
            "MetricName": "5XXError",
            "Dimensions": [
                {"Name": "ApiName", "Value": _sub("switchyard-${Stage}-api")},
                {"Name": "Stage", "Value": {"Ref": "Stage"}},
            ],
            "Statistic": "Sum",
            "Period": 300,
            "EvaluationPeriods": 1,
            "Threshold": 0,
            "ComparisonOperator": "GreaterThanThreshold",
            "TreatMissingData": "notBreaching",
            "AlarmActions": [_import("AlarmTopicArn")],
        },
    }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": (
            "Switchyard REST API: /user (user-api, Cognito authorizer) and /events "
            f"(Kinesis PutRecord). Generated from {source} by "
            "python -m switchyard_infra.api_template; do not edit by hand."
        ),
        "Parameters": {
            "Stage": {
                "Type": "String",
                "Default": "dev",
                "AllowedPattern": "^[a-z][a-z0-9-]{0,19}$",
                "Description": "Stage name; the shared and user-api stacks must exist.",
            },
            "SiteOrigin": {
                "Type": "String",
                "Default": "http://localhost:8000",
                "Description": "Origin of the site, for CORS on /events and errors.",
            },
            "ThrottlingBurstLimit": {"Type": "Number", "Default": 100, "MinValue": 1},
            "ThrottlingRateLimit": {"Type": "Number", "Default": 50, "MinValue": 1},
        },
        "Resources": _with_sub_values(resources),
        "Outputs": {
            "ApiId": {
                "Value": {"Ref": "RestApi"},
                "Export": {"Name": _sub("switchyard-${Stage}-ApiId")},
            },
            "ApiUrl": {
                "Value": _sub(
                    "https://${RestApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"
                    "/${Stage}"
                ),
                "Export": {"Name": _sub("switchyard-${Stage}-ApiUrl")},
            },
        },
    }


def _with_sub_values(resources: dict[str, Any]) -> dict[str, Any]:
    """Give the Fn::Sub strings that name imports their variable maps."""
    variables = {
        "UserApiFunctionArn": _import("UserApiFunctionArn"),
        "EventsStreamName": _import("EventsStreamName"),
    }

    def visit(value: Any) -> Any:
        if isinstance(value, list):
            return [visit(v) for v in value]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
            text = value["Fn::Sub"]
            used = {k: v for k, v in variables.items() if "${" + k + "}" in text}
            return {"Fn::Sub": [text, used]} if used else value
        return {k: visit(v) for k, v in value.items()}

    return visit(resources)


def render_text(openapi_path: Path | None) -> str:
    """The exact text of api.yaml for the document at openapi_path."""
    source = (
        openapi_path.relative_to(REPO_ROOT).as_posix()
        if openapi_path is not None
        else "a placeholder (the user-api has no OpenAPI document yet)"
    )
    template = render(load_openapi(openapi_path), source)
    header = (
        "# Generated by `python -m switchyard_infra.api_template`; do not edit.\n"
        "# Source: " + source + "\n"
    )
    return header + yaml.dump(template, Dumper=_PlainDumper, sort_keys=False, width=88)


class _PlainDumper(yaml.SafeDumper):
    """Writes repeated values in full: CloudFormation rejects YAML aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 1 if api.yaml is out of date instead of writing it",
    )
    args = parser.parse_args(argv)
    text = render_text(find_openapi())
    current = API_TEMPLATE.read_text(encoding="utf-8") if API_TEMPLATE.exists() else ""
    if args.check:
        if current != text:
            print(f"{API_TEMPLATE} is out of date; run python -m {__spec__.name}")
            return 1
        return 0
    if current != text:
        API_TEMPLATE.write_text(text, encoding="utf-8")
        print(f"wrote {API_TEMPLATE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

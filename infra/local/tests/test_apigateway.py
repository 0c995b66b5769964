"""API Gateway: routes from api.yaml, the proxy event, 401s, CORS, /events."""

import json
from pathlib import Path

import pytest
from werkzeug.test import Client

from switchyard_local.api_definition import routes_from_template
from switchyard_local.apigateway import ApiGateway, Route, routes_from_openapi
from switchyard_local.authorizer import Unauthorized
from switchyard_local.templates import load_template

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
ORIGIN = "http://127.0.0.1:8000"


class TokenIsTheSub:
    """Stands in for the Cognito authorizer (tested on its own)."""

    def __init__(self):
        self.scopes_seen = []

    def verify(self, authorization, scopes=()):
        self.scopes_seen.append(scopes)
        if not authorization or not authorization.startswith("Bearer "):
            raise Unauthorized("no token")
        return {"sub": authorization[7:], "token_use": "id", "exp": 1718722804}


@pytest.mark.unit
def test_routes_come_from_the_api_template():
    exports = {
        "switchyard-t-UserApiFunctionArn": (
            "arn:aws:lambda:us-east-1:123456789012:function:switchyard-t-user-api"
        ),
        "switchyard-t-EventsStreamName": "switchyard-t-events",
        "switchyard-t-EventsStreamArn": "arn:aws:kinesis:us-east-1:1:stream/e",
        "switchyard-t-UserPoolArn": "arn:aws:cognito-idp:us-east-1:1:userpool/p",
    }

    routes = routes_from_template(
        load_template(TEMPLATES / "api.yaml"),
        {"Stage": "t", "SiteOrigin": ORIGIN},
        exports,
        "api",
    )

    found = {(r.method, r.path): r for r in routes}
    assert found[("GET", "/user")].kind == "lambda"
    assert found[("GET", "/user")].target == "switchyard-t-user-api"
    assert found[("GET", "/user")].authorized
    events = found[("POST", "/events")]
    assert (events.kind, events.target) == ("kinesis", "switchyard-t-events")
    preflight = found[("OPTIONS", "/events")]
    assert preflight.kind == "mock"
    assert preflight.response_headers["Access-Control-Allow-Origin"] == ORIGIN


@pytest.fixture
def gateway(aws_server, aws_client, runner, add_sample):
    aws_client("kinesis", aws_server).create_stream(StreamName="ev", ShardCount=1)
    add_sample(runner, "proxy_echo", aws_server, name="api-fn")
    routes = [
        Route("GET", "/user", "lambda", "api-fn", authorized=True),
        Route("GET", "/scoped", "lambda", "api-fn", authorized=True, scopes=("a/b",)),
        Route("GET", "/open/{id}", "lambda", "api-fn"),
        Route("POST", "/events", "kinesis", "ev", authorized=True),
    ]
    app = ApiGateway(
        routes=routes,
        runner=runner,
        authorizer=TokenIsTheSub(),
        moto_url=aws_server,
        stage="local",
        allowed_origins=[ORIGIN],
    )
    return Client(app)


@pytest.mark.functional
def test_function_gets_a_v1_proxy_event_with_claims_as_strings(gateway):
    response = gateway.get(
        "/local/user?x=1&x=2", headers={"Authorization": "Bearer user-1"}
    )

    assert response.status_code == 200
    event = response.get_json()["event"]
    assert event["resource"] == "/user"
    assert event["path"] == "/user"
    assert event["httpMethod"] == "GET"
    assert event["multiValueQueryStringParameters"] == {"x": ["1", "2"]}
    assert event["requestContext"]["stage"] == "local"
    assert event["requestContext"]["path"] == "/local/user"
    claims = event["requestContext"]["authorizer"]["claims"]
    assert claims == {
        "sub": "user-1",
        "token_use": "id",
        "exp": "Tue Jun 18 15:00:04 UTC 2024",
    }


@pytest.mark.functional
def test_the_gateway_checks_each_token_against_its_methods_scopes(gateway):
    gateway.get("/local/user", headers={"Authorization": "Bearer user-1"})
    gateway.get("/local/scoped", headers={"Authorization": "Bearer user-1"})

    assert gateway.application.authorizer.scopes_seen == [(), ("a/b",)]


@pytest.mark.functional
def test_path_parameters_are_passed(gateway):
    response = gateway.get("/local/open/42")

    assert response.get_json()["event"]["pathParameters"] == {"id": "42"}


@pytest.mark.functional
def test_request_without_token_gets_401_json_and_never_reaches_the_function(
    gateway, log_lines
):
    response = gateway.get("/local/user", headers={"Origin": ORIGIN})

    assert response.status_code == 401
    assert response.get_json() == {"message": "Unauthorized"}
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert not log_lines.lines


@pytest.mark.functional
def test_preflight_answers_cors_for_the_site_origin(gateway):
    response = gateway.open(
        "/local/user",
        method="OPTIONS",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"},
    )

    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "GET" in response.headers["Access-Control-Allow-Methods"]
    assert "Authorization" in response.headers["Access-Control-Allow-Headers"]


@pytest.mark.functional
def test_unknown_path_is_missing_authentication_token(gateway):
    response = gateway.get("/local/nothing")

    assert response.status_code == 403
    assert response.get_json() == {"message": "Missing Authentication Token"}


@pytest.mark.functional
def test_post_events_puts_the_body_on_the_stream(gateway, aws_server, aws_client):
    body = {"id": "e1", "type": "PushEvent"}

    response = gateway.post(
        "/local/events", json=body, headers={"Authorization": "Bearer u"}
    )

    assert response.status_code == 200
    kinesis = aws_client("kinesis", aws_server)
    iterator = kinesis.get_shard_iterator(
        StreamName="ev",
        ShardId="shardId-000000000000",
        ShardIteratorType="TRIM_HORIZON",
    )["ShardIterator"]
    (record,) = kinesis.get_records(ShardIterator=iterator)["Records"]
    assert json.loads(record["Data"]) == body


@pytest.mark.functional
def test_post_events_refuses_a_body_that_is_not_a_json_object(gateway):
    response = gateway.post(
        "/local/events", data=b"[1, 2]", headers={"Authorization": "Bearer u"}
    )

    assert response.status_code == 400


@pytest.mark.functional
def test_post_events_refuses_a_body_over_a_kinesis_record(gateway):
    # Kinesis takes at most 1 MiB a record; the integration maps its 4xx to 400.
    body = json.dumps({"pad": "x" * (1024 * 1024)}).encode()

    response = gateway.post(
        "/local/events", data=body, headers={"Authorization": "Bearer u"}
    )

    assert response.status_code == 400
    assert response.get_json() == {"message": "the event was refused"}


@pytest.mark.unit
def test_a_scoped_method_hands_its_scopes_to_the_authorizer():
    routes = routes_from_openapi(
        {
            "components": {
                "securitySchemes": {
                    "pool": {"x-amazon-apigateway-authtype": "cognito_user_pools"}
                }
            },
            "paths": {
                "/orders": {
                    "get": {
                        "security": [{"pool": ["orders/read"]}],
                        "x-amazon-apigateway-integration": {"type": "mock"},
                    },
                    "post": {
                        "security": [{"pool": []}],
                        "x-amazon-apigateway-integration": {"type": "mock"},
                    },
                }
            },
        }
    )

    scopes = {route.method: route.scopes for route in routes}
    assert scopes == {"GET": ("orders/read",), "POST": ()}


@pytest.mark.unit
def test_both_api_forms_read_the_same_kinesis_integration():
    template = (
        '{"StreamName": "switchyard-test-events", '
        '"Data": "$util.base64Encode($input.body)", '
        '"PartitionKey": "$input.path(\'$.id\')"}'
    )
    uri = "arn:aws:apigateway:us-east-1:kinesis:action/PutRecord"
    (from_openapi,) = routes_from_openapi(
        {
            "paths": {
                "/events": {
                    "post": {
                        "x-amazon-apigateway-integration": {
                            "type": "aws",
                            "uri": uri,
                            "requestTemplates": {"application/json": template},
                        }
                    }
                }
            }
        }
    )
    (from_methods,) = routes_from_template(
        {
            "Resources": {
                "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {}},
                "Events": {
                    "Type": "AWS::ApiGateway::Resource",
                    "Properties": {
                        "ParentId": {"Fn::GetAtt": ["Api", "RootResourceId"]},
                        "PathPart": "events",
                        "RestApiId": {"Ref": "Api"},
                    },
                },
                "PostEvents": {
                    "Type": "AWS::ApiGateway::Method",
                    "Properties": {
                        "HttpMethod": "POST",
                        "ResourceId": {"Ref": "Events"},
                        "RestApiId": {"Ref": "Api"},
                        "AuthorizationType": "NONE",
                        "Integration": {
                            "Type": "AWS",
                            "Uri": uri,
                            "RequestTemplates": {"application/json": template},
                        },
                    },
                },
            }
        },
        {},
        {},
        "switchyard-test-api",
    )

    for route in (from_openapi, from_methods):
        assert (route.method, route.path, route.kind) == ("POST", "/events", "kinesis")
        assert route.target == "switchyard-test-events"
        assert route.partition_key_field == "id"

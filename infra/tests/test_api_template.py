"""api.yaml is generated from the user-api's OpenAPI document and kept fresh."""

import pytest

from switchyard_infra import api_template
from switchyard_infra.templates import load_template, parse_template

pytestmark = pytest.mark.unit


def test_checked_in_api_template_is_up_to_date_with_its_source():
    expected = api_template.render_text(api_template.find_openapi())

    current = api_template.API_TEMPLATE.read_text(encoding="utf-8")

    assert current == expected, (
        "infra/templates/api.yaml is stale: run python -m switchyard_infra.api_template"
    )


def test_check_mode_fails_when_the_template_is_stale(tmp_path, monkeypatch):
    stale = tmp_path / "api.yaml"
    stale.write_text("# old\n", encoding="utf-8")
    monkeypatch.setattr(api_template, "API_TEMPLATE", stale)

    assert api_template.main(["--check"]) == 1
    assert api_template.main([]) == 0
    assert api_template.main(["--check"]) == 0


def _methods(template: dict) -> dict[str, dict]:
    return {
        lid: spec["Properties"]
        for lid, spec in template["Resources"].items()
        if spec["Type"] == "AWS::ApiGateway::Method"
    }


def test_every_operation_is_a_lambda_proxy_behind_the_cognito_authorizer():
    openapi = api_template.load_openapi(api_template.find_openapi())
    template = parse_template(api_template.render_text(api_template.find_openapi()))
    methods = _methods(template)

    for path, operations in openapi["paths"].items():
        for verb in api_template.HTTP_METHODS:
            if verb not in operations:
                continue
            logical_id = (
                api_template._logical_name(path.strip("/"))
                + verb.capitalize()
                + "Method"
            )
            method = methods[logical_id]
            assert method["Integration"]["Type"] == "AWS_PROXY"
            assert "UserApiFunctionArn" in str(method["Integration"]["Uri"])
            public = (operations[verb] or {}).get("security") == []
            assert method["AuthorizationType"] == (
                "NONE" if public else "COGNITO_USER_POOLS"
            )


def test_preflight_is_answered_without_a_token():
    template = load_template(api_template.API_TEMPLATE)

    options = [m for m in _methods(template).values() if m["HttpMethod"] == "OPTIONS"]

    assert options
    assert all(m["AuthorizationType"] == "NONE" for m in options)


def test_events_post_puts_the_base64_body_on_the_stream_keyed_by_request_id():
    template = load_template(api_template.API_TEMPLATE)

    method = template["Resources"]["EventsPostMethod"]["Properties"]
    integration = method["Integration"]
    text, variables = integration["RequestTemplates"]["application/json"]["Fn::Sub"]

    assert method["AuthorizationType"] == "COGNITO_USER_POOLS"
    assert integration["Type"] == "AWS"
    assert integration["Uri"]["Fn::Sub"].endswith(":kinesis:action/PutRecord")
    assert '"Data": "$util.base64Encode($input.body)"' in text
    assert '"PartitionKey": "$context.requestId"' in text
    assert variables["EventsStreamName"] == {
        "Fn::ImportValue": {"Fn::Sub": "switchyard-${Stage}-EventsStreamName"}
    }


def test_the_deployment_id_changes_when_the_methods_change():
    document = api_template.PLACEHOLDER_OPENAPI
    more = {
        **document,
        "paths": {**document["paths"], "/user/avatar": {"get": {}}},
    }

    def deployment_ids(doc: dict) -> set[str]:
        resources = api_template.render(doc, "test")["Resources"]
        return {lid for lid in resources if lid.startswith("Deployment")}

    assert deployment_ids(document) != deployment_ids(more)
    assert "UserAvatarResource" in api_template.render(more, "test")["Resources"]

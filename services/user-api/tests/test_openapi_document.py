"""The OpenAPI document is valid, shipped in the package, and agrees with the code."""

import re
from importlib import resources

import pytest
import yaml
from openapi_spec_validator import validate

from user_api import apigw
from user_api.attributes import (
    INTERNAL_FIELDS,
    INTERNAL_NAME_PATTERN,
    MAX_KEY_CHARS,
    NAME_PATTERN,
)
from user_api.preconditions import IF_MATCH_PATTERN

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def document() -> dict:
    text = resources.files("user_api").joinpath("openapi.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def test_the_document_is_valid_openapi_3_0(document) -> None:
    validate(document)

    assert document["openapi"].startswith("3.0.")


def test_user_has_exactly_the_methods_the_handler_serves(document) -> None:
    operations = set(document["paths"]) == {"/user"} and document["paths"]["/user"]

    assert {method.upper() for method in operations} == set(apigw.METHODS)


def test_every_method_but_options_needs_the_cognito_authorizer(document) -> None:
    scheme = document["components"]["securitySchemes"]["CognitoUserPool"]

    assert scheme["type"] == "apiKey"
    assert scheme["in"] == "header"
    assert scheme["name"] == "Authorization"
    assert scheme["x-amazon-apigateway-authtype"] == "cognito_user_pools"
    assert document["security"] == [{"CognitoUserPool": []}]
    assert document["paths"]["/user"]["options"]["security"] == []


def test_patterns_and_internal_fields_are_the_codes_own(document) -> None:
    components = document["components"]
    names = components["schemas"]["Attributes"]["x-propertyNames"]
    keys = components["schemas"]["AttributeValue"]["anyOf"][4]["x-propertyNames"]

    assert names["pattern"] == NAME_PATTERN
    assert names["not"]["pattern"] == INTERNAL_NAME_PATTERN
    assert keys["maxLength"] == MAX_KEY_CHARS
    assert components["parameters"]["IfMatch"]["schema"]["pattern"] == IF_MATCH_PATTERN


def test_every_error_code_the_code_can_raise_is_documented(document) -> None:
    documented = set(
        document["components"]["schemas"]["Error"]["properties"]["error"]["properties"][
            "code"
        ]["enum"]
    )
    source = "".join(
        resources.files("user_api").joinpath(name).read_text("utf-8")
        for name in (
            "apigw.py",
            "handler.py",
            "preconditions.py",
            "profiles.py",
            "store.py",
            "errors.py",
        )
    )
    raised = set(re.findall(r'code\s*=\s*"([a-z_]+)"', source))
    raised |= set(re.findall(r'_error\(\s*\d+,\s*"([a-z_]+)"', source))

    assert raised <= documented
    assert "validation_failed" in raised


def test_writes_document_if_match_and_412(document) -> None:
    user = document["paths"]["/user"]

    for method in ("post", "put", "patch", "delete"):
        refs = [p["$ref"] for p in user[method]["parameters"]]
        assert refs == ["#/components/parameters/IfMatch"]
        assert "412" in user[method]["responses"]


def test_the_internal_name_pattern_matches_those_names_in_any_case_only() -> None:
    internal = re.compile(INTERNAL_NAME_PATTERN)

    for name in INTERNAL_FIELDS:
        assert internal.fullmatch(name)
        assert internal.fullmatch(name.upper())
        assert internal.fullmatch(name.title())
    for name in ("emails", "my_email", "userid", "versions", "created"):
        assert not internal.search(name)

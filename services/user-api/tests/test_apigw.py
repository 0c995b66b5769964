import base64

import pytest

from user_api import apigw
from user_api.errors import (
    BadRequestError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
)

pytestmark = pytest.mark.unit

LIMIT = 1024


def request(body, *, content_type="application/json", b64=False, **headers):
    all_headers = {"Content-Type": content_type, **headers} if content_type else headers
    return apigw.parse_event(
        {
            "httpMethod": "put",
            "headers": all_headers,
            "body": body,
            "isBase64Encoded": b64,
        }
    )


def test_headers_are_case_insensitive_and_method_upper_case() -> None:
    parsed = request("{}", **{"IF-MATCH": '"x"'})

    assert parsed.method == "PUT"
    assert parsed.header("If-Match") == '"x"'
    assert parsed.header("content-type") == "application/json"


def test_repeated_if_match_headers_are_folded_into_one_list() -> None:
    parsed = apigw.parse_event(
        {
            "httpMethod": "PUT",
            "headers": {"If-Match": '"b"'},
            "multiValueHeaders": {"If-Match": ['"a"', '"b"']},
        }
    )

    assert parsed.header("if-match") == '"a", "b"'


def test_if_match_headers_spelled_differently_are_folded_together() -> None:
    parsed = apigw.parse_event(
        {
            "httpMethod": "PUT",
            "headers": {"if-match": '"a"', "If-Match": '"b"'},
            "multiValueHeaders": {"if-match": ['"a"'], "If-Match": ['"b"']},
        }
    )

    assert parsed.header("if-match") == '"a", "b"'


def test_an_event_without_headers_or_context_still_parses() -> None:
    parsed = apigw.parse_event({"httpMethod": "GET", "headers": None, "body": None})

    assert parsed.headers == {}
    assert parsed.claims is None
    assert parsed.request_id is None


def test_a_base64_body_is_decoded() -> None:
    encoded = base64.b64encode('{"a": "é"}'.encode()).decode()

    assert request(encoded, b64=True).json_body(LIMIT) == {"a": "é"}


def test_bad_base64_is_a_400() -> None:
    with pytest.raises(BadRequestError) as caught:
        request("not base64!", b64=True).json_body(LIMIT)

    assert caught.value.code == "invalid_body_encoding"


def test_invalid_utf8_is_a_400() -> None:
    encoded = base64.b64encode(b'{"a": "\xff"}').decode()

    with pytest.raises(BadRequestError, match="UTF-8"):
        request(encoded, b64=True).json_body(LIMIT)


@pytest.mark.parametrize("body", [None, ""])
def test_an_absent_body_is_a_400_asking_for_one(body) -> None:
    with pytest.raises(BadRequestError) as caught:
        request(body).json_body(LIMIT)

    assert caught.value.code == "body_required"


@pytest.mark.parametrize(
    "content_type",
    [None, "", "text/plain", "application/jsonx", "application/json; charset=latin-1"],
)
def test_a_missing_or_wrong_content_type_is_a_415(content_type) -> None:
    with pytest.raises(UnsupportedMediaTypeError):
        request("{}", content_type=content_type).json_body(LIMIT)


@pytest.mark.parametrize(
    "content_type", ["application/json", "Application/JSON; charset=UTF-8"]
)
def test_json_content_types_are_accepted(content_type) -> None:
    assert request("{}", content_type=content_type).json_body(LIMIT) == {}


def test_a_body_over_the_limit_is_a_413_before_parsing() -> None:
    with pytest.raises(PayloadTooLargeError):
        request('"' + "x" * LIMIT + '"').json_body(LIMIT)
    with pytest.raises(PayloadTooLargeError):
        encoded = base64.b64encode(b"x" * (LIMIT * 2)).decode()
        request(encoded, b64=True).json_body(LIMIT)


def test_cors_answers_only_allowed_origins() -> None:
    allowed = ("https://site.example.com",)

    granted = apigw.cors_headers("https://site.example.com", allowed)
    refused = apigw.cors_headers("https://evil.example.com", allowed)

    assert granted == {
        "Vary": "Origin",
        "Access-Control-Allow-Origin": "https://site.example.com",
        "Access-Control-Expose-Headers": "ETag",
    }
    assert refused == {"Vary": "Origin"}
    assert apigw.cors_headers(None, allowed) == {"Vary": "Origin"}
    assert apigw.cors_headers("https://site.example.com", ()) == {}


def test_a_preflight_lists_methods_and_request_headers() -> None:
    headers = apigw.cors_headers("*", ("*",), preflight=True)

    assert headers["Access-Control-Allow-Origin"] == "*"
    assert headers["Access-Control-Allow-Methods"] == (
        "GET, PUT, POST, PATCH, DELETE, OPTIONS"
    )
    assert "If-Match" in headers["Access-Control-Allow-Headers"]

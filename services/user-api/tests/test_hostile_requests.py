"""Requests and stored items meant to break the API: each gets a clear answer."""

import json
import re
from typing import Any

import pytest

pytestmark = pytest.mark.functional

SUB = "d2f50444-0041-7036-aea2-a955fca33d37"
TABLE = "switchyard-test-users"
ETAG = re.compile(r'^"[!#-~]*"$')


def body_of(response: dict[str, Any]) -> Any:
    return json.loads(response["body"]) if response["body"] else None


def stored(client: Any, sub: str = SUB) -> dict[str, Any] | None:
    return client.get_item(TableName=TABLE, Key={"user_id": {"S": sub}}).get("Item")


def problems_of(response: dict[str, Any]) -> list[tuple[str, str]]:
    return [(p["field"], p["code"]) for p in body_of(response)["error"]["problems"]]


# --- numbers Python's Decimal cannot even hold -----------------------------


@pytest.mark.parametrize(
    "number", ["1e999999999999999999999", "-1.5E-999999999999999999999"]
)
def test_an_exponent_beyond_decimals_range_is_a_400_naming_the_field(
    call, users_table, number
) -> None:
    response = call("PUT", raw_body=f'{{"ok": 1, "n": {{"x": [{number}]}}}}')

    assert response["statusCode"] == 400
    assert problems_of(response) == [("/n/x/0", "number_out_of_range")]
    assert stored(users_table) is None


def test_zero_with_a_huge_exponent_is_zero(call) -> None:
    response = call("PUT", raw_body='{"z": 0e99999999999999999999999}')

    assert response["statusCode"] == 201
    assert response["body"] == '{"z":0}'


# --- internal fields under another spelling --------------------------------


@pytest.mark.parametrize(
    "name", ["Email", "EMAIL", "User_Id", "USER_ID", "Version", "Created_At"]
)
def test_internal_field_names_in_another_case_are_refused(
    call, users_table, name
) -> None:
    response = call("PUT", {name: "x"})

    assert response["statusCode"] == 400
    assert problems_of(response) == [(f"/{name}", "read_only_field")]
    assert stored(users_table) is None


# --- items whose version another tool wrote --------------------------------


@pytest.mark.parametrize(
    "version",
    [{"N": "1"}, {"S": ""}, {"S": 'v 1 "quoted"'}, {"BOOL": True}],
    ids=["number", "empty", "odd-characters", "boolean"],
)
def test_an_item_with_an_odd_version_gets_a_valid_etag_and_can_be_written(
    call, users_table, version
) -> None:
    users_table.put_item(
        TableName=TABLE,
        Item={"user_id": {"S": SUB}, "version": version, "a": {"S": "x"}},
    )

    read = call("GET")
    written = call("PATCH", {"b": 1}, headers={"If-Match": read["headers"]["ETag"]})
    deleted = call("DELETE", headers={"If-Match": written["headers"]["ETag"]})

    assert ETAG.fullmatch(read["headers"]["ETag"])
    assert written["statusCode"] == 200
    assert body_of(written) == {"a": "x", "b": 1}
    assert deleted["statusCode"] == 204


def test_an_odd_version_changed_by_another_tool_is_a_412(call, users_table) -> None:
    users_table.put_item(
        TableName=TABLE,
        Item={"user_id": {"S": SUB}, "version": {"N": "1"}, "a": {"S": "x"}},
    )
    etag = call("GET")["headers"]["ETag"]
    users_table.put_item(
        TableName=TABLE,
        Item={"user_id": {"S": SUB}, "version": {"N": "2"}, "a": {"S": "y"}},
    )

    response = call("PATCH", {"b": 1}, headers={"If-Match": etag})

    assert response["statusCode"] == 412
    assert stored(users_table)["a"] == {"S": "y"}


# --- identity claims -------------------------------------------------------


def test_an_email_claim_without_email_verified_is_not_recorded(
    call, users_table
) -> None:
    call("PUT", {"a": 1}, claims={"sub": SUB, "email": "boss@example.com"})

    assert "email" not in stored(users_table)


# --- logs ------------------------------------------------------------------


def test_a_refused_attribute_name_is_logged_cut_short(call, log_lines) -> None:
    name = "password-hunter2-" + "z" * 5000

    response = call("PUT", {name: 1})

    assert response["statusCode"] == 400
    text = json.dumps(log_lines())
    assert "hunter2" not in text
    warning = next(line for line in log_lines() if line["level"] == "WARNING")
    assert warning["problem_codes"] == ["invalid_attribute_name"]


# --- DynamoDB failing ------------------------------------------------------


class FailingClient:
    """A DynamoDB client whose every call fails with one error code."""

    def __init__(self, code: str) -> None:
        self.code = code

    def get_item(self, **kwargs: Any) -> dict[str, Any]:
        from botocore.exceptions import ClientError

        error = {"Code": self.code, "Message": f"table {TABLE} internals"}
        raise ClientError({"Error": error}, "GetItem")


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("InternalServerError", 503),
        ("ProvisionedThroughputExceededException", 503),
        ("AccessDeniedException", 500),
    ],
)
def test_dynamodb_failures_answer_with_the_request_id_and_no_internals(
    call, monkeypatch, log_lines, cognito_event, code, status
) -> None:
    from user_api.store import UsersTable

    monkeypatch.setattr(
        UsersTable, "client", property(lambda self: FailingClient(code))
    )
    token = cognito_event["headers"]["Authorization"].split()[1]

    response = call("GET")

    assert response["statusCode"] == status
    error = body_of(response)["error"]
    assert error["request_id"] == "e56434a3-0b5d-453c-9183-f07a5e91fbb3"
    assert TABLE not in response["body"]
    assert code not in response["body"]
    assert ("Retry-After" in response["headers"]) == (status == 503)
    assert token not in json.dumps(log_lines())
    assert [line["level"] for line in log_lines()].count("INFO") == 1


# --- headers in any case, repeated, with parameters ------------------------


def test_if_match_and_content_type_work_in_any_letter_case(call) -> None:
    etag = call("PUT", {"a": 1})["headers"]["ETag"]

    stale = call(
        "PATCH",
        {"a": 2},
        content_type=None,
        headers={"content-type": "Application/JSON; Charset=UTF-8", "if-match": '"x"'},
    )
    current = call(
        "PATCH",
        {"a": 3},
        content_type=None,
        headers={"CONTENT-TYPE": "application/json;charset=utf-8", "IF-MATCH": etag},
    )

    assert stale["statusCode"] == 412
    assert current["statusCode"] == 200
    assert body_of(call("GET")) == {"a": 3}


def test_repeated_if_match_headers_hold_when_any_tag_is_current(
    users_table, cognito_event, lambda_context
) -> None:
    from user_api.handler import handler

    cognito_event.update(httpMethod="PUT", body='{"a": 1}')
    cognito_event["headers"]["Content-Type"] = "application/json"
    etag = handler(cognito_event, lambda_context)["headers"]["ETag"]
    cognito_event["headers"]["If-Match"] = etag
    cognito_event["multiValueHeaders"]["If-Match"] = ['W/"old"', etag]

    assert handler(cognito_event, lambda_context)["statusCode"] == 200
    cognito_event["multiValueHeaders"]["If-Match"] = ['"old"', f"W/{etag}"]
    assert handler(cognito_event, lambda_context)["statusCode"] == 412


def test_a_preflight_from_a_foreign_origin_gets_no_cors_grant(call) -> None:
    response = call(
        "OPTIONS",
        claims={},
        headers={
            "Origin": "https://site.example.com.evil.example",
            "Access-Control-Request-Method": "DELETE",
        },
    )

    assert response["statusCode"] == 204
    assert response["headers"]["Vary"] == "Origin"
    assert not any(name.startswith("Access-Control-") for name in response["headers"])

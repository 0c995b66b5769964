"""The handler end to end against a moto users table."""

import base64
import json
from typing import Any

import pytest

from user_api.errors import StoreBusyError
from user_api.store import UsersTable

pytestmark = pytest.mark.functional

SUB = "d2f50444-0041-7036-aea2-a955fca33d37"
TABLE = "switchyard-test-users"
SITE = "https://site.example.com"


def body_of(response: dict[str, Any]) -> Any:
    return json.loads(response["body"]) if response["body"] else None


def stored(client: Any, sub: str = SUB) -> dict[str, Any] | None:
    return client.get_item(TableName=TABLE, Key={"user_id": {"S": sub}}).get("Item")


def error_code(response: dict[str, Any]) -> str:
    return body_of(response)["error"]["code"]


# --- reading and creating ---------------------------------------------------


def test_get_without_a_profile_is_a_json_404_with_the_request_id(call) -> None:
    response = call("GET")

    assert response["statusCode"] == 404
    assert response["headers"]["Content-Type"] == "application/json"
    assert body_of(response)["error"] == {
        "code": "profile_not_found",
        "message": "you have no profile yet; create it with POST or PUT",
        "request_id": "e56434a3-0b5d-453c-9183-f07a5e91fbb3",
    }


def test_post_creates_and_get_returns_the_same_attributes_and_etag(call) -> None:
    created = call("POST", {"nickname": "ada", "langs": ["en", "fr"]})
    read = call("GET")

    assert created["statusCode"] == 201
    assert read["statusCode"] == 200
    assert body_of(read) == {"nickname": "ada", "langs": ["en", "fr"]}
    assert read["headers"]["ETag"] == created["headers"]["ETag"]
    assert read["headers"]["ETag"].startswith('"')
    assert read["headers"]["Cache-Control"] == "no-store"


def test_post_when_a_profile_exists_is_a_409_and_changes_nothing(
    call, users_table
) -> None:
    call("POST", {"nickname": "ada"})

    response = call("POST", {"nickname": "mallory"})

    assert response["statusCode"] == 409
    assert error_code(response) == "profile_exists"
    assert stored(users_table)["nickname"] == {"S": "ada"}


def test_internal_fields_are_stored_but_never_shown(call, users_table) -> None:
    created = call("POST", {"nickname": "ada"})

    item = stored(users_table)
    assert item["user_id"] == {"S": SUB}
    assert item["version"]["S"] == created["headers"]["ETag"].strip('"')
    assert item["created_at"]["S"].endswith("Z")
    assert item["updated_at"] == item["created_at"]
    assert body_of(created) == {"nickname": "ada"}


# --- numbers and names ------------------------------------------------------


def test_numbers_are_stored_and_read_back_as_the_same_text(call, users_table) -> None:
    call("PUT", raw_body='{"height": 30.4, "count": 10, "tiny": 0.000001, "e": 1e2}')

    item = stored(users_table)
    read = call("GET")

    assert item["height"] == {"N": "30.4"}
    assert item["count"] == {"N": "10"}
    assert read["body"] == '{"height":30.4,"count":10,"tiny":0.000001,"e":100}'


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ('{"n": 1e400}', "number_out_of_range"),
        ('{"n": 123456789012345678901234567890123456789}', "number_too_precise"),
        ('{"n": 0.1234567890123456789012345678901234567891}', "number_too_precise"),
    ],
)
def test_numbers_dynamodb_cannot_hold_are_a_400_naming_the_field(
    call, users_table, raw, code
) -> None:
    response = call("PUT", raw_body=raw)

    assert response["statusCode"] == 400
    assert body_of(response)["error"]["problems"][0]["field"] == "/n"
    assert body_of(response)["error"]["problems"][0]["code"] == code
    assert stored(users_table) is None


@pytest.mark.parametrize("raw", ['{"n": NaN}', '{"n": Infinity}', '{"n": -Infinity}'])
def test_nan_and_infinity_are_a_400(call, raw) -> None:
    response = call("PUT", raw_body=raw)

    assert response["statusCode"] == 400
    assert error_code(response) == "invalid_json"


def test_reserved_words_work_as_attribute_names(call, users_table) -> None:
    call("PUT", {"status": "active", "name": "Ada", "size": 3, "comment": "x"})

    patched = call("PATCH", {"status": None, "name": "Ada L."})

    assert patched["statusCode"] == 200
    assert body_of(patched) == {"name": "Ada L.", "size": 3, "comment": "x"}
    assert "status" not in stored(users_table)


def test_every_bad_field_is_named_at_once(call) -> None:
    response = call("PUT", {"email": "x@example.com", "bad name": 1, "ok": "fine"})

    assert response["statusCode"] == 400
    error = body_of(response)["error"]
    assert error["code"] == "validation_failed"
    assert [(p["field"], p["code"]) for p in error["problems"]] == [
        ("/email", "read_only_field"),
        ("/bad name", "invalid_attribute_name"),
    ]


def test_a_body_that_is_not_an_object_is_a_400(call) -> None:
    response = call("PUT", ["a"])

    assert response["statusCode"] == 400
    assert body_of(response)["error"]["problems"][0]["code"] == "not_an_object"


# --- replace, merge, delete -------------------------------------------------


def test_put_creates_then_replaces_every_attribute(call) -> None:
    first = call("PUT", {"a": 1, "b": 2})
    second = call("PUT", {"c": 3})

    assert first["statusCode"] == 201
    assert second["statusCode"] == 200
    assert body_of(call("GET")) == {"c": 3}
    assert first["headers"]["ETag"] != second["headers"]["ETag"]


def test_put_keeps_the_creation_time(call, users_table) -> None:
    call("PUT", {"a": 1})
    created_at = stored(users_table)["created_at"]

    call("PUT", {"a": 2})

    assert stored(users_table)["created_at"] == created_at


def test_patch_merges_and_null_removes(call) -> None:
    call("PUT", {"keep": "k", "change": 1, "drop": True, "map": {"x": 1}})

    response = call("PATCH", {"change": 2, "drop": None, "new": [None], "absent": None})

    assert response["statusCode"] == 200
    assert body_of(response) == {
        "keep": "k",
        "change": 2,
        "map": {"x": 1},
        "new": [None],
    }


def test_put_stores_null_values_as_given(call) -> None:
    call("PUT", {"maybe": None})

    assert body_of(call("GET")) == {"maybe": None}


def test_patch_without_a_profile_is_a_404(call) -> None:
    response = call("PATCH", {"a": 1})

    assert response["statusCode"] == 404


def test_delete_removes_the_profile(call, users_table) -> None:
    call("PUT", {"a": 1})

    deleted = call("DELETE")

    assert deleted["statusCode"] == 204
    assert deleted["body"] == ""
    assert stored(users_table) is None
    assert call("GET")["statusCode"] == 404
    assert call("DELETE")["statusCode"] == 404


# --- If-Match and concurrency -----------------------------------------------


@pytest.mark.parametrize(
    ("method", "body"), [("PUT", {"a": 2}), ("PATCH", {"a": 2}), ("DELETE", None)]
)
def test_a_stale_if_match_is_a_412_and_changes_nothing(
    call, users_table, method, body
) -> None:
    old = call("PUT", {"a": 0})["headers"]["ETag"]
    current = call("PUT", {"a": 1})["headers"]["ETag"]
    before = stored(users_table)

    response = call(method, body, headers={"If-Match": old})

    assert response["statusCode"] == 412
    assert error_code(response) == "precondition_failed"
    assert stored(users_table) == before
    assert call("GET")["headers"]["ETag"] == current


@pytest.mark.parametrize(
    ("method", "body", "status"),
    [("PUT", {"a": 2}, 200), ("PATCH", {"a": 2}, 200), ("DELETE", None, 204)],
)
def test_a_current_if_match_lets_the_write_through(call, method, body, status) -> None:
    etag = call("PUT", {"a": 1})["headers"]["ETag"]

    response = call(method, body, headers={"If-Match": f'"other", {etag}'})

    assert response["statusCode"] == status


def test_if_match_star_needs_an_existing_profile(call, users_table) -> None:
    refused = call("PUT", {"a": 1}, headers={"If-Match": "*"})
    call("PUT", {"a": 1})
    allowed = call("PUT", {"a": 2}, headers={"If-Match": "*"})

    assert refused["statusCode"] == 412
    assert allowed["statusCode"] == 200


def test_a_weak_etag_never_matches(call) -> None:
    etag = call("PUT", {"a": 1})["headers"]["ETag"]

    response = call("PUT", {"a": 2}, headers={"If-Match": f"W/{etag}"})

    assert response["statusCode"] == 412


def test_post_with_if_match_on_no_profile_is_a_412(call) -> None:
    assert call("POST", {"a": 1}, headers={"If-Match": "*"})["statusCode"] == 412


def test_a_malformed_if_match_is_a_400(call) -> None:
    response = call("DELETE", headers={"If-Match": "no quotes"})

    assert response["statusCode"] == 400
    assert error_code(response) == "invalid_if_match"


def _race_after_first_read(monkeypatch, users_table, write) -> None:
    """Make another writer change the item right after the handler's read."""
    real_get = UsersTable.get
    raced = []

    def get_then_race(self, user_id):
        current = real_get(self, user_id)
        if not raced:
            raced.append(True)
            write()
        return current

    monkeypatch.setattr(UsersTable, "get", get_then_race)


def test_a_writer_slipping_in_after_the_read_makes_if_match_fail(
    call, users_table, monkeypatch
) -> None:
    etag = call("PUT", {"a": 1})["headers"]["ETag"]

    def other_writer() -> None:
        users_table.update_item(
            TableName=TABLE,
            Key={"user_id": {"S": SUB}},
            UpdateExpression="SET #v = :v, #o = :o",
            ExpressionAttributeNames={"#v": "version", "#o": "other"},
            ExpressionAttributeValues={":v": {"S": "theirs"}, ":o": {"S": "x"}},
        )

    _race_after_first_read(monkeypatch, users_table, other_writer)

    response = call("PATCH", {"a": 2}, headers={"If-Match": etag})

    assert response["statusCode"] == 412
    item = stored(users_table)
    assert item["version"] == {"S": "theirs"}
    assert item["a"] == {"N": "1"}


def test_without_if_match_a_lost_race_is_retried_on_the_new_item(
    call, users_table, monkeypatch
) -> None:
    call("PUT", {"a": 1})

    def other_writer() -> None:
        users_table.update_item(
            TableName=TABLE,
            Key={"user_id": {"S": SUB}},
            UpdateExpression="SET #v = :v, #o = :o",
            ExpressionAttributeNames={"#v": "version", "#o": "other"},
            ExpressionAttributeValues={":v": {"S": "theirs"}, ":o": {"S": "x"}},
        )

    _race_after_first_read(monkeypatch, users_table, other_writer)

    response = call("PATCH", {"a": 2})

    assert response["statusCode"] == 200
    assert body_of(response) == {"a": 2, "other": "x"}


def test_an_item_written_without_a_version_can_still_be_updated(
    call, users_table
) -> None:
    users_table.put_item(
        TableName=TABLE, Item={"user_id": {"S": SUB}, "nickname": {"S": "ops"}}
    )

    read = call("GET")
    written = call("PATCH", {"b": 1}, headers={"If-Match": read["headers"]["ETag"]})

    assert read["headers"]["ETag"] == '"0"'
    assert written["statusCode"] == 200
    assert body_of(written) == {"nickname": "ops", "b": 1}


# --- identity ---------------------------------------------------------------


def test_the_caller_is_the_sub_whatever_the_path_query_or_body_say(
    call, users_table, cognito_event
) -> None:
    other = "someone-else"
    response = call(
        "PUT",
        {"a": 1},
        headers={"X-User-Id": other},
    )
    refused = call("PUT", {"user_id": other})

    assert response["statusCode"] == 201
    assert refused["statusCode"] == 400
    assert stored(users_table, other) is None


def test_query_and_path_parameters_never_choose_the_profile(
    users_table, cognito_event, lambda_context
) -> None:
    from user_api.handler import handler

    cognito_event.update(
        httpMethod="PUT",
        body='{"a": 1}',
        queryStringParameters={"user_id": "someone-else"},
        pathParameters={"user_id": "someone-else"},
    )
    cognito_event["headers"]["Content-Type"] = "application/json"

    assert handler(cognito_event, lambda_context)["statusCode"] == 201
    assert stored(users_table) is not None
    assert stored(users_table, "someone-else") is None


def test_the_email_claim_is_stored_for_the_email_index(
    call, users_table, cognito_claims
) -> None:
    claims = {**cognito_claims, "email": "Ada@Example.com", "email_verified": "true"}
    call("PUT", {"a": 1}, claims=claims)

    # An access token carries no email: the stored one is kept.
    call("PATCH", {"a": 2}, claims={"sub": SUB, "token_use": "access"})

    found = users_table.query(
        TableName=TABLE,
        IndexName="email-index",
        KeyConditionExpression="email = :e",
        ExpressionAttributeValues={":e": {"S": "ada@example.com"}},
    )
    assert [item["user_id"]["S"] for item in found["Items"]] == [SUB]
    assert "email" not in body_of(call("GET"))


def test_the_unauthorized_proxy_sample_is_a_401(
    users_table, proxy_event, lambda_context
) -> None:
    from user_api.handler import handler

    response = handler(proxy_event, lambda_context)

    assert response["statusCode"] == 401
    assert body_of(response)["error"]["code"] == "unauthenticated"
    assert body_of(response)["error"]["request_id"] == "id="


# --- bodies -----------------------------------------------------------------


def test_a_base64_encoded_body_is_accepted(call) -> None:
    encoded = base64.b64encode(json.dumps({"city": "Zürich"}).encode()).decode()

    response = call("PUT", raw_body=encoded, base64_body=True)

    assert response["statusCode"] == 201
    assert body_of(call("GET")) == {"city": "Zürich"}


def test_a_null_body_is_a_400(call) -> None:
    response = call("PUT")

    assert response["statusCode"] == 400
    assert error_code(response) == "body_required"


def test_a_body_without_content_type_is_a_415(call) -> None:
    response = call("PUT", {"a": 1}, content_type=None)

    assert response["statusCode"] == 415
    assert error_code(response) == "unsupported_media_type"


def test_a_profile_over_the_item_limit_is_a_413(call, users_table) -> None:
    big = "x" * (400 * 1024)

    response = call("PUT", {"big": big})

    assert response["statusCode"] == 413
    assert error_code(response) == "profile_too_large"
    assert stored(users_table) is None


def test_the_item_limit_is_configurable(call, monkeypatch) -> None:
    monkeypatch.setenv("MAX_ITEM_BYTES", "200")

    small = call("PUT", {"a": "x" * 10})
    large = call("PATCH", {"b": "x" * 200})

    assert small["statusCode"] == 201
    assert large["statusCode"] == 413


def test_a_body_over_a_mebibyte_is_a_413_before_parsing(call) -> None:
    response = call("PUT", raw_body="[" * (1024 * 1024 + 1))

    assert response["statusCode"] == 413
    assert error_code(response) == "body_too_large"


# --- CORS and methods -------------------------------------------------------


def test_options_is_answered_without_a_token(call) -> None:
    response = call("OPTIONS", claims={}, headers={"Origin": SITE})

    assert response["statusCode"] == 204
    assert response["headers"]["Access-Control-Allow-Origin"] == SITE
    assert response["headers"]["Access-Control-Allow-Methods"] == (
        "GET, PUT, POST, PATCH, DELETE, OPTIONS"
    )
    assert response["headers"]["Access-Control-Allow-Headers"] == (
        "Authorization, Content-Type, If-Match"
    )


def test_responses_and_errors_carry_cors_headers_for_the_site_only(call) -> None:
    ok = call("PUT", {"a": 1}, headers={"Origin": SITE})
    error = call("PATCH", {"bad name": 1}, headers={"Origin": SITE})
    foreign = call("GET", headers={"Origin": "https://evil.example.com"})

    assert ok["headers"]["Access-Control-Allow-Origin"] == SITE
    assert ok["headers"]["Access-Control-Expose-Headers"] == "ETag"
    assert error["headers"]["Access-Control-Allow-Origin"] == SITE
    assert "Access-Control-Allow-Origin" not in foreign["headers"]
    assert foreign["headers"]["Vary"] == "Origin"


def test_an_unsupported_method_is_a_405_listing_the_allowed_ones(call) -> None:
    response = call("HEAD")

    assert response["statusCode"] == 405
    assert response["headers"]["Allow"] == "GET, PUT, POST, PATCH, DELETE, OPTIONS"


# --- faults and logs --------------------------------------------------------


def test_a_fault_of_ours_is_a_500_with_the_request_id_logged_once(
    call, monkeypatch, log_lines
) -> None:
    monkeypatch.setenv("USERS_TABLE", "no-such-table")

    response = call("GET")

    assert response["statusCode"] == 500
    assert body_of(response)["error"]["request_id"] == (
        "e56434a3-0b5d-453c-9183-f07a5e91fbb3"
    )
    errors = [line for line in log_lines() if line["level"] == "ERROR"]
    assert len(errors) == 1
    assert "ResourceNotFoundException" in errors[0]["exception"]
    assert "Traceback" in errors[0]["exception"]
    assert errors[0]["correlation_id"] == "e56434a3-0b5d-453c-9183-f07a5e91fbb3"


def test_a_missing_table_setting_is_a_500_not_a_crash(call, monkeypatch) -> None:
    monkeypatch.delenv("USERS_TABLE")

    assert call("GET")["statusCode"] == 500


def test_throttling_is_a_503_with_retry_after(call, monkeypatch) -> None:
    def throttled(self, user_id):
        raise StoreBusyError("GetItem was throttled")

    monkeypatch.setattr(UsersTable, "get", throttled)

    response = call("GET")

    assert response["statusCode"] == 503
    assert response["headers"]["Retry-After"] == "1"


def test_client_mistakes_log_a_warning_and_never_values_or_tokens(
    call, log_lines, cognito_event
) -> None:
    token = cognito_event["headers"]["Authorization"].split()[1]
    secret = "s3cret-attribute-value"

    call("PUT", {"diary": secret})
    call("PUT", raw_body=f'{{"bad name": "{secret}", "map": {{"{secret}": 1E+999}}}}')

    lines = log_lines()
    text = json.dumps(lines)
    assert secret not in text
    assert token not in text
    assert [line["level"] for line in lines] == ["INFO", "WARNING", "INFO"]
    warning = lines[1]
    assert warning["code"] == "validation_failed"
    assert warning["attributes"] == ["map"]
    assert warning["invalid_names"] == 1
    assert warning["problem_codes"] == [
        "invalid_attribute_name",
        "number_out_of_range",
    ]
    assert lines[0]["status"] == 201
    assert lines[0]["method"] == "PUT"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("[" * 200_000 + "]" * 200_000, "invalid_json"),
        ('{"s": "\\ud800"}', "validation_failed"),
        ('{"a": 1, "a": 2}', "invalid_json"),
        ("{'a': 1}", "invalid_json"),
    ],
)
def test_hostile_bodies_are_a_400_not_a_500(call, raw, code) -> None:
    response = call("PUT", raw_body=raw)

    assert response["statusCode"] == 400
    assert error_code(response) == code


def test_nesting_deeper_than_allowed_is_a_400_naming_the_field(call) -> None:
    response = call("PUT", raw_body='{"deep": ' + "[" * 17 + "]" * 17 + "}")

    assert response["statusCode"] == 400
    problem = body_of(response)["error"]["problems"][0]
    assert problem["code"] == "too_deep"
    assert problem["field"] == "/deep" + "/0" * 16


def test_an_unverified_email_is_not_recorded(call, users_table, cognito_claims) -> None:
    claims = {**cognito_claims, "email": "boss@example.com", "email_verified": "false"}

    call("PUT", {"a": 1}, claims=claims)

    assert "email" not in stored(users_table)


def test_non_ascii_text_round_trips(call) -> None:
    call("PUT", {"city": "Zürich", "emoji": "🚂"})

    response = call("GET")

    assert response["body"] == '{"city":"Z\\u00fcrich","emoji":"\\ud83d\\ude82"}'
    assert body_of(response) == {"city": "Zürich", "emoji": "🚂"}


def test_an_event_that_is_not_from_api_gateway_is_a_logged_500(
    users_table, lambda_context, log_lines
) -> None:
    from user_api.handler import handler

    response = handler({"headers": ["not", "a", "map"]}, lambda_context)

    assert response["statusCode"] == 500
    assert body_of(response)["error"]["request_id"] == "lambda-req-1"
    assert [line["level"] for line in log_lines()] == ["ERROR", "INFO"]

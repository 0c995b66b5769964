from datetime import UTC, datetime

import pytest

from user_api.claims import caller_from_claims, parse_bool, parse_groups, parse_time
from user_api.errors import UnauthenticatedError

pytestmark = pytest.mark.unit

SUB = "d2f50444-0041-7036-aea2-a955fca33d37"


def test_the_real_authorizer_claims_name_the_caller_and_parse_their_dates(
    cognito_claims: dict,
) -> None:
    caller = caller_from_claims(cognito_claims)

    assert caller.sub == SUB
    assert caller.username == "example-user"
    assert caller.token_use == "id"
    assert caller.email is None
    assert caller.expires_at == datetime(2024, 6, 18, 15, 0, 4, tzinfo=UTC)
    assert caller.issued_at == datetime(2024, 6, 17, 15, 0, 4, tzinfo=UTC)


def test_null_claims_from_an_unauthorized_route_are_refused(proxy_event: dict) -> None:
    claims = proxy_event["requestContext"]["authorizer"]["claims"]

    with pytest.raises(UnauthenticatedError):
        caller_from_claims(claims)


@pytest.mark.parametrize(
    "claims",
    [{}, {"sub": ""}, {"sub": "  "}, {"sub": 7}, {"sub": "a\nb"}, {"sub": "x" * 129}],
)
def test_claims_without_a_usable_sub_are_refused(claims: dict) -> None:
    with pytest.raises(UnauthenticatedError):
        caller_from_claims(claims)


def test_booleans_and_email_arrive_as_strings() -> None:
    caller = caller_from_claims(
        {"sub": SUB, "email": "Ada@Example.COM", "email_verified": "true"}
    )

    assert caller.email == "ada@example.com"
    assert caller.email_verified is True
    assert parse_bool("False") is False
    assert parse_bool("yes") is None


@pytest.mark.parametrize(
    ("raw", "groups"),
    [
        ("operators", ("operators",)),
        ("operators,admins", ("operators", "admins")),
        ("[operators admins]", ("operators", "admins")),
        ("[]", ()),
        (["a", "b"], ("a", "b")),
        (None, ()),
    ],
)
def test_groups_arrive_as_one_string_in_either_form(raw, groups) -> None:
    assert parse_groups(raw) == groups


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1718636404", datetime(2024, 6, 17, 15, 0, 4, tzinfo=UTC)),
        (1718636404, datetime(2024, 6, 17, 15, 0, 4, tzinfo=UTC)),
        ("Tue Jun 18 15:00:04 UTC 2024", datetime(2024, 6, 18, 15, 0, 4, tzinfo=UTC)),
        ("2024-06-18T15:00:04Z", datetime(2024, 6, 18, 15, 0, 4, tzinfo=UTC)),
        ("not a date", None),
        ("99999999999999999999", None),
        (True, None),
    ],
)
def test_dates_arrive_as_epoch_seconds_or_text(raw, expected) -> None:
    assert parse_time(raw) == expected

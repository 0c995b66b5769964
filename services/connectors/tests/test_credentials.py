"""Unit tests: webhook auth headers from named secrets."""

from typing import Any

import pytest

from connectors.credentials import CredentialStore, parse_headers, parse_secret_ref
from connectors.errors import CredentialsError, InvalidTarget

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("ref", "parsed"),
    [
        ("ssm:/switchyard/crm", ("ssm", "/switchyard/crm")),
        ("secretsmanager:crm-hook", ("secretsmanager", "crm-hook")),
        (
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:crm-AbCdEf",
            (
                "secretsmanager",
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:crm-AbCdEf",
            ),
        ),
        (
            "arn:aws:ssm:us-east-1:123456789012:parameter/crm",
            ("ssm", "arn:aws:ssm:us-east-1:123456789012:parameter/crm"),
        ),
    ],
)
def test_secret_references_name_their_store(ref: str, parsed: tuple[str, str]) -> None:
    assert parse_secret_ref(ref) == parsed


@pytest.mark.parametrize("ref", ["crm-hook", "vault:x", "ssm:", "", 42])
def test_unknown_secret_references_are_invalid_targets(ref: object) -> None:
    with pytest.raises(InvalidTarget):
        parse_secret_ref(ref)


def test_plain_value_is_the_authorization_header() -> None:
    assert parse_headers("  Bearer abc \n", "ssm:/x") == {"Authorization": "Bearer abc"}


def test_json_object_is_a_set_of_headers() -> None:
    headers = parse_headers('{"X-Api-Key": "k", "X-Tenant": "t"}', "ssm:/x")

    assert headers == {"X-Api-Key": "k", "X-Tenant": "t"}


@pytest.mark.parametrize(
    "value",
    ['{"bad name": "v"}', '{"X-A": 1}', '{"X-A": "a\\r\\nInjected: 1"}', "{", "{}"],
)
def test_malformed_secret_values_are_refused_without_quoting_them(value: str) -> None:
    with pytest.raises(CredentialsError) as caught:
        parse_headers(value, "ssm:/x")

    assert "Injected" not in str(caught.value)
    assert caught.value.retryable is False


def test_values_are_cached_until_they_expire() -> None:
    reads: list[str] = []
    now = [0.0]

    class Ssm:
        def get_parameter(self, Name: str, WithDecryption: bool) -> dict[str, Any]:
            reads.append(Name)
            return {"Parameter": {"Value": f"Bearer {len(reads)}"}}

    store = CredentialStore(lambda: Ssm(), lambda: None, 60, clock=lambda: now[0])

    first = store.headers("ssm:/x")
    second = store.headers("ssm:/x")
    now[0] = 61.0
    third = store.headers("ssm:/x")

    assert (first, second, third) == (
        {"Authorization": "Bearer 1"},
        {"Authorization": "Bearer 1"},
        {"Authorization": "Bearer 2"},
    )

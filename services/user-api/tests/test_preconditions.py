import re

import pytest

from user_api.errors import BadRequestError
from user_api.preconditions import (
    IF_MATCH_PATTERN,
    MAX_TAGS,
    IfMatch,
    etag_for,
    new_version,
    parse_if_match,
)

pytestmark = pytest.mark.unit


def test_etags_are_strong_quoted_and_new_on_every_version() -> None:
    first, second = new_version(), new_version()

    assert first != second
    assert etag_for(first) == f'"{first}"'


def test_no_header_means_no_condition() -> None:
    assert parse_if_match(None) is None


def test_star_holds_for_any_existing_profile_only() -> None:
    condition = parse_if_match(" * ")

    assert condition == IfMatch(any_version=True)
    assert condition.holds_for("abc")
    assert not condition.holds_for(None)


def test_a_list_holds_when_one_strong_tag_is_current() -> None:
    condition = parse_if_match('"a", W/"b" ,"c"')

    assert condition.versions == ("a", "c")
    assert condition.holds_for("c")
    assert not condition.holds_for("b"), "weak tags never match strongly"
    assert not condition.holds_for(None)


@pytest.mark.parametrize("header", ["", "abc", '"a" "b"', '"a', "**", '"a",,"b"', "W/"])
def test_a_malformed_header_is_a_400_naming_if_match(header: str) -> None:
    with pytest.raises(BadRequestError) as caught:
        parse_if_match(header)

    assert caught.value.code == "invalid_if_match"


def test_too_many_tags_are_refused() -> None:
    header = ", ".join(f'"{n}"' for n in range(MAX_TAGS + 1))

    with pytest.raises(BadRequestError, match="at most"):
        parse_if_match(header)


@pytest.mark.parametrize("header", ['"a"', "*", 'W/"x", "y"', '  "a" ,"b"  '])
def test_the_documented_pattern_accepts_what_the_parser_accepts(header: str) -> None:
    assert re.fullmatch(IF_MATCH_PATTERN, header)
    assert parse_if_match(header) is not None

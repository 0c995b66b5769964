from decimal import Decimal

import pytest

from user_api.attributes import (
    INTERNAL_FIELDS,
    MAX_DEPTH,
    attribute_problems,
    item_size,
    pointer,
)

pytestmark = pytest.mark.unit


def codes(document, removals_allowed=False):
    return [
        (p.field, p.code)
        for p in attribute_problems(document, removals_allowed=removals_allowed)
    ]


def test_a_valid_profile_has_no_problems() -> None:
    document = {
        "status": "active",
        "name": "Ada",
        "height": Decimal("30.4"),
        "tags": ["a", {"nested-key with spaces": [True, None]}],
        "Nick_name-2": "",
    }

    assert codes(document) == []


def test_the_body_must_be_an_object() -> None:
    assert codes([1, 2]) == [("", "not_an_object")]


@pytest.mark.parametrize("name", sorted(INTERNAL_FIELDS))
def test_internal_fields_cannot_be_written(name: str) -> None:
    assert codes({name: "x"}) == [(f"/{name}", "read_only_field")]


def test_internal_fields_cannot_be_removed_by_patch_either() -> None:
    assert codes({"version": None}, removals_allowed=True) == [
        ("/version", "read_only_field")
    ]


@pytest.mark.parametrize(
    "name",
    [
        "",
        "1abc",
        "a b",
        "a.b",
        "_x",
        "a" * 65,
        "é",
        # Look-alikes of internal names: long s, Kelvin sign, Cyrillic e,
        # a fullwidth letter, a trailing newline, a zero-width space.
        "\u017ftatus",
        "\u212aey",
        "\u0435mail",
        "\uff45mail",
        "email\n",
        "e\u200bmail",
    ],
)
def test_bad_attribute_names_are_named_in_the_problem(name: str) -> None:
    assert codes({name: 1}) == [(pointer("", name), "invalid_attribute_name")]


def test_every_problem_is_reported_at_once_with_its_pointer() -> None:
    document = {
        "user_id": "someone-else",
        "bad name": 1,
        "ok": {"a/b": [Decimal("1E+200")]},
    }

    assert codes(document) == [
        ("/user_id", "read_only_field"),
        ("/bad name", "invalid_attribute_name"),
        ("/ok/a~1b/0", "number_out_of_range"),
    ]


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("1" * 39, "number_too_precise"),
        ("1.00000000000000000000000000000000000001", "number_too_precise"),
        ("1E+126", "number_out_of_range"),
        ("-1E+126", "number_out_of_range"),
        ("1E-131", "number_out_of_range"),
        ("NaN", "invalid_number"),
    ],
)
def test_numbers_dynamodb_cannot_hold_exactly_are_refused(
    number: str, code: str
) -> None:
    assert codes({"n": Decimal(number)}) == [("/n", code)]


@pytest.mark.parametrize(
    "number",
    [
        "0",
        "1E+125",
        "9.9999999999999999999999999999999999999E+125",
        "1E-130",
        "1" * 38,
        "100000000000000000000000000000000000000000000",
    ],
)
def test_numbers_within_dynamodbs_limits_are_accepted(number: str) -> None:
    assert codes({"n": Decimal(number)}) == []


def test_patch_may_send_null_to_remove_an_attribute() -> None:
    assert codes({"gone": None}, removals_allowed=True) == []


def test_values_may_nest_up_to_the_limit_and_no_deeper() -> None:
    allowed: object = "leaf"
    for _ in range(MAX_DEPTH):
        allowed = [allowed]
    too_deep = [allowed]

    assert codes({"v": allowed}) == []
    assert codes({"v": too_deep}) == [("/v" + "/0" * MAX_DEPTH, "too_deep")]


def test_strings_with_unpaired_surrogates_are_refused() -> None:
    assert codes({"s": "a\ud800b", "m": {"\udfff": 1}}) == [
        ("/s", "invalid_string"),
        ("/m/\udfff", "invalid_key"),
    ]


def test_empty_and_overlong_object_keys_are_refused() -> None:
    assert codes({"m": {"": 1, "k" * 256: 2, "k" * 255: 3}}) == [
        ("/m/", "invalid_key"),
        ("/m/" + "k" * 256, "invalid_key"),
    ]


def test_item_size_follows_dynamodbs_rules() -> None:
    # name bytes + value: string bytes, number (digits/2)+1, bool/null 1,
    # list/map 3 + 1 per element + elements (map keys count as names).
    assert item_size({"ab": "héllo"}) == 2 + 6
    assert item_size({"n": Decimal("12345")}) == 1 + 4
    assert item_size({"n": Decimal("1E+20")}) == 1 + 2
    assert item_size({"b": True, "z": None}) == 2 + 2
    assert item_size({"l": [Decimal(1), "x"]}) == 1 + 3 + (1 + 2) + (1 + 1)
    assert item_size({"m": {"k": "v"}}) == 1 + 3 + (1 + 1 + 1)


def test_item_size_may_stop_counting_once_past_a_limit() -> None:
    item = {"l": ["x"] * 1000}

    assert item_size(item) == 1 + 3 + 1000 * 2
    assert 100 < item_size(item, stop_above=100) < 1 + 3 + 1000 * 2
    assert item_size(item, stop_above=10_000) == item_size(item)

"""Unit tests: events as DynamoDB items."""

from decimal import Decimal

import pytest

from connectors.errors import InvalidEvent, ItemTooLarge
from connectors.items import MAX_ITEM_BYTES, item_size, to_item
from connectors.payloads import encode_event, parse_event

pytestmark = pytest.mark.unit


def test_text_numbers_are_parsed_exactly() -> None:
    data = parse_event(b'{"a": 0.1, "b": 10000000000000000000001, "c": 1.50}')

    assert data == {
        "a": Decimal("0.1"),
        "b": 10000000000000000000001,
        "c": Decimal("1.50"),
    }
    assert isinstance(data["a"], Decimal)


@pytest.mark.parametrize(
    "text", [b'{"a": NaN}', b'{"a": Infinity}', b'{"a": -Infinity}']
)
def test_non_finite_numbers_are_refused(text: bytes) -> None:
    with pytest.raises(InvalidEvent, match="non-JSON number"):
        parse_event(text)


@pytest.mark.parametrize("text", [b"[1, 2]", b'"x"', b"{not json", b"\xff\xfe"])
def test_event_must_be_a_json_object(text: bytes) -> None:
    with pytest.raises(InvalidEvent):
        parse_event(text)


def test_floats_become_decimals_from_their_shortest_text() -> None:
    item = to_item({"p": 0.1, "q": 1e-7, "n": 7, "flag": True, "none": None})

    assert item["p"] == {"N": "0.1"}
    assert item["q"] == {"N": "1E-7"}
    assert item["n"] == {"N": "7"}
    assert item["flag"] == {"BOOL": True}
    assert item["none"] == {"NULL": True}


def test_trailing_zeros_beyond_38_digits_are_kept_exactly() -> None:
    value = Decimal("1." + "0" * 45)

    assert Decimal(to_item({"v": value})["v"]["N"]) == 1


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (float("nan"), "nan"),
        (Decimal("1" * 39), "39 significant digits"),
        (Decimal("1e126"), "outside DynamoDB's range"),
        (Decimal("1e-131"), "outside DynamoDB's range"),
        ({1, 2}, "not JSON"),
    ],
)
def test_values_dynamodb_cannot_hold_are_refused(value: object, message: str) -> None:
    with pytest.raises(InvalidEvent, match=message):
        to_item({"v": value})


def test_nesting_deeper_than_dynamodb_allows_is_refused() -> None:
    value: dict = {}
    for _ in range(40):
        value = {"a": value}

    with pytest.raises(InvalidEvent, match="deeper"):
        to_item({"v": value})


def test_size_counts_names_and_values() -> None:
    item = to_item({"ab": "xyz", "n": 12345, "m": {"k": [True, None]}})

    # ab+xyz, n+3 bytes for 5 digits, m + map(3 + k + list(3 + 1+1 + 1+1) + 1)
    assert item_size(item) == (2 + 3) + (1 + 4) + (1 + 3 + 1 + 1 + 3 + 2 + 2)


def test_item_just_over_400_kb_is_refused_and_just_under_is_kept() -> None:
    to_item({"s": "x" * (MAX_ITEM_BYTES - 1)})

    with pytest.raises(ItemTooLarge, match=r"409602 bytes, over DynamoDB's 409600"):
        to_item({"s": "x" * (MAX_ITEM_BYTES + 1)})


def test_inline_event_is_encoded_compactly_and_non_finite_refused() -> None:
    assert encode_event({"a": 1, "é": "ü"}) == '{"a":1,"é":"ü"}'.encode()

    with pytest.raises(InvalidEvent):
        encode_event({"a": float("inf")})

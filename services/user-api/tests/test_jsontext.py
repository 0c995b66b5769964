from decimal import Decimal

import pytest

from user_api import jsontext

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("30.4", "30.4"),
        ("10", "10"),
        ("1e2", "100"),
        ("30.40", "30.4"),
        ("-0", "0"),
        ("0.000001", "0.000001"),
        (
            "12345678901234567890123456789012345678",
            "12345678901234567890123456789012345678",
        ),
    ],
)
def test_numbers_are_read_and_written_back_exactly(text: str, written: str) -> None:
    value = jsontext.loads(text)

    assert isinstance(value, Decimal)
    assert jsontext.dumps(value) == written


def test_a_float_never_appears_when_parsing() -> None:
    value = jsontext.loads('{"a": [0.1, 2, {"b": 3.0}]}')

    assert value == {"a": [Decimal("0.1"), Decimal(2), {"b": Decimal("3.0")}]}
    assert not any(isinstance(item, float) for item in value["a"])


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused(constant: str) -> None:
    with pytest.raises(jsontext.JsonTextError, match="not a JSON number"):
        jsontext.loads(f'{{"x": {constant}}}')


def test_a_member_given_twice_is_refused() -> None:
    with pytest.raises(jsontext.JsonTextError, match="'a' appears twice"):
        jsontext.loads('{"a": 1, "a": 2}')


def test_nesting_past_the_parser_limit_is_an_error_not_a_crash() -> None:
    with pytest.raises(jsontext.JsonTextError, match="nested too deeply"):
        jsontext.loads("[" * 100_000 + "]" * 100_000)


def test_malformed_json_names_the_position() -> None:
    with pytest.raises(jsontext.JsonTextError, match="line 1 column 7"):
        jsontext.loads('{"a": }')


def test_huge_integers_parse_without_pythons_digit_limit() -> None:
    value = jsontext.loads("1" * 5000)

    assert value == Decimal("1" * 5000)


def test_dumps_writes_every_json_type_as_ascii() -> None:
    text = jsontext.dumps(
        {"s": 'é\n"', "t": True, "f": False, "n": None, "l": [Decimal("1.50")]}
    )

    assert text == '{"s":"\\u00e9\\n\\"","t":true,"f":false,"n":null,"l":[1.5]}'


def test_dumps_refuses_floats_rather_than_rounding_them() -> None:
    with pytest.raises(TypeError):
        jsontext.dumps({"x": 0.1})


@pytest.mark.parametrize(
    "text", ["1e999999999999999999999", "-2.5E-999999999999999999999"]
)
def test_a_number_beyond_decimals_exponent_range_parses_and_writes_back(text) -> None:
    value = jsontext.loads(f"[{text}]")

    assert value == [jsontext.UnrepresentableNumber(text)]
    assert jsontext.dumps(value) == f"[{text}]"


def test_zero_with_an_exponent_beyond_decimals_range_is_zero() -> None:
    assert jsontext.loads("-0.0e99999999999999999999999") == 0

"""JSON text to Python values and back, with numbers kept exact.

Every JSON number is read as a ``Decimal`` from its own text and written back
in plain notation without trailing zeros, so ``30.4`` stays ``30.4`` and
``10`` stays ``10``: the same text DynamoDB gives back for a stored number.
The standard library's encoder cannot write a ``Decimal`` without going
through ``float``, hence the small encoder here. Output is ASCII, non-ASCII
characters escaped, so even an unpaired surrogate echoed in an error
message stays valid JSON on the wire.

A number whose exponent is beyond what ``Decimal`` can hold at all
(``1e999999999999999999999``) is read as an ``UnrepresentableNumber`` so that
validation can refuse it at its own field rather than the parser failing.
"""

import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

_ZERO_MANTISSA = re.compile(r"-?0*(\.0*)?([eE].*)?")


class JsonTextError(ValueError):
    """The text is not JSON this API accepts; the message says where."""


def _refuse_constant(name: str) -> Any:
    raise JsonTextError(f"{name} is not a JSON number; send a finite number")


@dataclass(frozen=True)
class UnrepresentableNumber:
    """A JSON number too far from 1 for ``Decimal``; validation refuses it.

    Written back as its own text, so that parsing and writing round-trip.
    """

    text: str


def _number(text: str) -> Decimal | UnrepresentableNumber:
    try:
        return Decimal(text)
    except InvalidOperation:
        # Only the exponent can be out of Decimal's range: zero stays zero.
        if _ZERO_MANTISSA.fullmatch(text):
            return Decimal(0)
        return UnrepresentableNumber(text)


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise JsonTextError(f"member {key!r} appears twice in one object")
        result[key] = value
    return result


def loads(text: str) -> Any:
    """Parse JSON text; numbers become ``Decimal``, NaN and Infinity refused.

    A number ``Decimal`` cannot hold becomes an ``UnrepresentableNumber``.
    """
    try:
        return json.loads(
            text,
            parse_float=_number,
            parse_int=_number,
            parse_constant=_refuse_constant,
            object_pairs_hook=_refuse_duplicates,
        )
    except json.JSONDecodeError as exc:
        raise JsonTextError(
            f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
    except RecursionError as exc:
        raise JsonTextError("not valid JSON here: nested too deeply") from exc


def significant_digits(number: Decimal) -> tuple[int, ...]:
    """The digits of a finite number without leading or trailing zeros.

    Computed from the number's tuple rather than ``normalize()``, which
    rounds to the context's 28 digits.
    """
    digits = number.as_tuple().digits
    start = 0
    while start < len(digits) and digits[start] == 0:
        start += 1
    end = len(digits)
    while end > start and digits[end - 1] == 0:
        end -= 1
    return tuple(digits[start:end]) or (0,)


def number_text(number: Decimal | int) -> str:
    """The canonical text of a finite number: plain notation, no spare zeros."""
    if isinstance(number, int):
        return str(number)
    if not number.is_finite():
        raise JsonTextError(f"{number} is not a finite number")
    if number.is_zero():
        return "0"
    sign, digits, exponent = number.as_tuple()
    text = "".join(map(str, digits)).lstrip("0")
    stripped = text.rstrip("0")
    exponent += len(text) - len(stripped)
    if exponent >= 0:
        plain = stripped + "0" * exponent
    elif -exponent < len(stripped):
        plain = f"{stripped[:exponent]}.{stripped[exponent:]}"
    else:
        plain = "0." + "0" * (-exponent - len(stripped)) + stripped
    return ("-" if sign else "") + plain


def dumps(value: Any) -> str:
    """Write compact ASCII JSON; ``Decimal`` numbers keep every digit."""
    parts: list[str] = []
    _encode(value, parts)
    return "".join(parts)


def _encode(value: Any, parts: list[str]) -> None:
    # bool before int: True is an int to Python, a literal to JSON.
    if value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif isinstance(value, str):
        parts.append(json.dumps(value))
    elif isinstance(value, Decimal | int):
        parts.append(number_text(value))
    elif isinstance(value, UnrepresentableNumber):
        parts.append(value.text)
    elif isinstance(value, dict):
        parts.append("{")
        for index, (key, item) in enumerate(value.items()):
            if index:
                parts.append(",")
            parts.append(json.dumps(str(key)))
            parts.append(":")
            _encode(item, parts)
        parts.append("}")
    elif isinstance(value, list | tuple):
        parts.append("[")
        for index, item in enumerate(value):
            if index:
                parts.append(",")
            _encode(item, parts)
        parts.append("]")
    else:
        raise TypeError(f"cannot write {type(value).__name__} as exact JSON")

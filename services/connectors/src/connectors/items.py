"""Events as DynamoDB items: exact numbers, and the 400 KB limit measured.

DynamoDB refuses Python floats. Fractions read from text are already
``Decimal``; floats (inline events, parsed by the Lambda runtime) become
``Decimal`` from their shortest text (``repr``), which is the text they were
parsed from whenever that text had 17 or fewer significant digits.
"""

import math
from decimal import Decimal, DecimalException
from typing import Any

from boto3.dynamodb.types import TypeSerializer

from connectors.errors import InvalidEvent, ItemTooLarge

MAX_ITEM_BYTES = 400 * 1024
MAX_DEPTH = 32
# DynamoDB's number range: 38 significant digits, magnitude 1E-130..<1E126.
MIN_EXPONENT = -130
MAX_EXPONENT = 125

_serializer = TypeSerializer()


def _exact(value: Any, path: str, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise InvalidEvent(
            f"event nests deeper than DynamoDB's {MAX_DEPTH} levels at {path}",
            retryable=False,
        )
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidEvent(f"event number at {path} is {value}", retryable=False)
        return _check_number(Decimal(repr(value)), path)
    if isinstance(value, int | Decimal):
        return _check_number(Decimal(value), path)
    if isinstance(value, dict):
        return {str(k): _exact(v, f"{path}.{k}", depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_exact(v, f"{path}[{i}]", depth + 1) for i, v in enumerate(value)]
    raise InvalidEvent(
        f"event value at {path} is a {type(value).__name__}, not JSON",
        retryable=False,
    )


def exact(value: Any) -> Any:
    """A JSON value with every number as an exact, DynamoDB-ready Decimal.

    Paths in error messages start at ``$``, the value given.
    """
    return _exact(value, "$", 0)


def _check_number(number: Decimal, path: str) -> Decimal:
    if not number.is_finite():
        raise InvalidEvent(f"event number at {path} is {number}", retryable=False)
    if number.is_zero():
        return Decimal(0)
    # Trailing zeros are not significant, but the context would round them.
    if len(number.as_tuple().digits) > 38:
        number = _strip_trailing_zeros(number)
    digits = len(_strip_trailing_zeros(number).as_tuple().digits)
    if digits > 38:
        raise InvalidEvent(
            f"event number at {path} has {digits} significant digits; DynamoDB "
            "keeps at most 38, send it as a string to keep it exact",
            retryable=False,
        )
    if not MIN_EXPONENT <= number.adjusted() <= MAX_EXPONENT:
        raise InvalidEvent(
            f"event number at {path} ({number}) is outside DynamoDB's range "
            "1E-130 to 9.99E+125",
            retryable=False,
        )
    return number


def _strip_trailing_zeros(number: Decimal) -> Decimal:
    """The same value without trailing zeros, exactly (no context rounding)."""
    sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)
    kept = len(digits)
    while kept > 1 and digits[kept - 1] == 0:
        kept -= 1
    return Decimal((sign, digits[:kept], exponent + len(digits) - kept))


def to_item(fields: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A low-level DynamoDB item from plain values; InvalidEvent if impossible."""
    exact = _exact(fields, "$", 0)
    try:
        item = {name: _serializer.serialize(value) for name, value in exact.items()}
    except (TypeError, DecimalException) as exc:
        raise InvalidEvent(
            f"event cannot be a DynamoDB item: {exc}", retryable=False
        ) from exc

    size = item_size(item)
    if size > MAX_ITEM_BYTES:
        raise ItemTooLarge(
            f"item would be {size} bytes, over DynamoDB's {MAX_ITEM_BYTES}-byte "
            "(400 KB) item limit; deliver large events to a webhook or trim them",
            retryable=False,
        )
    return item


def item_size(item: dict[str, dict[str, Any]]) -> int:
    """Bytes DynamoDB counts for an item: names plus values."""
    return sum(len(name.encode()) + _value_size(v) for name, v in item.items())


def _value_size(value: dict[str, Any]) -> int:
    (kind, inner), *_ = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        return _number_size(inner)
    if kind == "B":
        return len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(1 + _value_size(v) for v in inner)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + _value_size(v) for k, v in inner.items())
    if kind == "SS":
        return sum(len(s.encode()) for s in inner)
    if kind == "NS":
        return sum(_number_size(n) for n in inner)
    return sum(len(b) for b in inner)


def _number_size(text: str) -> int:
    # About one byte per two significant digits, plus one.
    number = Decimal(text)
    if number.is_zero():
        return 2
    digits = len(_strip_trailing_zeros(number).as_tuple().digits)
    return (digits + 1) // 2 + 1

"""What a profile may hold, and how big DynamoDB will count it.

A profile is a flat JSON object: its member names are attribute names and
its values are any JSON value (string, number, boolean, null, list, object).
Names follow one pattern so they read well in DynamoDB and in the console;
internal fields are the API's own and never written by a client. Numbers
must fit DynamoDB's number type: at most 38 significant digits, magnitude
between 1E-130 and 1E+126 (or zero). Validation reports every problem at
once, each at the JSON Pointer of the offending member.
"""

import re
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from user_api.errors import Problem
from user_api.jsontext import significant_digits

INTERNAL_FIELDS = frozenset({"user_id", "email", "version", "created_at", "updated_at"})

NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_-]{0,63}$"
MAX_NAME_CHARS = 64
MAX_KEY_CHARS = 255
MAX_DEPTH = 16
MAX_DIGITS = 38
MIN_EXPONENT = -130
MAX_EXPONENT = 125

# A response lists this many problems at most; the rest are counted.
MAX_PROBLEMS = 50

_NAME = re.compile(NAME_PATTERN)


def pointer(parent: str, token: str | int) -> str:
    """The JSON Pointer (RFC 6901) of ``token`` under ``parent``."""
    escaped = str(token).replace("~", "~0").replace("/", "~1")
    return f"{parent}/{escaped}"


def _shown(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


def attribute_problems(document: Any, *, removals_allowed: bool) -> list[Problem]:
    """Every problem with a request body; empty when it is a valid profile.

    ``removals_allowed`` is for PATCH, where a ``null`` value means "remove
    this attribute" and so is always acceptable at the top level.
    """
    if not isinstance(document, dict):
        return [
            Problem(
                "",
                "not_an_object",
                "the body must be a JSON object of attribute names to values",
            )
        ]

    problems: list[Problem] = []
    for name, value in document.items():
        where = pointer("", name)
        if name in INTERNAL_FIELDS:
            problems.append(
                Problem(
                    where,
                    "read_only_field",
                    f"{name!r} is kept by the API and cannot be written; "
                    "leave it out of the body",
                )
            )
            continue
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            problems.append(
                Problem(
                    where,
                    "invalid_attribute_name",
                    f"attribute name {_shown(name)} must start with a letter and "
                    "hold only letters, digits, '_' and '-', "
                    f"at most {MAX_NAME_CHARS} characters",
                )
            )
            continue
        if value is None and removals_allowed:
            continue
        problems.extend(_value_problems(value, where, depth=0))
    return problems


def _value_problems(value: Any, where: str, depth: int) -> Iterator[Problem]:
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, str):
        if not _encodable(value):
            yield Problem(
                where,
                "invalid_string",
                "the string holds an unpaired surrogate (\\ud800-\\udfff) and "
                "is not valid Unicode; send well-formed text",
            )
        return
    if isinstance(value, int):
        value = Decimal(value)
    if isinstance(value, Decimal):
        problem = number_problem(value, where)
        if problem is not None:
            yield problem
        return
    if isinstance(value, list | dict):
        if depth >= MAX_DEPTH:
            yield Problem(
                where,
                "too_deep",
                f"lists and objects may nest at most {MAX_DEPTH} levels deep",
            )
            return
        if isinstance(value, list):
            for index, item in enumerate(value):
                yield from _value_problems(item, pointer(where, index), depth + 1)
            return
        for key, item in value.items():
            inner = pointer(where, key)
            if not 1 <= len(key) <= MAX_KEY_CHARS or not _encodable(key):
                yield Problem(
                    inner,
                    "invalid_key",
                    f"object keys must be valid Unicode text of 1 to "
                    f"{MAX_KEY_CHARS} characters",
                )
                continue
            yield from _value_problems(item, inner, depth + 1)
        return
    yield Problem(where, "invalid_value", f"{type(value).__name__} is not a JSON value")


def number_problem(number: Decimal, where: str) -> Problem | None:
    """Why DynamoDB could not store ``number`` exactly, or None if it can."""
    text = str(number)
    if not number.is_finite():
        return Problem(where, "invalid_number", f"{text} is not a finite number")
    if number.is_zero():
        return None
    digits = len(significant_digits(number))
    if digits > MAX_DIGITS:
        return Problem(
            where,
            "number_too_precise",
            f"{_shown(text)} has {digits} significant digits; "
            f"DynamoDB keeps at most {MAX_DIGITS} (send it as a string instead)",
        )
    if not MIN_EXPONENT <= number.adjusted() <= MAX_EXPONENT:
        return Problem(
            where,
            "number_out_of_range",
            f"{_shown(text)} is outside DynamoDB's range: magnitudes from "
            "1E-130 to below 1E+126, or zero (send it as a string instead)",
        )
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def item_size(item: Mapping[str, Any]) -> int:
    """The item's size in bytes as DynamoDB counts it against the 400 KB."""
    return sum(_utf8_len(name) + _value_size(value) for name, value in item.items())


def _value_size(value: Any) -> int:
    if value is None or isinstance(value, bool):
        return 1
    if isinstance(value, str):
        return _utf8_len(value)
    if isinstance(value, Decimal | int):
        digits = len(significant_digits(Decimal(value)))
        return (digits + 1) // 2 + 1
    if isinstance(value, bytes):
        return len(value)
    if isinstance(value, list | tuple | set | frozenset):
        return 3 + sum(1 + _value_size(item) for item in value)
    if isinstance(value, dict):
        return 3 + sum(
            _utf8_len(key) + 1 + _value_size(item) for key, item in value.items()
        )
    raise TypeError(f"cannot size {type(value).__name__}")


def _utf8_len(text: str) -> int:
    return len(text.encode("utf-8", errors="surrogatepass"))

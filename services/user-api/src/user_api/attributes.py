"""What a profile may hold, and how big DynamoDB will count it.

A profile is a flat JSON object: its member names are attribute names and
its values are any JSON value (string, number, boolean, null, list, object).
Names follow one pattern so they read well in DynamoDB and in the console;
internal fields are the API's own and never written by a client, in any
letter case. Numbers must fit DynamoDB's number type: at most 38
significant digits, magnitude between 1E-130 and 1E+126 (or zero).
Validation reports every problem at once, each at the JSON Pointer of the
offending member.
"""

import re
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from user_api.errors import Problem
from user_api.jsontext import UnrepresentableNumber, significant_digits

INTERNAL_FIELDS = frozenset({"user_id", "email", "version", "created_at", "updated_at"})

# The internal names in any letter case, as a JSON Schema (ECMA) pattern for
# the OpenAPI document, which has no case-insensitive flag.
INTERNAL_NAME_PATTERN = "^({})$".format(
    "|".join(
        "".join(f"[{c.upper()}{c}]" if c.isalpha() else c for c in name)
        for name in sorted(INTERNAL_FIELDS)
    )
)

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


def is_attribute_name(name: str) -> bool:
    """Whether ``name`` follows the name rules (internal names included)."""
    return bool(_NAME.fullmatch(name))


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
        # DynamoDB names are case-sensitive, but "Email" beside "email" would
        # pass for the verified address in the console, so no case counts.
        if isinstance(name, str) and name.lower() in INTERNAL_FIELDS:
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
    if isinstance(value, UnrepresentableNumber):
        yield _out_of_range(value.text, where)
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
        # A 1 MiB body can hold half a million values: the plainly valid
        # scalars are passed over without building their pointers, or the
        # check alone could outlast the function's timeout.
        if isinstance(value, list):
            for index, item in enumerate(value):
                if not _plainly_valid(item):
                    yield from _value_problems(item, pointer(where, index), depth + 1)
            return
        for key, item in value.items():
            if not 1 <= len(key) <= MAX_KEY_CHARS or not _encodable(key):
                yield Problem(
                    pointer(where, key),
                    "invalid_key",
                    f"object keys must be valid Unicode text of 1 to "
                    f"{MAX_KEY_CHARS} characters",
                )
                continue
            if not _plainly_valid(item):
                yield from _value_problems(item, pointer(where, key), depth + 1)
        return
    yield Problem(where, "invalid_value", f"{type(value).__name__} is not a JSON value")


def _plainly_valid(value: Any) -> bool:
    """A quick yes for the common scalars; False means "check it fully"."""
    kind = type(value)
    if value is None or kind is bool:
        return True
    if kind is str:
        # ASCII text cannot hold an unpaired surrogate.
        return value.isascii()
    if kind is Decimal:
        if not value.is_finite():
            return False
        if value.is_zero():
            return True
        return (
            len(value.as_tuple().digits) <= MAX_DIGITS
            and MIN_EXPONENT <= value.adjusted() <= MAX_EXPONENT
        )
    return False


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
        return _out_of_range(text, where)
    return None


def _out_of_range(text: str, where: str) -> Problem:
    return Problem(
        where,
        "number_out_of_range",
        f"{_shown(text)} is outside DynamoDB's range: magnitudes from "
        "1E-130 to below 1E+126, or zero (send it as a string instead)",
    )


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def item_size(item: Mapping[str, Any], *, stop_above: int | None = None) -> int:
    """The item's size in bytes as DynamoDB counts it against the 400 KB.

    With ``stop_above``, counting stops as soon as the total passes it (the
    result is then only known to be larger): a hostile body of half a million
    values need not be counted to the end to be refused.
    """
    total = 0
    pending: list[Any] = []
    for name, value in item.items():
        total += _utf8_len(name)
        pending.append(value)
    while pending:
        value = pending.pop()
        if value is None or isinstance(value, bool):
            total += 1
        elif isinstance(value, str):
            total += _utf8_len(value)
        elif isinstance(value, Decimal | int):
            number = value if type(value) is Decimal else Decimal(value)
            total += (len(significant_digits(number)) + 1) // 2 + 1
        elif isinstance(value, bytes):
            total += len(value)
        elif isinstance(value, list | tuple | set | frozenset):
            # 3 bytes per list, 1 per element, then the elements.
            total += 3 + len(value)
            pending.extend(value)
        elif isinstance(value, dict):
            total += 3 + len(value)
            for key, inner in value.items():
                total += _utf8_len(key)
                pending.append(inner)
        else:
            raise TypeError(f"cannot size {type(value).__name__}")
        if stop_above is not None and total > stop_above:
            break
    return total


def _utf8_len(text: str) -> int:
    return len(text.encode("utf-8", errors="surrogatepass"))

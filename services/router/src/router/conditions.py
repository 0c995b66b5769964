"""Leaf conditions of an event pattern and how each tests one event value.

A leaf of a pattern is an array of conditions, any of which may match. Every
condition here tests one scalar of the event (a string, number, boolean or
null); arrays in the event are flattened before the test, so a condition
matches an array when it matches any element. ``exists`` is the exception:
it asks whether the field has any scalar at all, and is handled by the
matcher rather than per value.

Each condition also says how it can be indexed (``index_kind`` and
``index_value``), so the rule set can find candidate rules by field and
value instead of trying every rule.
"""

import ipaddress
import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

# Index kinds. A condition with one of these can be found from the event's
# value by a dictionary lookup; any other condition needs a full test.
EXACT = "exact"
IGNORE_CASE = "ignore-case"
PREFIX = "prefix"
PREFIX_IGNORE_CASE = "prefix-ignore-case"
SUFFIX = "suffix"
SUFFIX_IGNORE_CASE = "suffix-ignore-case"


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def exact_key(value: Any) -> Any:
    """The lookup key of a scalar: strings as themselves, others tagged.

    Tags keep ``True``, ``1`` and ``1.0`` apart (Python hashes them alike);
    numbers compare by value, so ``5`` matches ``5.0`` as in EventBridge.
    """
    if isinstance(value, str):
        return value
    if value is None:
        return ("null",)
    if isinstance(value, bool):
        return ("bool", value)
    if is_number(value):
        try:
            return ("num", float(value))
        except OverflowError:
            # An integer beyond any float equals no pattern number.
            return ("num", value)
    return ("other", repr(value))


@dataclass(frozen=True)
class Condition:
    """Base: a test of one scalar, plus how the condition can be indexed."""

    index_kind: str | None = field(default=None, init=False)
    index_value: Any = field(default=None, init=False)
    # True when an index hit alone proves the condition holds.
    index_decides: bool = field(default=False, init=False)

    def test(self, value: Any) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True)
class Exact(Condition):
    """``"value"``, ``5``, ``true`` or ``null`` in a leaf array."""

    value: Any = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "index_kind", EXACT)
        object.__setattr__(self, "index_decides", True)
        object.__setattr__(self, "index_value", exact_key(self.value))

    def test(self, value: Any) -> bool:
        if type(value) is str:
            # A string key is the string itself; tagged keys never equal one.
            return value == self.index_value
        return exact_key(value) == self.index_value


@dataclass(frozen=True)
class EqualsIgnoreCase(Condition):
    text: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "index_kind", IGNORE_CASE)
        object.__setattr__(self, "index_decides", True)
        object.__setattr__(self, "index_value", self.text.casefold())

    def test(self, value: Any) -> bool:
        return isinstance(value, str) and value.casefold() == self.index_value


@dataclass(frozen=True)
class _Affix(Condition):
    """A text at one end of a string value, optionally ignoring case."""

    text: str = ""
    ignore_case: bool = False
    # (exact kind, ignore-case kind) of the index, set by each subclass.
    kinds: ClassVar[tuple[str, str]] = ("", "")

    def __post_init__(self) -> None:
        kind = self.kinds[1] if self.ignore_case else self.kinds[0]
        text = self.text.casefold() if self.ignore_case else self.text
        object.__setattr__(self, "index_kind", kind)
        object.__setattr__(self, "index_value", text)
        object.__setattr__(self, "index_decides", True)

    def test(self, value: Any) -> bool:
        if not isinstance(value, str):
            return False
        if self.ignore_case:
            value = value.casefold()
        return self.at_end(value)

    def at_end(self, value: str) -> bool:
        raise NotImplementedError


@dataclass(frozen=True)
class Prefix(_Affix):
    kinds: ClassVar[tuple[str, str]] = (PREFIX, PREFIX_IGNORE_CASE)

    def at_end(self, value: str) -> bool:
        return value.startswith(self.index_value)


@dataclass(frozen=True)
class Suffix(_Affix):
    kinds: ClassVar[tuple[str, str]] = (SUFFIX, SUFFIX_IGNORE_CASE)

    def at_end(self, value: str) -> bool:
        return value.endswith(self.index_value)


@dataclass(frozen=True)
class Wildcard(Condition):
    """``*`` matches any run of characters; ``\\*`` and ``\\\\`` are literals.

    Matching is greedy-free and linear: the first piece must be a prefix, the
    last a suffix, and the middle pieces are found left to right, which is
    exact for patterns whose only metacharacter is ``*``.
    """

    pieces: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # A literal head or tail lets the index find the rule by value.
        if len(self.pieces) == 1:
            kind, text = EXACT, self.pieces[0]
        elif self.pieces[0]:
            kind, text = PREFIX, self.pieces[0]
        elif self.pieces[-1]:
            kind, text = SUFFIX, self.pieces[-1]
        else:
            kind, text = None, None
        object.__setattr__(self, "index_kind", kind)
        object.__setattr__(self, "index_value", text)
        object.__setattr__(self, "index_decides", len(self.pieces) == 1)

    def test(self, value: Any) -> bool:
        if not isinstance(value, str):
            return False
        return wildcard_match(self.pieces, value)


def wildcard_match(pieces: tuple[str, ...], value: str) -> bool:
    """Whether ``value`` is ``pieces`` joined by runs of any characters."""
    if len(pieces) == 1:
        return value == pieces[0]
    head, *middle, tail = pieces
    if len(value) < len(head) + len(tail):
        return False
    if not (value.startswith(head) and value.endswith(tail)):
        return False
    position, end = len(head), len(value) - len(tail)
    for piece in middle:
        found = value.find(piece, position, end)
        if found < 0:
            return False
        position = found + len(piece)
    return True


@dataclass(frozen=True)
class Numeric(Condition):
    """``{"numeric": [">", 0, "<=", 5]}``: bounds on a JSON number."""

    low: float = -math.inf
    low_inclusive: bool = False
    high: float = math.inf
    high_inclusive: bool = False

    def test(self, value: Any) -> bool:
        if not is_number(value):
            return False
        if value < self.low or (value == self.low and not self.low_inclusive):
            return False
        return value < self.high or (value == self.high and self.high_inclusive)


@dataclass(frozen=True)
class Cidr(Condition):
    """``{"cidr": "10.0.0.0/24"}``: a string holding an address in the network."""

    network: ipaddress.IPv4Network | ipaddress.IPv6Network | None = None

    def test(self, value: Any) -> bool:
        if not isinstance(value, str) or self.network is None:
            return False
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            return False
        return address.version == self.network.version and address in self.network


@dataclass(frozen=True)
class AnythingBut(Condition):
    """``anything-but``: the value is present and none of the inner tests hit.

    The inner tests are ordinary conditions (values, ``prefix``, ``suffix``,
    ``equals-ignore-case`` or ``wildcard``); a missing field never matches.
    """

    excluded: tuple[Condition, ...] = ()

    def test(self, value: Any) -> bool:
        return not any(inner.test(value) for inner in self.excluded)


@dataclass(frozen=True)
class Exists(Condition):
    """``{"exists": true|false}``: whether the leaf field has any scalar."""

    wanted: bool = True

    def test(self, value: Any) -> bool:
        # Presence is decided by the matcher (see patterns.leaf_matches).
        return self.wanted

"""Compiling an EventBridge event pattern, and matching one against an event.

A pattern compiles to one or more *conjunctions*: ``$or`` is expanded into
its alternatives, so each conjunction is a plain tree of fields (AND) whose
leaves are arrays of conditions (OR). A rule matches when any of its
conjunctions does.

Matching follows event-ruler, the engine behind EventBridge: arrays in the
event are transparent (a leaf matches when any element does), fields under
an array of objects must match within the same element, ``null`` is a value
and differs from ``""``, and ``exists`` looks only at leaf values, so a field
holding an object or an empty array does not "exist".

Patterns that would be slow to match are refused while compiling: too many
``$or`` combinations, too many values, too deep, and wildcards with too many
or consecutive ``*``.
"""

import ipaddress
import math
from dataclasses import dataclass
from itertools import product
from typing import Any

from router.conditions import (
    AnythingBut,
    Cidr,
    Condition,
    EqualsIgnoreCase,
    Exact,
    Exists,
    Numeric,
    Prefix,
    Suffix,
    Wildcard,
    is_number,
)
from router.problems import Problem, child_path

MAX_CONJUNCTIONS = 64
MAX_VALUES = 512
MAX_DEPTH = 12
MAX_WILDCARDS = 5
MAX_WILDCARD_LENGTH = 256
MISSING: Any = object()

_LOWER = {">": False, ">=": True}
_UPPER = {"<": False, "<=": True}


@dataclass(frozen=True)
class Leaf:
    """An array of conditions at one field path."""

    path: tuple[str, ...]
    conditions: tuple[Condition, ...]

    def __post_init__(self) -> None:
        # Precomputed for the matcher's hot path.
        tests = tuple(c.test for c in self.conditions if not isinstance(c, Exists))
        wanted = {c.wanted for c in self.conditions if isinstance(c, Exists)}
        object.__setattr__(self, "tests", tests)
        object.__setattr__(self, "exists_true", True in wanted)
        object.__setattr__(self, "exists_false", False in wanted)

    @property
    def requires_presence(self) -> bool:
        """True when no condition can match a missing field."""
        return not any(isinstance(c, Exists) and not c.wanted for c in self.conditions)


@dataclass(frozen=True)
class Node:
    """An object of a pattern after ``$or`` expansion: every field must match."""

    fields: tuple[tuple[str, "Node | Leaf"], ...]

    def leaves(self) -> list[Leaf]:
        found: list[Leaf] = []
        for _, child in self.fields:
            found.extend([child] if isinstance(child, Leaf) else child.leaves())
        return found


class _Compiler:
    """Walks one pattern, collecting every problem rather than stopping."""

    def __init__(self, rule: str | None) -> None:
        self.rule = rule
        self.problems: list[Problem] = []
        self.values = 0

    def problem(self, code: str, path: str, message: str) -> None:
        self.problems.append(Problem(code, path, message, self.rule))

    def node(
        self, pattern: Any, path: str, keys: tuple[str, ...], depth: int = 0
    ) -> list[Node]:
        """The conjunctions of one pattern object.

        ``depth`` counts ``$or`` levels as well as nested objects, so a
        document of ``$or`` within ``$or`` cannot exhaust the stack.
        """
        if depth > MAX_DEPTH:
            self.problem(
                "pattern-too-deep",
                path,
                f"pattern nests deeper than {MAX_DEPTH} levels; flatten it",
            )
            return []
        if not isinstance(pattern, dict):
            self.problem("pattern-not-object", path, "a pattern must be a JSON object")
            return []
        if not pattern:
            self.problem(
                "pattern-empty", path, "an empty pattern object matches nothing useful"
            )
            return []

        choices: list[list[Node]] = []
        for key, value in pattern.items():
            here = child_path(path, key)
            if key == "$or":
                choices.append(self.alternatives(value, here, keys, depth + 1))
            elif isinstance(value, dict):
                nested = self.node(value, here, (*keys, key), depth + 1)
                choices.append([Node(((key, n),)) for n in nested])
            else:
                leaf = self.leaf(value, here, (*keys, key))
                choices.append([Node(((key, leaf),))] if leaf else [])

        if any(not options for options in choices):
            return []
        combinations = math.prod(len(options) for options in choices)
        if combinations > MAX_CONJUNCTIONS:
            self.problem(
                "pattern-too-complex",
                path,
                f"$or expands to {combinations} combinations, more than "
                f"{MAX_CONJUNCTIONS}; split the rule into several rules",
            )
            return []
        return [
            Node(merge_fields([f for part in combo for f in part.fields]))
            for combo in product(*choices)
        ]

    def alternatives(
        self, value: Any, path: str, keys: tuple[str, ...], depth: int
    ) -> list[Node]:
        if not isinstance(value, list) or len(value) < 2:
            self.problem(
                "or-invalid",
                path,
                "$or must be an array of at least two pattern objects",
            )
            return []
        options: list[Node] = []
        for index, alternative in enumerate(value):
            options.extend(self.node(alternative, child_path(path, index), keys, depth))
        return options

    def leaf(self, value: Any, path: str, keys: tuple[str, ...]) -> Leaf | None:
        if not isinstance(value, list):
            self.problem(
                "value-not-array",
                path,
                f"a pattern value must be an array (or an object to nest); "
                f"write [{_show(value)}]",
            )
            return None
        if not value:
            self.problem(
                "array-empty", path, "a pattern array needs at least one value"
            )
            return None
        if not self.count(len(value), path):
            return None
        conditions = [
            self.condition(item, child_path(path, index))
            for index, item in enumerate(value)
        ]
        if any(c is None for c in conditions):
            return None
        return Leaf(keys, tuple(c for c in conditions if c is not None))

    def condition(self, item: Any, path: str) -> Condition | None:
        if is_number(item):
            return Exact(item) if self.finite(item, path) else None
        if item is None or isinstance(item, str | bool):
            return Exact(item)
        if isinstance(item, list):
            self.problem("value-nested-array", path, "arrays cannot nest in a pattern")
            return None
        if not isinstance(item, dict) or len(item) != 1:
            self.problem(
                "operator-invalid",
                path,
                "an operator is an object with exactly one key, such as "
                '{"prefix": "us-"}',
            )
            return None
        ((operator, argument),) = item.items()
        here = child_path(path, operator)
        builder = _OPERATORS.get(operator)
        if builder is None:
            known = ", ".join(sorted(_OPERATORS))
            self.problem(
                "operator-unknown",
                here,
                f"unknown operator {operator!r}; use one of: {known}",
            )
            return None
        return builder(self, argument, here)

    def count(self, values: int, path: str) -> bool:
        """Add values to the rule's total; False (and a problem) past the cap."""
        self.values += values
        if self.values > MAX_VALUES:
            self.problem(
                "pattern-too-complex",
                path,
                f"the pattern has more than {MAX_VALUES} values; split the rule",
            )
            return False
        return True

    def finite(self, number: Any, path: str) -> bool:
        """Whether a pattern number is usable; records a problem if not."""
        try:
            usable = math.isfinite(float(number))
        except OverflowError:
            usable = False
        if not usable:
            self.problem(
                "number-out-of-range",
                path,
                f"{_show(number)} is not a finite number a float can hold",
            )
        return usable

    # Operators. Each returns a condition or records a problem and None.

    def text_or_ignore_case(
        self, argument: Any, path: str, kind: type[Prefix] | type[Suffix]
    ) -> Condition | None:
        if isinstance(argument, str):
            return kind(argument)
        if (
            isinstance(argument, dict)
            and list(argument) == ["equals-ignore-case"]
            and isinstance(argument["equals-ignore-case"], str)
        ):
            return kind(argument["equals-ignore-case"], ignore_case=True)
        self.problem(
            "operator-bad-value",
            path,
            'expects a string or {"equals-ignore-case": "<string>"}',
        )
        return None

    def prefix(self, argument: Any, path: str) -> Condition | None:
        return self.text_or_ignore_case(argument, path, Prefix)

    def suffix(self, argument: Any, path: str) -> Condition | None:
        return self.text_or_ignore_case(argument, path, Suffix)

    def equals_ignore_case(self, argument: Any, path: str) -> Condition | None:
        if isinstance(argument, str):
            return EqualsIgnoreCase(argument)
        self.problem("operator-bad-value", path, "equals-ignore-case expects a string")
        return None

    def wildcard(self, argument: Any, path: str) -> Condition | None:
        if not isinstance(argument, str):
            self.problem("operator-bad-value", path, "wildcard expects a string")
            return None
        if len(argument) > MAX_WILDCARD_LENGTH:
            self.problem(
                "wildcard-too-complex",
                path,
                f"wildcard is longer than {MAX_WILDCARD_LENGTH} characters",
            )
            return None
        pieces, problem = split_wildcard(argument)
        if problem:
            self.problem("wildcard-invalid", path, problem)
            return None
        if len(pieces) - 1 > MAX_WILDCARDS:
            self.problem(
                "wildcard-too-complex",
                path,
                f"wildcard has {len(pieces) - 1} '*', more than {MAX_WILDCARDS}",
            )
            return None
        return Wildcard(tuple(pieces))

    def numeric(self, argument: Any, path: str) -> Condition | None:
        usage = 'numeric expects [">", 0, "<=", 5] or ["=", 5]'
        if (
            not isinstance(argument, list)
            or len(argument) not in (2, 4)
            or not all(isinstance(op, str) for op in argument[0::2])
            or not all(is_number(n) for n in argument[1::2])
        ):
            self.problem("numeric-invalid", path, usage)
            return None
        if not all([self.finite(n, path) for n in argument[1::2]]):
            return None
        if argument[0] == "=" and len(argument) == 2:
            number = float(argument[1])
            return Numeric(number, True, number, True)

        bounds: dict[str, Any] = {}
        for operator, number in zip(argument[0::2], argument[1::2], strict=True):
            side = (
                "low" if operator in _LOWER else "high" if operator in _UPPER else None
            )
            if side is None or side in bounds:
                self.problem(
                    "numeric-invalid",
                    path,
                    f"{usage}; {operator!r} is unknown or repeats a bound",
                )
                return None
            inclusive = _LOWER.get(operator, _UPPER.get(operator))
            bounds[side] = (float(number), inclusive)
        low, low_inclusive = bounds.get("low", (-math.inf, False))
        high, high_inclusive = bounds.get("high", (math.inf, False))
        if low > high:
            self.problem(
                "numeric-invalid",
                path,
                f"lower bound {low} is above upper bound {high}",
            )
            return None
        return Numeric(low, low_inclusive, high, high_inclusive)

    def cidr(self, argument: Any, path: str) -> Condition | None:
        try:
            # ip_network also takes integers (and so booleans); a pattern
            # must spell the block out.
            if not isinstance(argument, str):
                raise TypeError(argument)
            network = ipaddress.ip_network(argument, strict=False)
        except (TypeError, ValueError):
            self.problem(
                "cidr-invalid",
                path,
                f"{_show(argument)} is not a CIDR block such as 10.0.0.0/24",
            )
            return None
        return Cidr(network)

    def exists(self, argument: Any, path: str) -> Condition | None:
        if isinstance(argument, bool):
            return Exists(argument)
        self.problem("exists-invalid", path, "exists expects true or false")
        return None

    def anything_but(self, argument: Any, path: str) -> Condition | None:
        excluded: list[Condition] = []
        # Every excluded value costs a test on each event: they count
        # towards the rule's cap before any is built.
        listed = argument
        if isinstance(argument, dict) and len(argument) == 1:
            listed = next(iter(argument.values()))
        if isinstance(listed, list) and not self.count(len(listed), path):
            return None
        if isinstance(argument, str) or is_number(argument):
            if not (isinstance(argument, str) or self.finite(argument, path)):
                return None
            excluded.append(Exact(argument))
        elif (
            isinstance(argument, list)
            and argument
            and (
                all(isinstance(v, str) for v in argument)
                or all(is_number(v) for v in argument)
            )
        ):
            if not all([isinstance(v, str) or self.finite(v, path) for v in argument]):
                return None
            excluded.extend(Exact(v) for v in argument)
        elif isinstance(argument, dict) and len(argument) == 1:
            ((operator, inner),) = argument.items()
            here = child_path(path, operator)
            if operator in ("prefix", "suffix") and isinstance(inner, str):
                kind = Prefix if operator == "prefix" else Suffix
                excluded.append(kind(inner))
            elif operator in ("equals-ignore-case", "wildcard"):
                texts = [inner] if isinstance(inner, str) else inner
                if (
                    not isinstance(texts, list)
                    or not texts
                    or not all(isinstance(t, str) for t in texts)
                ):
                    self.problem(
                        "anything-but-invalid",
                        here,
                        f"{operator} inside anything-but expects a string or "
                        "an array of strings",
                    )
                    return None
                builder = (
                    self.equals_ignore_case
                    if operator == "equals-ignore-case"
                    else self.wildcard
                )
                built = [builder(t, here) for t in texts]
                if any(b is None for b in built):
                    return None
                excluded.extend(b for b in built if b is not None)
            else:
                self.problem(
                    "anything-but-invalid",
                    here,
                    "anything-but takes prefix, suffix, equals-ignore-case or "
                    "wildcard (prefix and suffix with a string)",
                )
                return None
        else:
            self.problem(
                "anything-but-invalid",
                path,
                "anything-but expects a string, a number, an array of only "
                "strings or only numbers, or an object with one operator",
            )
            return None
        return AnythingBut(tuple(excluded))


_OPERATORS = {
    "prefix": _Compiler.prefix,
    "suffix": _Compiler.suffix,
    "equals-ignore-case": _Compiler.equals_ignore_case,
    "wildcard": _Compiler.wildcard,
    "numeric": _Compiler.numeric,
    "cidr": _Compiler.cidr,
    "exists": _Compiler.exists,
    "anything-but": _Compiler.anything_but,
}


def merge_fields(fields: list[tuple[str, "Node | Leaf"]]) -> tuple:
    """Fields of one conjunction, objects under the same key merged.

    An ``$or`` alternative may name a field the rest of the pattern also
    nests under; event-ruler flattens ``$or`` first, so all of them must
    match within one element when the event holds an array of objects.
    """
    merged: list[tuple[str, Node | Leaf]] = []
    nodes_at: dict[str, tuple[int, Node]] = {}
    for key, child in fields:
        if isinstance(child, Node):
            if key in nodes_at:
                position, earlier = nodes_at[key]
                node = Node(merge_fields([*earlier.fields, *child.fields]))
                merged[position] = (key, node)
                nodes_at[key] = (position, node)
                continue
            nodes_at[key] = (len(merged), child)
        merged.append((key, child))
    return tuple(merged)


def split_wildcard(text: str) -> tuple[list[str], str | None]:
    """The literal pieces between unescaped ``*``, or a problem message."""
    pieces, current, index = [], [], 0
    while index < len(text):
        char = text[index]
        if char == "\\":
            following = text[index + 1 : index + 2]
            if following not in ("*", "\\"):
                return [], f"backslash at {index} must escape '*' or '\\'"
            current.append(following)
            index += 2
            continue
        if char == "*":
            if text[index + 1 : index + 2] == "*":
                return [], f"consecutive '*' at {index} are not allowed"
            pieces.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    pieces.append("".join(current))
    return pieces, None


def compile_pattern(
    pattern: Any, path: str, rule: str | None = None
) -> tuple[list[Node], list[Problem]]:
    """The conjunctions of a pattern and every problem found in it."""
    compiler = _Compiler(rule)
    nodes = compiler.node(pattern, path, ())
    if compiler.problems:
        return [], compiler.problems
    return nodes, []


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# Matching one conjunction against an event.


def node_matches(node: Node, value: Any, root: Any) -> bool:
    """Whether an event value satisfies every field of a node."""
    if type(value) is dict:
        get = value.get
        for key, child in node.fields:
            if type(child) is Leaf:
                if not leaf_matches(child, get(key, MISSING), root):
                    return False
            elif not node_matches(child, get(key, MISSING), root):
                return False
        return True
    if isinstance(value, list):
        # Fields under an array of objects must all match one element.
        elements = [e for e in _flatten(value) if isinstance(e, dict)]
        if elements:
            return any(node_matches(node, e, root) for e in elements)
    for _, child in node.fields:
        if isinstance(child, Leaf):
            if not leaf_matches(child, MISSING, root):
                return False
        elif not node_matches(child, MISSING, root):
            return False
    return True


def leaf_matches(leaf: Leaf, value: Any, root: Any) -> bool:
    if value is not MISSING and not isinstance(value, dict | list):
        # One scalar, the common case.
        return leaf.exists_true or any(test(value) for test in leaf.tests)
    scalars = scalars_of(value)
    if scalars and leaf.exists_true:
        return True
    for test in leaf.tests:
        if any(test(s) for s in scalars):
            return True
    # Absence is judged on the whole event, not one array element.
    return leaf.exists_false and not has_scalar_at(root, leaf.path)


def scalars_of(value: Any) -> list[Any]:
    """The scalar leaves of an event value; objects and missing give none."""
    if value is MISSING or isinstance(value, dict):
        return []
    if isinstance(value, list):
        return [v for v in _flatten(value) if not isinstance(v, dict)]
    return [value]


def has_scalar_at(value: Any, path: tuple[str, ...]) -> bool:
    if isinstance(value, list):
        return any(has_scalar_at(v, path) for v in value)
    if not path:
        return value is not MISSING and not isinstance(value, dict)
    if not isinstance(value, dict) or path[0] not in value:
        return False
    return has_scalar_at(value[path[0]], path[1:])


def _flatten(values: list[Any]) -> list[Any]:
    flat: list[Any] = []
    for value in values:
        if isinstance(value, list):
            flat.extend(_flatten(value))
        else:
            flat.append(value)
    return flat

"""Finding candidate rules by field and value, as event-ruler does.

Every conjunction of every rule is filed under one of its leaves (its *key*):
by value when each condition of that leaf can be looked up (exact values,
``equals-ignore-case``, ``prefix``, ``suffix`` and wildcards with a literal
head or tail), else by the field's presence, else on a short list tried for
every event (only conjunctions made entirely of ``exists: false``). The key
is the leaf whose values the fewest other conjunctions share, so buckets
stay small.

Matching an event walks only the field paths that some key uses, looks up
each scalar found there, and fully tests just the conjunctions found. When
the hit alone proves the key leaf (an exact, prefix, suffix or ignore-case
value) and no other leaf shares its top-level field (so array elements
cannot disagree), only the remaining fields are tested. The cost grows with
the matches and the indexed paths, not with the rule count.

Limitation: ``numeric``, ``cidr`` and ``anything-but`` leaves, and wildcards
starting and ending with ``*``, are indexed only by their field's presence; a
conjunction made only of them is tested on every event that carries the
field.
"""

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from router.conditions import (
    EXACT,
    IGNORE_CASE,
    PREFIX,
    PREFIX_IGNORE_CASE,
    SUFFIX,
    SUFFIX_IGNORE_CASE,
    exact_key,
)
from router.patterns import Leaf, Node

_ABSENT: Any = object()


@dataclass(slots=True)
class PathIndex:
    """The keys filed at one field path, and the paths below it."""

    children: dict[str, "PathIndex"] = field(default_factory=dict)
    exact: dict[Any, list[int]] = field(default_factory=dict)
    ignore_case: dict[str, list[int]] = field(default_factory=dict)
    # Prefixes and suffixes by length, so one slice and lookup per length.
    prefix: dict[int, dict[str, list[int]]] = field(default_factory=dict)
    prefix_ignore_case: dict[int, dict[str, list[int]]] = field(default_factory=dict)
    suffix: dict[int, dict[str, list[int]]] = field(default_factory=dict)
    suffix_ignore_case: dict[int, dict[str, list[int]]] = field(default_factory=dict)
    presence: list[int] = field(default_factory=list)
    # Whether anything is filed at this path itself (not only below it).
    keyed: bool = False

    def add(self, kind: str, value: Any, conjunction: int) -> None:
        self.keyed = True
        if kind == EXACT:
            self.exact.setdefault(value, []).append(conjunction)
        elif kind == IGNORE_CASE:
            self.ignore_case.setdefault(value, []).append(conjunction)
        else:
            table = {
                PREFIX: self.prefix,
                PREFIX_IGNORE_CASE: self.prefix_ignore_case,
                SUFFIX: self.suffix,
                SUFFIX_IGNORE_CASE: self.suffix_ignore_case,
            }[kind]
            table.setdefault(len(value), {}).setdefault(value, []).append(conjunction)

    def collect(self, value: Any, found: set[int]) -> None:
        """Add the conjunctions keyed here that this scalar could satisfy."""
        if self.presence:
            found.update(self.presence)
        exact = self.exact
        if type(value) is not str:
            if exact:
                hit = exact.get(exact_key(value))
                if hit:
                    found.update(hit)
            return
        if exact:
            hit = exact.get(value)
            if hit:
                found.update(hit)
        if self.ignore_case or self.prefix_ignore_case or self.suffix_ignore_case:
            folded = value.casefold()
            hit = self.ignore_case.get(folded)
            if hit:
                found.update(hit)
            if self.prefix_ignore_case:
                _ends(self.prefix_ignore_case, folded, found, head=True)
            if self.suffix_ignore_case:
                _ends(self.suffix_ignore_case, folded, found, head=False)
        if self.prefix:
            _ends(self.prefix, value, found, head=True)
        if self.suffix:
            _ends(self.suffix, value, found, head=False)


def _ends(
    table: dict[int, dict[str, list[int]]], value: str, found: set[int], head: bool
) -> None:
    size = len(value)
    for length, entries in table.items():
        if length > size:
            continue
        piece = value[:length] if head else value[len(value) - length :]
        hit = entries.get(piece)
        if hit:
            found.update(hit)


class ConjunctionIndex:
    """All conjunctions of a rule set, filed for lookup by field and value."""

    def __init__(self, conjunctions: list[Node]) -> None:
        self.root = PathIndex()
        self.always: list[int] = []
        self.by_presence = 0
        # What is left to test once a conjunction is found; None: nothing.
        self.remaining: list[Node | None] = list(conjunctions)
        counts = Counter(
            (leaf.path, c.index_kind, c.index_value)
            for node in conjunctions
            for leaf in node.leaves()
            for c in leaf.conditions
            if c.index_kind
        )
        for number, node in enumerate(conjunctions):
            self._file(number, node, counts)

    def _file(self, number: int, node: Node, counts: Counter) -> None:
        leaves = node.leaves()
        by_value = [
            leaf for leaf in leaves if all(c.index_kind for c in leaf.conditions)
        ]
        if by_value:
            key = min(by_value, key=lambda leaf: _bucket_size(leaf, counts))
            where = self._path(key.path)
            for condition in key.conditions:
                where.add(condition.index_kind, condition.index_value, number)
            self.remaining[number] = _without_key(node, key)
            return
        present = [leaf for leaf in leaves if leaf.requires_presence]
        if present:
            where = self._path(present[0].path)
            where.presence.append(number)
            where.keyed = True
            self.by_presence += 1
            return
        self.always.append(number)

    def _path(self, path: tuple[str, ...]) -> PathIndex:
        where = self.root
        for key in path:
            where = where.children.setdefault(key, PathIndex())
        return where

    def candidates(self, event: dict[str, Any]) -> set[int]:
        """The conjunctions worth testing fully against this event."""
        found = set(self.always)
        _walk(self.root, event, found)
        return found


def _without_key(node: Node, key: Leaf) -> Node | None:
    """The node minus its key leaf, when the index hit proves that leaf."""
    if not all(c.index_decides for c in key.conditions):
        return node
    top = key.path[0]
    sharing = [leaf for leaf in node.leaves() if leaf.path[0] == top]
    if len(sharing) != 1:
        return node
    rest = tuple((name, child) for name, child in node.fields if name != top)
    return Node(rest) if rest else None


def _bucket_size(leaf: Leaf, counts: Counter) -> int:
    return max(
        counts[(leaf.path, c.index_kind, c.index_value)] for c in leaf.conditions
    )


def _walk(index: PathIndex, value: dict[str, Any], found: set[int]) -> None:
    get = value.get
    for key, child in index.children.items():
        found_value = get(key, _ABSENT)
        if found_value is not _ABSENT:
            _visit(child, found_value, found)


def _visit(index: PathIndex, value: Any, found: set[int]) -> None:
    kind = type(value)
    if kind is dict:
        if index.children:
            _walk(index, value, found)
    elif kind is list:
        for element in value:
            _visit(index, element, found)
    elif index.keyed:
        index.collect(value, found)

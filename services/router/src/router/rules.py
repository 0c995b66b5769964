"""The routing-rules document: validation, compilation and matching.

This module is the rules language's public interface, used by the router and
by the console (to validate and dry-run documents)::

    problems = validate_document(doc)        # every problem at once
    rules = RuleSet.from_document(doc)       # raises RulesError(.problems)
    rules.match(event)                       # enabled rule names, in order
    rules.targets_for(event)                 # [(rule name, target)], once each

A document is ``{"rules": [{"name", "enabled", "description", "pattern",
"targets": [{"connector", "params"}]}]}``; patterns are EventBridge event
patterns (see ``router.patterns``). A rule set compiles once per document
version and then matches through an index (see ``router.index``).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from router.errors import RulesError
from router.index import ConjunctionIndex
from router.patterns import Node, compile_pattern, node_matches
from router.problems import PROBLEM_CODES, Problem, child_path
from switchyard_contracts import target_id

__all__ = [
    "PROBLEM_CODES",
    "Problem",
    "Rule",
    "RuleSet",
    "RulesError",
    "validate_document",
]

RULE_FIELDS = {"name", "enabled", "description", "pattern", "targets"}
TARGET_FIELDS = {"connector", "params"}


@dataclass(frozen=True)
class Rule:
    """One compiled rule."""

    name: str
    enabled: bool
    pattern: dict[str, Any]
    targets: tuple[dict[str, Any], ...]
    conjunctions: tuple[Node, ...]

    def matches(self, event: dict[str, Any]) -> bool:
        """Test every conjunction in turn, without the index."""
        return any(node_matches(n, event, event) for n in self.conjunctions)


def validate_document(
    doc: Any, connectors: Iterable[str] | None = None
) -> list[Problem]:
    """Every problem in a rules document; an empty list means it is valid.

    When ``connectors`` is given, targets naming another connector are
    problems too (the router alone cannot know what is deployed).
    """
    return _compile(doc, connectors)[1]


def _compile(
    doc: Any, connectors: Iterable[str] | None = None
) -> tuple[list[Rule], list[Problem]]:
    if not isinstance(doc, dict):
        return [], [
            Problem("document-not-object", "$", "a rules document is a JSON object")
        ]
    items = doc.get("rules")
    if not isinstance(items, list):
        return [], [
            Problem(
                "rules-not-array",
                "$.rules",
                'the document needs "rules": an array of rule objects',
            )
        ]

    known = set(connectors) if connectors is not None else None
    rules: list[Rule] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        path = child_path("$.rules", index)
        rule, found = _compile_rule(item, path, known)
        problems.extend(found)
        # Names are checked on every rule, valid or not, so a document
        # reports its duplicates together with its other problems.
        name = _rule_name(item)
        if name is not None and name in seen:
            problems.append(
                Problem(
                    "rule-name-duplicate",
                    child_path(path, "name"),
                    f"rule name {name!r} is already used by rule "
                    f"{seen[name]}; names must be unique",
                    name,
                )
            )
            continue
        if name is not None:
            seen[name] = index
        if rule is not None:
            rules.append(rule)
    return rules, problems


def _compile_rule(
    item: Any, path: str, connectors: set[str] | None
) -> tuple[Rule | None, list[Problem]]:
    if not isinstance(item, dict):
        return None, [Problem("rule-not-object", path, "a rule is a JSON object")]

    rule_name = _rule_name(item)
    problems: list[Problem] = []

    def problem(code: str, where: str, message: str) -> None:
        problems.append(Problem(code, where, message, rule_name))

    if rule_name is None:
        problem("rule-name-missing", child_path(path, "name"), "a rule needs a name")
    for unknown in sorted(set(item) - RULE_FIELDS):
        problem(
            "rule-field-unknown",
            child_path(path, unknown),
            f"unknown rule field {unknown!r}; a rule has "
            + ", ".join(sorted(RULE_FIELDS)),
        )
    enabled = item.get("enabled", True)
    if not isinstance(enabled, bool):
        problem(
            "rule-enabled-not-boolean",
            child_path(path, "enabled"),
            "enabled must be true or false",
        )
    description = item.get("description")
    if description is not None and not isinstance(description, str):
        problem(
            "rule-description-not-string",
            child_path(path, "description"),
            "description must be a string",
        )

    pattern_path = child_path(path, "pattern")
    if "pattern" not in item:
        problem("pattern-missing", pattern_path, "a rule needs a pattern")
        conjunctions: list[Node] = []
    else:
        conjunctions, found = compile_pattern(item["pattern"], pattern_path, rule_name)
        problems.extend(found)

    targets = _check_targets(item.get("targets"), child_path(path, "targets"))
    for code, where, message in targets[1]:
        problem(code, where, message)
    if connectors is not None:
        for number, target in enumerate(targets[0]):
            # A connector that is not a string was reported as missing.
            name = target.get("connector")
            if isinstance(name, str) and name and name not in connectors:
                problem(
                    "target-connector-unknown",
                    child_path(
                        child_path(child_path(path, "targets"), number), "connector"
                    ),
                    f"no connector named {target.get('connector')!r}; known: "
                    + (", ".join(sorted(connectors)) or "none"),
                )

    if problems or rule_name is None:
        return None, problems
    rule = Rule(
        name=rule_name,
        enabled=bool(enabled),
        pattern=item["pattern"],
        targets=tuple(targets[0]),
        conjunctions=tuple(conjunctions),
    )
    return rule, []


def _serializable(params: dict[str, Any]) -> bool:
    """Whether a target's id, a digest of its params, can be computed."""
    try:
        target_id({"connector": "", "params": params})
    except (ValueError, RecursionError):
        # UnicodeEncodeError (a ValueError) for lone surrogates.
        return False
    return True


def _rule_name(item: Any) -> str | None:
    """The rule's name when it is a usable one."""
    name = item.get("name") if isinstance(item, dict) else None
    return name if isinstance(name, str) and name.strip() else None


def _check_targets(
    value: Any, path: str
) -> tuple[list[dict[str, Any]], list[tuple[str, str, str]]]:
    if not isinstance(value, list) or not value:
        return [], [
            ("targets-invalid", path, "targets must be a non-empty array of objects")
        ]
    targets: list[dict[str, Any]] = []
    problems: list[tuple[str, str, str]] = []
    for index, target in enumerate(value):
        here = child_path(path, index)
        if not isinstance(target, dict):
            problems.append(("target-not-object", here, "a target is a JSON object"))
            continue
        connector = target.get("connector")
        if not isinstance(connector, str) or not connector:
            problems.append(
                (
                    "target-connector-missing",
                    child_path(here, "connector"),
                    "a target needs a connector name",
                )
            )
        params = target.get("params", {})
        if not isinstance(params, dict):
            problems.append(
                (
                    "target-params-not-object",
                    child_path(here, "params"),
                    "params must be a JSON object",
                )
            )
        elif not _serializable(params):
            problems.append(
                (
                    "target-params-invalid",
                    child_path(here, "params"),
                    "params must be plain JSON (UTF-8 text, not nested too "
                    "deeply); the target id is a digest of them",
                )
            )
        for unknown in sorted(set(target) - TARGET_FIELDS):
            problems.append(
                (
                    "target-field-unknown",
                    child_path(here, unknown),
                    f"unknown target field {unknown!r}; a target has connector "
                    "and params",
                )
            )
        targets.append({"connector": connector, "params": params})
    return targets, problems


class RuleSet:
    """A compiled rules document, ready to match events."""

    def __init__(self, rules: list[Rule], version: str | None = None) -> None:
        self.rules = list(rules)
        self.version = version
        self._owner: list[int] = []
        conjunctions: list[Node] = []
        for number, rule in enumerate(self.rules):
            if not rule.enabled:
                continue
            for node in rule.conjunctions:
                conjunctions.append(node)
                self._owner.append(number)
        self._conjunctions = conjunctions
        self._index = ConjunctionIndex(conjunctions)
        self._target_ids = [[target_id(t) for t in rule.targets] for rule in self.rules]

    @classmethod
    def from_document(cls, doc: Any, version: str | None = None) -> "RuleSet":
        """Compile a document; raise RulesError with every problem if invalid."""
        rules, problems = _compile(doc)
        if problems:
            raise RulesError(problems, version)
        return cls(rules, version)

    @property
    def enabled_count(self) -> int:
        return sum(1 for rule in self.rules if rule.enabled)

    @property
    def indexed_by_presence(self) -> int:
        """Conjunctions found by field presence only (see router.index)."""
        return self._index.by_presence + len(self._index.always)

    def matching_rules(self, event: dict[str, Any]) -> list[int]:
        """Positions of the enabled rules matching an event, in order."""
        if not isinstance(event, dict):
            return []
        candidates = self._index.candidates(event)
        if not candidates:
            return []
        matched: set[int] = set()
        remaining, owner = self._index.remaining, self._owner
        for number in candidates:
            rule = owner[number]
            if rule in matched:
                continue
            rest = remaining[number]
            if rest is None or node_matches(rest, event, event):
                matched.add(rule)
        return sorted(matched)

    def match(self, event: dict[str, Any]) -> list[str]:
        """Names of the enabled rules that match, in document order."""
        return [self.rules[i].name for i in self.matching_rules(event)]

    def targets_for(self, event: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        """(rule name, target) for each distinct target the event goes to.

        A target named by several matching rules appears once, with the
        first rule in document order.
        """
        return [(name, target) for name, target, _ in self.routes_for(event)]

    def routes_for(
        self, event: dict[str, Any]
    ) -> list[tuple[str, dict[str, Any], str]]:
        """Like targets_for, with each target's id as a third member."""
        routes: list[tuple[str, dict[str, Any], str]] = []
        seen: set[str] = set()
        for number in self.matching_rules(event):
            rule = self.rules[number]
            for target, identity in zip(
                rule.targets, self._target_ids[number], strict=True
            ):
                if identity not in seen:
                    seen.add(identity)
                    routes.append((rule.name, target, identity))
        return routes

"""The rules document as the console edits it: parse, validate, diff, dry-run.

Validation and matching are the router's own (``router.rules``), so the
console can never accept a document the router would refuse, nor predict a
match the router would not make. This module only arranges the router's
problems by rule and field for the page, and renders diffs.
"""

import json
import re
from dataclasses import dataclass, field
from typing import Any

from router import rules as language
from switchyard_console.ops import json_input
from switchyard_console.ops.json_lines import dumps_with_lines, line_of
from switchyard_contracts import ConnectorRegistry

MAX_DOCUMENT_BYTES = 1_048_576
RULE_PATH = re.compile(r"^\$\.rules\[(\d+)\](.*)$")


@dataclass(frozen=True)
class Problem:
    """One problem, placed: which rule (if any) and which field in it."""

    code: str
    path: str
    message: str
    field: str
    line: int | None = None


@dataclass
class RuleProblems:
    index: int
    name: str
    problems: list[Problem] = field(default_factory=list)


@dataclass
class Checked:
    """A document the operator entered, parsed and validated."""

    document: dict[str, Any] | None
    document_problems: list[Problem]
    rule_problems: list[RuleProblems]
    text: str | None = None

    @property
    def marks(self) -> list[dict[str, Any]]:
        """Where the editor should mark problems: line and message."""
        problems = self.document_problems + [
            p for group in self.rule_problems for p in group.problems
        ]
        return [
            {"line": p.line, "message": f"{p.path}: {p.message}"}
            for p in problems
            if p.line is not None
        ]

    @property
    def ok(self) -> bool:
        return self.document is not None and not self.count

    @property
    def count(self) -> int:
        return len(self.document_problems) + sum(
            len(r.problems) for r in self.rule_problems
        )

    def for_rule(self, index: int) -> list[Problem]:
        for group in self.rule_problems:
            if group.index == index:
                return group.problems
        return []


def normalise(document: Any) -> str:
    """The text the console stores: two-space JSON, keys in the given order."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def parse(text: str) -> tuple[Any, Problem | None]:
    """The JSON value of the text, or a problem naming the line and column."""
    try:
        return json_input.loads(text), None
    except json.JSONDecodeError as exc:
        return None, Problem(
            code="invalid-json",
            path="$",
            message=f"not valid JSON at line {exc.lineno}, column {exc.colno}: "
            f"{exc.msg}",
            field="",
        )
    except json_input.JsonInputError as exc:
        return None, Problem(code=exc.code, path="$", message=str(exc), field="")


def check(text: str, connectors: list[str] | None = None) -> Checked:
    """Parse and validate; every problem at once, grouped by rule.

    ``connectors``, when given, are the only connector names targets may use.
    """
    size = len(text.encode("utf-8", errors="replace"))
    if size > MAX_DOCUMENT_BYTES:
        message = (
            f"the document is {size} bytes, too large: a rules document may be "
            f"at most {MAX_DOCUMENT_BYTES} bytes (the router loads it on every "
            "cold start); split it or remove rules"
        )
        return Checked(None, [Problem("too-large", "$", message, "")], [])
    document, problem = parse(text)
    if problem is not None:
        return Checked(None, [problem], [])
    if not isinstance(document, dict):
        return Checked(
            None,
            [Problem("not-an-object", "$", "the document must be a JSON object", "")],
            [],
        )
    return check_document(document, connectors)


def _rule_name(document: dict[str, Any], index: int) -> str:
    rules = document.get("rules")
    if isinstance(rules, list) and index < len(rules):
        rule = rules[index]
        if isinstance(rule, dict) and isinstance(rule.get("name"), str):
            return rule["name"]
    return f"rule #{index + 1}"


def check_document(
    document: dict[str, Any], connectors: list[str] | None = None
) -> Checked:
    """Validate a parsed document with the router's own validator."""
    text, lines = dumps_with_lines(document)
    top: list[Problem] = []
    groups: dict[int, RuleProblems] = {}
    for found in language.validate_document(document, connectors or None):
        path = found.path or "$"
        line = line_of(path, lines)
        match = RULE_PATH.match(path)
        if match is None:
            top.append(Problem(found.code, path, found.message, "", line))
            continue
        index = int(match.group(1))
        rest = match.group(2).lstrip(".")
        group = groups.setdefault(
            index, RuleProblems(index, _rule_name(document, index))
        )
        group.problems.append(Problem(found.code, path, found.message, rest, line))
    rule_groups = [groups[i] for i in sorted(groups)]
    return Checked(document, top, rule_groups, text)


def pretty(text: str) -> str:
    """The normalised form of a stored text, or the text when it is not JSON."""
    value, problem = parse(text)
    return text if problem is not None else normalise(value)


@dataclass(frozen=True)
class Delivery:
    rule: str
    connector: str
    params: dict[str, Any]
    function: str


@dataclass(frozen=True)
class DryRunResult:
    label: str
    event: Any
    matched: list[str]
    deliveries: list[Delivery]
    error: str = ""


def dry_run(
    document: dict[str, Any],
    events: list[tuple[str, Any]],
    registry: ConnectorRegistry,
) -> list[DryRunResult]:
    """Which rules each event matches and which targets would receive it."""
    rule_set = language.RuleSet.from_document(document)
    results = []
    for label, event in events:
        if not isinstance(event, dict):
            results.append(
                DryRunResult(label, event, [], [], "the event is not a JSON object")
            )
            continue
        deliveries = []
        for rule_name, target in rule_set.targets_for(event):
            connector = str(target.get("connector", ""))
            function = (
                registry.function_for(connector)
                if connector in registry
                else "(no function registered)"
            )
            deliveries.append(
                Delivery(
                    rule_name, connector, dict(target.get("params") or {}), function
                )
            )
        results.append(
            DryRunResult(label, event, list(rule_set.match(event)), deliveries)
        )
    return results


def events_from_text(text: str) -> tuple[list[tuple[str, Any]], Problem | None]:
    """Events pasted as one JSON object, a JSON array, or JSON lines."""
    value, problem = parse(text)
    if problem is None:
        if isinstance(value, list):
            return [(f"event #{i + 1}", v) for i, v in enumerate(value)], None
        return [("event", value)], None

    events = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        value, line_problem = parse(line)
        if line_problem is not None:
            return [], problem
        events.append((f"line {number}", value))
    return events, None

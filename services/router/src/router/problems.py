"""Problems found in a rules document, each with a stable code and JSON path."""

import re
from dataclasses import dataclass

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

# Every code a problem can carry; the console may switch on them.
PROBLEM_CODES = frozenset(
    {
        "document-not-object",
        "rules-not-array",
        "rule-not-object",
        "rule-name-missing",
        "rule-name-duplicate",
        "rule-field-unknown",
        "rule-enabled-not-boolean",
        "rule-description-not-string",
        "pattern-missing",
        "pattern-not-object",
        "pattern-empty",
        "pattern-too-deep",
        "pattern-too-complex",
        "value-not-array",
        "value-nested-array",
        "array-empty",
        "operator-invalid",
        "operator-unknown",
        "operator-bad-value",
        "number-out-of-range",
        "numeric-invalid",
        "cidr-invalid",
        "exists-invalid",
        "anything-but-invalid",
        "wildcard-invalid",
        "wildcard-too-complex",
        "or-invalid",
        "targets-invalid",
        "target-not-object",
        "target-connector-missing",
        "target-params-not-object",
        "target-params-invalid",
        "target-field-unknown",
        "target-connector-unknown",
    }
)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a rules document.

    ``code`` is stable (the console and tests switch on it), ``path`` is the
    JSON path of the offending field, ``rule`` the rule's name when known.
    """

    code: str
    path: str
    message: str
    rule: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {
            "code": self.code,
            "path": self.path,
            "message": self.message,
            "rule": self.rule,
        }


def child_path(path: str, key: str | int) -> str:
    """The JSON path of a member: ``$.a.b``, ``$.a[2]`` or ``$.a['detail-type']``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    if _IDENTIFIER.match(key):
        return f"{path}.{key}"
    escaped = key.replace("\\", "\\\\").replace("'", "\\'")
    return f"{path}['{escaped}']"

"""Find over-broad IAM statements in a template.

A statement that allows a wildcard action (``*``, ``s3:*``, ``s3:Get*``) is
refused anywhere. A statement that allows an action on a data store (S3,
DynamoDB, SQS, Kinesis, SNS, Lambda invocation) must name its resources: a
bare ``*`` or a whole-service wildcard (``table/*``, ``arn:aws:s3:::*``) is
refused, while a named prefix (``table/switchyard-dev-delivery-*``) or the
objects of a named bucket (``<bucket arn>/payloads/*``) is allowed.

KMS key policies are not audited: their account-root statement (``kms:*``
on the key itself) is AWS's default, which only delegates to IAM, and the
IAM statements are audited here.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

DATA_STORE_SERVICES = ("s3", "dynamodb", "sqs", "kinesis", "sns", "lambda")
POLICY_HOLDERS = {
    "AWS::IAM::Role": ("Policies",),
    "AWS::IAM::Policy": ("PolicyDocument",),
    "AWS::IAM::ManagedPolicy": ("PolicyDocument",),
    "AWS::S3::BucketPolicy": ("PolicyDocument",),
    "AWS::SQS::QueuePolicy": ("PolicyDocument",),
    "AWS::SNS::TopicPolicy": ("PolicyDocument",),
}
# A resource whose name part is only a wildcard: every table, stream, queue,
# topic, function or bucket of the account.
_WHOLE_SERVICE = re.compile(
    r"^\*$|:\*$|:(table|stream|function|userpool)/\*$|^arn:[^:]*:s3:::\*"
)


@dataclass(frozen=True)
class Finding:
    """One over-broad statement."""

    resource: str
    sid: str
    problem: str

    def __str__(self) -> str:
        return f"{self.resource} statement {self.sid or '(no Sid)'}: {self.problem}"


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _text(value: Any) -> str:
    """A resource as text: the template string of a Fn::Sub, else its form."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        return sub[0] if isinstance(sub, list) else sub
    # Ref, Fn::GetAtt, Fn::ImportValue: one named resource.
    return "<named>"


def _documents(logical_id: str, spec: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    props = spec.get("Properties", {})
    kind = spec.get("Type", "")
    if kind == "AWS::IAM::Role":
        for policy in props.get("Policies", []):
            yield (
                f"{logical_id}/{policy.get('PolicyName')}",
                policy.get("PolicyDocument"),
            )
    elif kind in POLICY_HOLDERS:
        yield logical_id, props.get("PolicyDocument")


def statements(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, statement) for every policy statement in the template."""
    for logical_id, spec in template.get("Resources", {}).items():
        for where, document in _documents(logical_id, spec):
            if not isinstance(document, dict):
                continue
            for statement in _as_list(document.get("Statement", [])):
                yield where, statement


def audit(template: dict[str, Any]) -> list[Finding]:
    """Every over-broad Allow statement of the template."""
    findings = []
    for where, statement in statements(template):
        if statement.get("Effect") != "Allow":
            continue
        sid = str(statement.get("Sid", ""))
        if "NotAction" in statement or "NotResource" in statement:
            findings.append(
                Finding(where, sid, "NotAction/NotResource grants too much")
            )
            continue
        actions = [str(a) for a in _as_list(statement.get("Action", []))]
        for action in actions:
            if "*" in action:
                findings.append(Finding(where, sid, f"wildcard action {action!r}"))
        touches_data = any(
            a.split(":", 1)[0].lower() in DATA_STORE_SERVICES for a in actions
        )
        if not touches_data:
            continue
        for resource in _as_list(statement.get("Resource", [])):
            text = _text(resource)
            if _WHOLE_SERVICE.search(text):
                findings.append(
                    Finding(where, sid, f"data-store resource {text!r} is not named")
                )
    return findings

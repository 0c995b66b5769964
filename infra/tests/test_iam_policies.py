"""No IAM statement allows wildcard actions or unnamed data-store resources."""

from pathlib import Path

import pytest

from switchyard_infra.iam_audit import audit, statements
from switchyard_infra.paths import TEMPLATES_DIR
from switchyard_infra.templates import load_template

TEMPLATES = sorted(TEMPLATES_DIR.glob("*.yaml"))

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_no_statement_is_over_broad(template: Path):
    findings = audit(load_template(template))

    assert [str(f) for f in findings] == []


def test_every_service_template_has_policies_to_audit():
    for name in ("user-api", "router", "connectors", "dlq-processor"):
        template = load_template(TEMPLATES_DIR / f"service-{name}.yaml")

        assert list(statements(template)), name


def _role(*statement: dict) -> dict:
    return {
        "Resources": {
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "Policies": [
                        {
                            "PolicyName": "p",
                            "PolicyDocument": {"Statement": list(statement)},
                        }
                    ]
                },
            }
        }
    }


@pytest.mark.parametrize(
    "statement",
    [
        {"Sid": "All", "Effect": "Allow", "Action": "*", "Resource": "*"},
        {
            "Sid": "S3",
            "Effect": "Allow",
            "Action": "s3:*",
            "Resource": "arn:aws:s3:::b",
        },
        {"Sid": "Get", "Effect": "Allow", "Action": ["s3:Get*"], "Resource": "x"},
        {
            "Sid": "Star",
            "Effect": "Allow",
            "Action": "dynamodb:GetItem",
            "Resource": "*",
        },
        {
            "Sid": "Tables",
            "Effect": "Allow",
            "Action": "dynamodb:PutItem",
            "Resource": {"Fn::Sub": "arn:aws:dynamodb:${AWS::Region}:1:table/*"},
        },
        {
            "Sid": "Buckets",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::*",
        },
        {
            "Sid": "Queues",
            "Effect": "Allow",
            "Action": "sqs:SendMessage",
            "Resource": "arn:aws:sqs:us-east-1:1:*",
        },
    ],
    ids=lambda s: s["Sid"],
)
def test_audit_flags_an_over_broad_statement(statement: dict):
    assert audit(_role(statement))


@pytest.mark.parametrize(
    "statement",
    [
        {
            "Effect": "Allow",
            "Action": "dynamodb:PutItem",
            "Resource": {"Fn::Sub": "arn:aws:dynamodb:r:1:table/switchyard-dev-d-*"},
        },
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": {"Fn::Sub": ["${Arn}/payloads/*", {"Arn": "x"}]},
        },
        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": {"Ref": "Q"}},
        {"Effect": "Deny", "Action": "s3:*", "Resource": "*"},
    ],
)
def test_audit_accepts_named_resources_and_denies(statement: dict):
    assert audit(_role(statement)) == []

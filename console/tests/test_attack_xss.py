"""Hostile data in AWS never reaches a page unescaped."""

import json
from urllib.parse import quote

import pytest

from tests.conftest import BUCKET, RULES_KEY

pytestmark = [pytest.mark.functional, pytest.mark.django_db]

R = "/admin/console/routingrules/"
U = "/admin/console/userprofile/"
F = "/admin/console/failedevent/"
Q = "/admin/console/unprocessablemessage/"

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '"><img src=x onerror=alert(2)>'
PAYLOAD = f"{ATTRIBUTE}{SCRIPT}"


def _assert_escaped(text):
    assert SCRIPT not in text
    assert "<img src=x" not in text
    assert "&lt;script&gt;" in text or "\\u003Cscript\\u003E" in text


def _hostile_rules():
    return {
        "rules": [
            {
                "name": PAYLOAD,
                "description": PAYLOAD,
                "pattern": {PAYLOAD: [PAYLOAD]},
                "targets": [{"connector": PAYLOAD, "params": {PAYLOAD: PAYLOAD}}],
            }
        ]
    }


def test_rule_names_and_fields_are_escaped_on_every_rules_page(aws, operator):
    aws.s3.put_object(
        Bucket=BUCKET,
        Key=RULES_KEY,
        Body=json.dumps(_hostile_rules()).encode(),
        Metadata={"saved-by": quote(PAYLOAD), "note": quote(PAYLOAD)},
    )
    version = aws.s3.list_object_versions(Bucket=BUCKET)["Versions"][0]["VersionId"]

    pages = [
        operator.get(R),
        operator.get(f"{R}history/"),
        operator.get(f"{R}history/{version}/"),
        operator.get(f"{R}rule/0/"),
        operator.post(
            f"{R}edit/",
            {"document": json.dumps(_hostile_rules()), "action": "check"},
        ),
        operator.post(
            f"{R}dry-run/",
            {"events": json.dumps({PAYLOAD: PAYLOAD}), "action": "run"},
        ),
        operator.get("/admin/"),
    ]

    for page in pages:
        _assert_escaped(page.content.decode())


def test_user_attributes_are_escaped(aws, operator):
    aws.put_user(PAYLOAD, email=PAYLOAD, display_name=PAYLOAD, **{"x": PAYLOAD})

    pages = [
        operator.get(U),
        operator.get(U, {"q": PAYLOAD}),
        operator.get(f"{U}user/", {"id": PAYLOAD}),
        operator.get(f"{U}edit/", {"id": PAYLOAD}),
        operator.get(f"{U}delete/", {"id": PAYLOAD}),
    ]

    for page in pages:
        _assert_escaped(page.content.decode())


def test_failure_fields_and_queue_bodies_are_escaped(aws, operator):
    record_id = aws.add_failure(
        connector=PAYLOAD, error_type=PAYLOAD, event={"id": "e", PAYLOAD: PAYLOAD}
    )
    aws.sqs.send_message(QueueUrl=aws.unprocessable_url, MessageBody=PAYLOAD)

    pages = [
        operator.get(F),
        operator.get(F, {"status": "parked", "target_name": PAYLOAD}),
        operator.get(f"{F}{record_id}/"),
        operator.get(f"{F}{record_id}/edit/"),
        operator.post(f"{F}redrive/", {"ids": [record_id]}),
        operator.get(Q),
        operator.get("/admin/"),
    ]

    for page in pages:
        _assert_escaped(page.content.decode())

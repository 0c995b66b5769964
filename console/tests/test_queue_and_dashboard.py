"""The unprocessable queue, and the overview on the admin index."""

import json

import pytest

from switchyard_console.ops.models import AuditRecord
from tests.conftest import VALID_RULES

pytestmark = [pytest.mark.functional, pytest.mark.django_db]

QUEUE = "/admin/console/unprocessablemessage/"


def _messages(aws, url):
    found = aws.sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0
    )
    return [m["Body"] for m in found.get("Messages", [])]


def test_queue_page_shows_raw_messages_without_hiding_them(aws, operator):
    aws.sqs.send_message(QueueUrl=aws.unprocessable_url, MessageBody="not json {")

    page = operator.get(QUEUE)

    assert "not json {" in page.content.decode()
    assert _messages(aws, aws.unprocessable_url) == ["not json {"]


def test_move_asks_first_then_moves_only_the_selected(aws, operator):
    for body in ("first", "second"):
        aws.sqs.send_message(
            QueueUrl=aws.unprocessable_url,
            MessageBody=body,
            MessageAttributes={"origin": {"DataType": "String", "StringValue": body}},
        )
    listed = operator.get(QUEUE).context["messages_found"]
    chosen = next(m.message_id for m in listed if m.body == "first")

    confirm = operator.post(f"{QUEUE}move/", {"ids": [chosen]})
    assert "Yes, move them" in confirm.content.decode()
    assert _messages(aws, aws.dlq_url) == []

    operator.post(f"{QUEUE}move/", {"ids": [chosen], "confirm": "yes"})

    moved = aws.sqs.receive_message(
        QueueUrl=aws.dlq_url, MessageAttributeNames=["All"], MaxNumberOfMessages=10
    )["Messages"]
    assert [m["Body"] for m in moved] == ["first"]
    assert moved[0]["MessageAttributes"]["origin"]["StringValue"] == "first"
    assert _messages(aws, aws.unprocessable_url) == ["second"]
    entry = AuditRecord.objects.get(action=AuditRecord.Action.MESSAGE_MOVE)
    assert entry.before["body"] == "first"


def test_dashboard_shows_rules_version_queue_depths_and_charts(aws, operator):
    aws.put_rules(VALID_RULES, actor="alice")
    aws.add_failure(connector="webhook")
    aws.add_failure(connector="webhook")
    aws.add_failure(connector="dynamodb")
    aws.sqs.send_message(QueueUrl=aws.dlq_url, MessageBody="{}")

    page = operator.get("/admin/")

    text = page.content.decode()
    overview = page.context["overview"]
    assert overview["rules"]["live"].saved_by == "alice"
    assert overview["rules"]["count"] == 2
    depths = dict(overview["queues"]["depths"])
    assert depths["Dead-letter queue"].visible == 1
    bars = {b.label: b.value for b in overview["failures"]["by_target"]["bars"]}
    assert bars == {
        "webhook:https://hooks.test/webhook": 2,
        "dynamodb:https://hooks.test/dynamodb": 1,
    }
    assert 'id="chart-targets"' in text and 'id="chart-hours"' in text
    assert len(overview["failures"]["per_hour"]["columns"]) == 24


def test_dashboard_counts_recent_failures_per_hour(aws, operator):
    from datetime import UTC, datetime

    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    aws.add_failure(failed_at=now)
    aws.add_failure(failed_at=now)

    overview = operator.get("/admin/").context["overview"]

    columns = overview["failures"]["per_hour"]["columns"]
    assert columns[-1].value == 2
    assert sum(c.value for c in columns) == 2


def test_dashboard_panel_that_fails_says_why_and_the_rest_renders(
    aws, operator, settings
):
    settings.RULES_BUCKET = "no-such-bucket"
    aws.sqs.send_message(QueueUrl=aws.dlq_url, MessageBody="{}")

    page = operator.get("/admin/")

    overview = page.context["overview"]
    assert page.status_code == 200
    assert not overview["rules"]["ok"]
    assert "NoSuchBucket" in overview["rules"]["error"]
    assert overview["queues"]["ok"]


def test_viewer_sees_only_the_panels_of_their_permissions(aws, person):
    rules_only = person("rita", perms=["view_rules"])

    overview = rules_only.get("/admin/").context["overview"]

    assert set(overview) == {"rules"}


def test_dry_run_with_pasted_events_names_rules_and_functions(aws, operator):
    aws.put_rules(VALID_RULES)
    events = "\n".join(
        json.dumps(e)
        for e in (
            {"type": "order.created", "total": 150},
            {"type": "order.created", "total": 5},
            {"type": "PushEvent"},
        )
    )

    page = operator.post(
        "/admin/console/routingrules/dry-run/", {"events": events, "action": "run"}
    )

    results = page.context["results"]
    assert [r.matched for r in results] == [
        ["new-orders-to-crm"],
        [],
        ["pushes-to-table"],
    ]
    assert results[0].deliveries[0].function == "switchyard-test-connector-webhook"
    assert results[2].deliveries[0].connector == "dynamodb"


def test_dry_run_against_a_draft_document(aws, operator):
    aws.put_rules(VALID_RULES)
    draft = {
        "rules": [
            {
                "name": "all-pushes",
                "pattern": {"type": ["PushEvent"]},
                "targets": [
                    {"connector": "webhook", "params": {"url": "https://x.test"}}
                ],
            }
        ]
    }

    page = operator.post(
        "/admin/console/routingrules/dry-run/",
        {
            "events": '{"type": "PushEvent"}',
            "rules": json.dumps(draft),
            "action": "run",
        },
    )

    assert page.context["results"][0].matched == ["all-pushes"]

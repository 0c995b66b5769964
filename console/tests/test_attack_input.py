"""Attacks on input: tampered ids, cursors and versions, hostile JSON, skipped steps."""

import base64
import json

import pytest

from switchyard_console.ops.models import AuditRecord
from tests.conftest import BUCKET, VALID_RULES

pytestmark = [pytest.mark.functional, pytest.mark.django_db]

R = "/admin/console/routingrules/"
U = "/admin/console/userprofile/"
F = "/admin/console/failedevent/"
Q = "/admin/console/unprocessablemessage/"

DEEP = "[" * 200_000 + "]" * 200_000


def _texts(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


# Rules


@pytest.mark.parametrize(
    ("path", "form"),
    [
        (f"{R}edit/", {"document": DEEP, "action": "check"}),
        (f"{R}save/", {"document": DEEP, "action": "save"}),
        (f"{R}dry-run/", {"events": DEEP, "action": "run"}),
        (f"{R}dry-run/", {"events": "{}", "rules": DEEP, "action": "run"}),
        (f"{R}rule/0/", {"name": "x", "pattern": DEEP, "targets": "[]"}),
    ],
)
def test_deeply_nested_json_in_the_rules_pages_is_a_problem_not_a_crash(
    aws, operator, path, form
):
    aws.put_rules(VALID_RULES)

    page = operator.post(path, form)

    assert page.status_code == 200
    assert "nested too deeply" in page.content.decode()
    assert len(aws.s3.list_object_versions(Bucket=BUCKET)["Versions"]) == 1


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_a_rules_document_with_nan_or_infinity_is_refused(aws, operator, constant):
    etag = aws.put_rules(VALID_RULES)
    text = json.dumps(VALID_RULES).replace("100", constant)

    check = operator.post(f"{R}edit/", {"document": text, "action": "check"})
    save = operator.post(
        f"{R}save/", {"document": text, "base_etag": etag, "action": "save"}
    )

    assert "not valid JSON" in check.content.decode()
    assert "not valid JSON" in save.content.decode()
    assert aws.live_rules()[0] == VALID_RULES


@pytest.mark.parametrize("text", ["[]", '"rules"', "null", "42"])
def test_a_rules_document_that_is_not_an_object_is_refused(aws, operator, text):
    etag = aws.put_rules(VALID_RULES)

    page = operator.post(
        f"{R}save/", {"document": text, "base_etag": etag, "action": "save"}
    )

    assert "must be a JSON object" in page.content.decode()
    assert aws.live_rules()[0] == VALID_RULES


def test_a_five_megabyte_document_is_refused_with_a_message(aws, operator):
    etag = aws.put_rules(VALID_RULES)
    big = {"rules": VALID_RULES["rules"], "padding": "x" * (5 * 1024 * 1024)}

    page = operator.post(
        f"{R}save/",
        {"document": json.dumps(big), "base_etag": etag, "action": "save"},
    )

    assert page.status_code == 200
    assert "too large" in page.content.decode()
    assert aws.live_rules()[0] == VALID_RULES


@pytest.mark.parametrize("version", ["not-a-version", "null", "x" * 300])
@pytest.mark.parametrize("suffix", ["", "rollback/"])
def test_a_tampered_version_id_is_a_message_not_an_error_page(
    aws, operator, version, suffix
):
    aws.put_rules(VALID_RULES)

    page = operator.get(f"{R}history/{version}/{suffix}", follow=True)

    assert page.status_code == 200
    assert any("no version" in m for m in _texts(page)), _texts(page)


def test_a_tampered_version_in_a_compare_is_a_message(aws, operator):
    aws.put_rules(VALID_RULES)
    real = aws.s3.list_object_versions(Bucket=BUCKET)["Versions"][0]["VersionId"]

    page = operator.get(f"{R}history/compare/", {"a": real, "b": "forged"}, follow=True)

    assert page.status_code == 200
    assert any("no version" in m for m in _texts(page)), _texts(page)


def test_rollback_to_a_version_invalid_today_is_refused_even_by_post(aws, operator):
    aws.put_rules({"rules": [{"name": "broken", "pattern": 5, "targets": []}]})
    etag = aws.put_rules(VALID_RULES)
    old = aws.s3.list_object_versions(Bucket=BUCKET)["Versions"][-1]["VersionId"]

    page = operator.post(
        f"{R}history/{old}/rollback/", {"base_etag": etag}, follow=True
    )

    assert any("not valid today" in m for m in _texts(page))
    assert aws.live_rules()[0] == VALID_RULES
    assert not AuditRecord.objects.exists()


def test_the_editor_never_saves_without_the_review_step(aws, operator):
    etag = aws.put_rules({"rules": []})

    page = operator.post(
        f"{R}edit/",
        {"document": json.dumps(VALID_RULES), "base_etag": etag, "action": "save"},
    )

    assert "Changes against the live version" in page.content.decode()
    assert aws.live_rules()[0] == {"rules": []}


# Users


@pytest.mark.parametrize(
    "attributes",
    [
        '{"score": NaN}',
        '{"score": 1e400}',
        '{"score": 0.12345678901234567890123456789012345678901}',
        DEEP,
    ],
)
def test_user_attributes_dynamodb_cannot_store_are_refused_before_writing(
    aws, operator, attributes
):
    aws.put_user("u-1", email="ada@example.com")
    form = operator.get(f"{U}edit/", {"id": "u-1"})

    page = operator.post(
        f"{U}edit/",
        {
            "id": "u-1",
            "attributes": attributes,
            "seen": form.context["seen"],
            "action": "confirm",
        },
    )

    assert page.status_code == 200
    assert aws.user("u-1") == {
        "user_id": {"S": "u-1"},
        "email": {"S": "ada@example.com"},
    }
    assert not AuditRecord.objects.exists()


def test_a_user_delete_posted_without_the_confirmation_page_deletes_nothing(
    aws, operator
):
    aws.put_user("u-1", email="ada@example.com")

    page = operator.post(f"{U}delete/", {"id": "u-1", "action": "confirm"})

    assert "Are you sure" in page.content.decode()
    assert aws.user("u-1") is not None
    assert not AuditRecord.objects.exists()


def test_a_user_changed_after_the_delete_confirmation_is_not_deleted(aws, operator):
    aws.put_user("u-1", email="ada@example.com")
    confirm = operator.get(f"{U}delete/", {"id": "u-1"})
    aws.put_user("u-1", email="ada@example.com", display_name="changed meanwhile")

    page = operator.post(
        f"{U}delete/",
        {"id": "u-1", "action": "confirm", "seen": confirm.context["seen"]},
    )

    assert "changed since" in page.content.decode()
    assert aws.user("u-1") is not None
    assert not AuditRecord.objects.exists()


def test_a_user_edit_posted_without_the_form_state_is_reviewed_not_written(
    aws, operator
):
    aws.put_user("u-1", email="ada@example.com")

    page = operator.post(
        f"{U}edit/",
        {
            "id": "u-1",
            "attributes": '{"email": "evil@example.com"}',
            "action": "confirm",
        },
    )

    assert "Yes, save" in page.content.decode()
    assert aws.user("u-1")["email"] == {"S": "ada@example.com"}
    assert not AuditRecord.objects.exists()


def test_a_user_cursor_past_the_end_is_an_empty_last_page(aws, operator):
    aws.put_user("u-1", email="ada@example.com")
    cursor = base64.urlsafe_b64encode(
        json.dumps({"user_id": {"S": "zzzz-not-a-user"}}).encode()
    ).decode()

    page = operator.get(U, {"cursor": cursor})

    assert page.status_code == 200
    assert "End of the table" in page.content.decode()


def test_an_oversized_user_id_is_a_message_not_an_error_page(aws, operator):
    page = operator.get(f"{U}user/", {"id": "u" * 5000}, follow=True)

    assert page.status_code == 200
    assert any("no user" in m.lower() for m in _texts(page)), _texts(page)


# Failures


@pytest.mark.parametrize(
    "cursor",
    [
        "%%%",
        base64.urlsafe_b64encode(b"[1, 2]").decode(),
        base64.urlsafe_b64encode(
            json.dumps({"i": "other-index", "k": {"record_id": "x"}}).encode()
        ).decode(),
    ],
)
def test_a_tampered_failure_cursor_is_a_message_and_the_first_page(
    aws, operator, cursor
):
    aws.add_failure()

    page = operator.get(F, {"status": "parked", "cursor": cursor}, follow=True)

    assert page.status_code == 200
    assert any("cursor" in m for m in _texts(page)), _texts(page)
    assert len(page.context["rows"]) == 1


def test_a_cursor_dynamodb_refuses_is_a_message_and_the_first_page(
    aws, operator, monkeypatch
):
    # A cursor with the wrong key attributes decodes, and DynamoDB answers
    # ValidationException (moto in-process fails differently, so the store's
    # translation of that answer is what is simulated here).
    from dlq_processor.errors import StorageRejected
    from dlq_processor.store import FailureStore

    aws.add_failure()
    real = FailureStore.query

    def query(self, *args, cursor=None, **kwargs):
        if cursor:
            raise StorageRejected("Query: The provided starting key is invalid")
        return real(self, *args, cursor=cursor, **kwargs)

    monkeypatch.setattr(FailureStore, "query", query)
    forged = base64.urlsafe_b64encode(
        json.dumps({"i": "status-index", "k": {"record_id": "x"}}).encode()
    ).decode()

    page = operator.get(F, {"status": "parked", "cursor": forged}, follow=True)

    assert page.status_code == 200
    assert any("cursor" in m for m in _texts(page)), _texts(page)
    assert len(page.context["rows"]) == 1


def test_redriving_a_discarded_record_is_refused_with_a_message(
    aws, operator, fake_lambda
):
    record_id = aws.add_failure()
    aws.store().discard(record_id, "someone", "noise")

    page = operator.post(
        f"{F}redrive/", {"ids": [record_id], "confirm": "yes"}, follow=True
    )

    assert fake_lambda.calls == []
    assert any("not redriven" in m and "discarded" in m for m in _texts(page))
    assert not AuditRecord.objects.exists()


def test_a_discard_with_a_blank_reason_is_refused(aws, operator):
    record_id = aws.add_failure()

    page = operator.post(
        f"{F}discard/", {"ids": [record_id], "confirm": "yes", "reason": "   \n "}
    )

    assert "Say why" in page.content.decode()
    assert aws.store().get(record_id)["status"] == "parked"
    assert not AuditRecord.objects.exists()


def test_an_edited_event_nested_too_deeply_is_refused(aws, operator, fake_lambda):
    record_id = aws.add_failure()

    page = operator.post(f"{F}{record_id}/edit/", {"event": DEEP, "action": "confirm"})

    assert page.status_code == 200
    assert "nested too deeply" in page.content.decode()
    assert fake_lambda.calls == []


def test_a_bulk_job_id_that_does_not_exist_is_a_404_not_data(aws, operator):
    assert operator.get(f"{F}bulk/999/").status_code == 404
    assert operator.post(f"{F}bulk/999/").status_code == 404


# Queue


def test_moving_a_message_that_vanished_says_so_and_audits_nothing(aws, operator):
    aws.sqs.send_message(QueueUrl=aws.unprocessable_url, MessageBody="gone soon")
    listed = operator.get(Q).context["messages_found"]
    message_id = listed[0].message_id
    received = aws.sqs.receive_message(QueueUrl=aws.unprocessable_url)["Messages"]
    aws.sqs.delete_message(
        QueueUrl=aws.unprocessable_url, ReceiptHandle=received[0]["ReceiptHandle"]
    )

    confirm = operator.post(f"{Q}move/", {"ids": [message_id]})
    done = operator.post(
        f"{Q}move/", {"ids": [message_id], "confirm": "yes"}, follow=True
    )

    assert "no longer visible" in confirm.content.decode()
    assert any("was not found" in m for m in _texts(done))
    assert not AuditRecord.objects.exists()


@pytest.mark.parametrize("version", ["a%00b", "%E2%80%AEv1", "..", "v1%0D%0A"])
def test_version_ids_with_odd_characters_are_a_message(aws, operator, version):
    aws.put_rules(VALID_RULES)

    page = operator.get(f"{R}history/{version}/", follow=True)

    assert page.status_code == 200
    assert any("no version" in m for m in _texts(page)), _texts(page)


def test_a_tampered_stream_position_is_a_message_on_the_dry_run_page(aws, operator):
    aws.put_rules(VALID_RULES)

    page = operator.post(
        f"{R}dry-run/", {"action": "load", "position": "AT_SEQUENCE_NUMBER"}
    )

    assert page.status_code == 200
    assert any("position" in m for m in _texts(page)), _texts(page)


@pytest.mark.parametrize("path", [R, f"{R}history/", f"{R}edit/", U, F, Q])
def test_opening_pages_changes_nothing(aws, operator, fake_lambda, path):
    aws.put_rules(VALID_RULES)
    aws.put_user("u-1", email="ada@example.com")
    record_id = aws.add_failure()
    aws.sqs.send_message(QueueUrl=aws.unprocessable_url, MessageBody="raw")

    for each in (
        path,
        f"{R}rule/0/",
        f"{U}delete/?id=u-1",
        f"{F}{record_id}/edit/",
        f"{F}bulk/?status=parked",
        f"{F}redrive/",
    ):
        assert operator.get(each).status_code in (200, 302)

    assert fake_lambda.calls == []
    assert not AuditRecord.objects.exists()
    assert len(aws.s3.list_object_versions(Bucket=BUCKET)["Versions"]) == 1
    assert aws.user("u-1") is not None
    assert aws.store().get(record_id)["status"] == "parked"
    queued = aws.sqs.receive_message(QueueUrl=aws.unprocessable_url)
    assert [m["Body"] for m in queued["Messages"]] == ["raw"]


@pytest.mark.parametrize(
    "rule",
    [
        {"name": "a", "pattern": {}, "targets": 5},
        {"name": {"x": 1}, "pattern": [], "targets": {"connector": "webhook"}},
        {"name": 7, "enabled": "yes", "targets": [5, None, "x"]},
        "not a rule",
    ],
)
def test_a_malformed_live_rule_is_shown_with_its_problems(aws, operator, rule):
    aws.put_rules({"rules": [rule]})

    live = operator.get(R)
    form = operator.get(f"{R}rule/0/")

    assert live.status_code == 200
    assert live.context["checked"].count >= 1
    assert form.status_code == 200


def test_a_bulk_job_id_beyond_any_integer_column_is_a_404(aws, operator):
    huge = "9" * 30

    assert operator.get(f"{F}bulk/{huge}/").status_code == 404
    assert operator.post(f"{F}bulk/{huge}/").status_code == 404
    assert operator.get(f"{R}rule/{huge}/", follow=True).status_code == 200

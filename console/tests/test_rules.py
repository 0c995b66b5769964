"""Rules pages: live view, check, diff, conditional save, history, rollback."""

import json

import pytest

from switchyard_console.ops.models import AuditRecord
from tests.conftest import BUCKET, RULES_KEY, VALID_RULES

pytestmark = [pytest.mark.functional, pytest.mark.django_db]

BASE = "/admin/console/routingrules/"


def _broken() -> dict:
    document = json.loads(json.dumps(VALID_RULES))
    document["rules"][1]["pattern"] = {"type": "PushEvent"}
    document["rules"][1]["targets"] = [{"params": {}}]
    return document


def test_live_page_shows_version_saver_and_rules(aws, operator):
    aws.put_rules(VALID_RULES, actor="alice")

    page = operator.get(BASE)

    text = page.content.decode()
    assert page.status_code == 200
    assert "new-orders-to-crm" in text and "pushes-to-table" in text
    assert "alice" in text
    _, live = aws.live_rules()
    assert live["VersionId"] in text


def test_check_lists_every_problem_under_its_rule_and_field(aws, operator):
    etag = aws.put_rules(VALID_RULES)

    page = operator.post(
        f"{BASE}edit/",
        {"document": json.dumps(_broken()), "base_etag": etag, "action": "check"},
    )

    text = page.content.decode()
    assert page.status_code == 200
    assert "Rule 2: pushes-to-table" in text
    assert "pattern.type" in text
    assert "targets[0]" in text
    assert "nothing was saved" in text
    # Nothing was written.
    assert aws.live_rules()[1]["ETag"] == etag


def test_invalid_json_is_a_problem_with_its_line(aws, operator):
    etag = aws.put_rules(VALID_RULES)

    page = operator.post(
        f"{BASE}edit/", {"document": '{"rules": [\n  {"name": }', "base_etag": etag}
    )

    assert "not valid JSON at line 2" in page.content.decode()


def test_check_of_a_valid_edit_shows_the_diff_before_saving(aws, operator):
    etag = aws.put_rules(VALID_RULES)
    edited = json.loads(json.dumps(VALID_RULES))
    edited["rules"][0]["enabled"] = False

    page = operator.post(
        f"{BASE}edit/",
        {"document": json.dumps(edited), "base_etag": etag, "action": "check"},
    )

    text = page.content.decode()
    assert 'class="diff-remove">-      &quot;enabled&quot;: true,' in text
    assert 'class="diff-add">+      &quot;enabled&quot;: false,' in text
    assert aws.live_rules()[1]["ETag"] == etag


def test_save_writes_a_new_version_with_the_saver_and_an_audit_record(aws, operator):
    etag = aws.put_rules(VALID_RULES)
    edited = json.loads(json.dumps(VALID_RULES))
    edited["rules"][0]["enabled"] = False

    response = operator.post(
        f"{BASE}save/",
        {"document": json.dumps(edited), "base_etag": etag, "action": "save"},
    )

    assert response.status_code == 302
    document, live = aws.live_rules()
    assert document["rules"][0]["enabled"] is False
    assert live["Metadata"]["saved-by"] == "olivia"
    entry = AuditRecord.objects.get(action=AuditRecord.Action.RULES_SAVE)
    assert entry.actor_name == "olivia"
    assert entry.before["rules"][0]["enabled"] is True
    assert entry.after["rules"][0]["enabled"] is False
    assert live["VersionId"] in entry.target


def test_conflicting_save_keeps_the_edit_and_writes_nothing(aws, operator):
    first = aws.put_rules(VALID_RULES, actor="alice")
    # Someone else saves after the operator opened the editor.
    theirs = json.loads(json.dumps(VALID_RULES))
    theirs["rules"][1]["name"] = "renamed-by-bob"
    aws.put_rules(theirs, actor="bob")
    mine = json.loads(json.dumps(VALID_RULES))
    mine["rules"][0]["description"] = "my careful edit"

    page = operator.post(
        f"{BASE}save/",
        {"document": json.dumps(mine), "base_etag": first, "action": "save"},
    )

    text = page.content.decode()
    assert page.status_code == 200
    assert "Someone else saved the rules" in text
    assert "by bob" in text
    assert "my careful edit" in text
    assert "renamed-by-bob" in text  # the diff against the new live version
    assert aws.live_rules()[0]["rules"][1]["name"] == "renamed-by-bob"
    assert not AuditRecord.objects.exists()


def test_s3_refuses_a_stale_if_match_even_when_the_page_check_passes(aws):
    from switchyard_console.ops.rules_store import RulesConflictError, RulesStore

    store = RulesStore(BUCKET, RULES_KEY, client=aws.s3)
    stale = aws.put_rules(VALID_RULES)
    aws.put_rules({"rules": []}, actor="bob")

    with pytest.raises(RulesConflictError) as caught:
        store.save("{}", expected_etag=stale, actor="olivia")

    assert caught.value.live.saved_by == "bob"


def test_first_save_needs_no_document_to_exist(aws, operator):
    response = operator.post(
        f"{BASE}save/",
        {"document": json.dumps(VALID_RULES), "base_etag": "", "action": "save"},
    )

    assert response.status_code == 302
    assert aws.live_rules()[0] == VALID_RULES


def test_rule_form_shows_problems_on_the_rule_fields(aws, operator):
    etag = aws.put_rules(VALID_RULES)

    page = operator.post(
        f"{BASE}rule/1/",
        {
            "base_etag": etag,
            "name": "pushes-to-table",
            "enabled": "on",
            "pattern": '{"type": "PushEvent"}',
            "targets": '[{"connector": "dynamodb", "params": {"table": "t"}}]',
        },
    )

    text = page.content.decode()
    assert 'id="pattern-errors"' in text
    assert 'id="targets-errors"' not in text
    assert aws.live_rules()[1]["ETag"] == etag


def test_rule_form_reviews_then_saves_one_rule(aws, operator):
    etag = aws.put_rules(VALID_RULES)

    review = operator.post(
        f"{BASE}rule/1/",
        {
            "base_etag": etag,
            "name": "pushes-to-table",
            "pattern": '{"type": ["PushEvent", "PullRequestEvent"]}',
            "targets": '[{"connector": "dynamodb", "params": {"table": "pushes"}}]',
        },
    )
    assert "PullRequestEvent" in review.content.decode()
    document = review.context["text"]

    operator.post(
        f"{BASE}save/", {"document": document, "base_etag": etag, "action": "save"}
    )

    live = aws.live_rules()[0]
    assert live["rules"][1]["pattern"]["type"] == ["PushEvent", "PullRequestEvent"]
    assert live["rules"][1]["enabled"] is False


def test_rule_form_adds_a_rule_at_the_end(aws, operator):
    etag = aws.put_rules(VALID_RULES)

    review = operator.post(
        f"{BASE}rule/2/",
        {
            "base_etag": etag,
            "name": "issues",
            "enabled": "on",
            "pattern": '{"type": ["IssuesEvent"]}',
            "targets": '[{"connector": "webhook", "params": {"url": "https://x.test/"}}]',
        },
    )
    operator.post(
        f"{BASE}save/",
        {"document": review.context["text"], "base_etag": etag, "action": "save"},
    )

    assert [r["name"] for r in aws.live_rules()[0]["rules"]][-1] == "issues"


def test_unknown_connector_is_a_problem(aws, operator):
    etag = aws.put_rules(VALID_RULES)
    document = json.loads(json.dumps(VALID_RULES))
    document["rules"][0]["targets"][0]["connector"] = "carrier-pigeon"

    page = operator.post(
        f"{BASE}edit/", {"document": json.dumps(document), "base_etag": etag}
    )

    assert "carrier-pigeon" in page.content.decode()
    assert page.context["checked"].count >= 1


def test_history_lists_versions_with_who_saved_them(aws, operator):
    aws.put_rules(VALID_RULES, actor="alice")
    aws.put_rules({"rules": []}, actor="bob")

    page = operator.get(f"{BASE}history/")

    versions = page.context["versions"]
    assert [v.saved_by for v in versions] == ["bob", "alice"]
    assert versions[0].is_latest


def test_compare_diffs_any_two_versions(aws, operator):
    aws.put_rules(VALID_RULES, actor="alice")
    aws.put_rules({"rules": []}, actor="bob")
    newer, older = [
        v["VersionId"] for v in aws.s3.list_object_versions(Bucket=BUCKET)["Versions"]
    ]

    page = operator.get(f"{BASE}history/compare/", {"a": older, "b": newer})

    kinds = {line.kind for line in page.context["diff"]}
    assert "remove" in kinds
    assert "new-orders-to-crm" in page.content.decode()


def test_rollback_confirms_then_writes_the_old_version_as_new(aws, operator):
    aws.put_rules(VALID_RULES, actor="alice")
    aws.put_rules({"rules": []}, actor="bob")
    old = aws.s3.list_object_versions(Bucket=BUCKET)["Versions"][-1]["VersionId"]

    confirm = operator.get(f"{BASE}history/{old}/rollback/")
    assert "Yes, roll back" in confirm.content.decode()
    operator.post(
        f"{BASE}history/{old}/rollback/", {"base_etag": confirm.context["base_etag"]}
    )

    document, live = aws.live_rules()
    assert document == VALID_RULES
    assert live["Metadata"]["note"].startswith("rollback")
    entry = AuditRecord.objects.get(action=AuditRecord.Action.RULES_ROLLBACK)
    assert entry.before == {"rules": []}
    assert entry.after == VALID_RULES


def test_rollback_with_a_stale_base_is_a_conflict(aws, operator):
    aws.put_rules(VALID_RULES, actor="alice")
    aws.put_rules({"rules": []}, actor="bob")
    old = aws.s3.list_object_versions(Bucket=BUCKET)["Versions"][-1]["VersionId"]
    confirm = operator.get(f"{BASE}history/{old}/rollback/")
    # A different body: S3's ETag is the body's MD5, so it must change.
    aws.put_rules({"rules": [], "note": "carol"}, actor="carol")

    page = operator.post(
        f"{BASE}history/{old}/rollback/", {"base_etag": confirm.context["base_etag"]}
    )

    assert "Someone else saved the rules" in page.content.decode()
    assert aws.live_rules()[1]["Metadata"]["saved-by"] == "carol"


def test_missing_bucket_is_an_admin_message_not_an_error_page(aws, operator, settings):
    settings.RULES_BUCKET = "no-such-bucket"

    page = operator.get(BASE)

    text = page.content.decode()
    assert page.status_code == 503
    assert "NoSuchBucket" in text
    assert "check the console&#x27;s settings" in text
    assert 'id="site-name"' in text  # still the admin's page


def test_editor_page_loads_the_live_text_into_the_vendored_editor(aws, operator):
    etag = aws.put_rules(VALID_RULES)

    page = operator.get(f"{BASE}edit/")

    text = page.content.decode()
    assert page.context["base_etag"] == etag
    assert "new-orders-to-crm" in page.context["text"]
    assert "console/codemirror/codemirror.js" in text
    assert 'class="json-editor"' in text


def test_version_page_shows_that_version(aws, operator):
    aws.put_rules(VALID_RULES, actor="alice")
    aws.put_rules({"rules": []}, actor="bob")
    old = aws.s3.list_object_versions(Bucket=BUCKET)["Versions"][-1]["VersionId"]

    page = operator.get(f"{BASE}history/{old}/")

    assert page.context["version"].saved_by == "alice"
    assert "new-orders-to-crm" in page.context["text"]


def test_edit_as_json_round_trip_saves_through_the_review_page(aws, operator):
    etag = aws.put_rules(VALID_RULES)
    edited = json.loads(json.dumps(VALID_RULES))
    del edited["rules"][1]

    review = operator.post(
        f"{BASE}edit/",
        {"document": json.dumps(edited), "base_etag": etag, "action": "check"},
    )
    back = operator.post(
        f"{BASE}save/",
        {"document": review.context["text"], "base_etag": etag, "action": "edit"},
    )
    assert back.context["text"] == review.context["text"]
    operator.post(
        f"{BASE}save/",
        {"document": review.context["text"], "base_etag": etag, "action": "save"},
    )

    assert [r["name"] for r in aws.live_rules()[0]["rules"]] == ["new-orders-to-crm"]


def test_a_live_document_that_is_not_json_is_not_edited_rule_by_rule(aws, operator):
    aws.put_rules('{"rules": [ broken')

    response = operator.get(f"{BASE}rule/0/", follow=True)

    assert response.redirect_chain[-1][0].endswith("/edit/")
    assert "cannot be edited rule by rule" in response.content.decode()


def test_a_live_document_that_is_not_json_is_shown_with_its_problem(aws, operator):
    aws.put_rules('{"rules": [ broken')

    page = operator.get(BASE)

    assert page.status_code == 200
    assert "not valid JSON" in page.content.decode()


def test_problems_are_marked_on_the_line_of_their_field(aws, operator):
    etag = aws.put_rules(VALID_RULES)

    page = operator.post(
        f"{BASE}edit/",
        {"document": json.dumps(_broken()), "base_etag": etag, "action": "check"},
    )

    lines = page.context["text"].splitlines()
    marks = page.context["checked"].marks
    marked = {lines[m["line"] - 1].strip() for m in marks}
    assert '"type": "PushEvent"' in marked
    assert 'id="problem-marks"' in page.content.decode()

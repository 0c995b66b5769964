"""Failure pages: filters, counts, detail, redrive, edit, discard, bulk."""

import pytest

from switchyard_console.ops.models import AuditRecord, BulkRedrive

pytestmark = [pytest.mark.functional, pytest.mark.django_db]

BASE = "/admin/console/failedevent/"


def test_list_filters_by_target_and_error_type_and_counts(aws, operator):
    aws.add_failure(connector="webhook", error_type="HTTPError")
    aws.add_failure(connector="webhook", error_type="Timeout")
    aws.add_failure(connector="dynamodb", error_type="HTTPError")

    everything = operator.get(BASE)
    by_target = operator.get(
        BASE, {"target_name": "webhook:https://hooks.test/webhook"}
    )
    by_error = operator.get(BASE, {"error_type": "Timeout"})

    assert len(everything.context["rows"]) == 3
    assert everything.context["counts"]["by_status"]["parked"] == 3
    assert {t: n for t, n, _, _ in everything.context["target_choices"]} == {
        "webhook:https://hooks.test/webhook": 2,
        "dynamodb:https://hooks.test/dynamodb": 1,
    }
    assert len(by_target.context["rows"]) == 2
    assert [r["error_type"] for r in by_error.context["rows"]] == ["Timeout"]


def test_list_filters_by_time(aws, operator):
    aws.add_failure(failed_at="2026-12-01T10:00:00.000Z")
    aws.add_failure(failed_at="2026-12-03T10:00:00.000Z")

    page = operator.get(BASE, {"since": "2026-12-02T00:00:00Z"})

    assert [r["last_failed_at"] for r in page.context["rows"]] == [
        "2026-12-03T10:00:00.000Z"
    ]


def test_list_pages_through_more_records_than_one_page(aws, operator, monkeypatch):
    from switchyard_console.ops.views import failures

    # A small page keeps the test fast; the paging is the same at 50.
    monkeypatch.setattr(failures, "PAGE_SIZE", 5)
    ids = {aws.add_failure() for _ in range(12)}

    shown, url, pages = [], BASE, 0
    while url:
        page = operator.get(url)
        assert len(page.context["rows"]) <= 5
        shown += [r["record_id"] for r in page.context["rows"]]
        url = page.context["next_url"]
        pages += 1

    assert pages == 3
    assert set(shown) == ids and len(shown) == 12


def test_detail_shows_event_error_and_history(aws, operator):
    record_id = aws.add_failure(event={"id": "evt-x", "type": "order.created"})

    page = operator.get(f"{BASE}{record_id}/")

    text = page.content.decode()
    assert "HTTPError" in text and "evt-x" in text
    assert page.context["history"][0]["action"] == "failed"


def test_redrive_one_asks_first_then_invokes_and_audits(aws, operator, fake_lambda):
    record_id = aws.add_failure()

    confirm = operator.post(f"{BASE}redrive/", {"ids": [record_id]})
    assert confirm.context["plan"][0]["ok"]
    assert "switchyard-test-connector-webhook" in confirm.content.decode()
    assert fake_lambda.calls == []

    operator.post(f"{BASE}redrive/", {"ids": [record_id], "confirm": "yes"})

    assert len(fake_lambda.calls) == 1
    call = fake_lambda.calls[0]
    assert call["FunctionName"] == "switchyard-test-connector-webhook"
    assert call["Payload"]["deliveries"][0]["redrive"]["record_id"] == record_id
    assert aws.store().get(record_id)["status"] == "redriven"
    entry = AuditRecord.objects.get(action=AuditRecord.Action.FAILURE_REDRIVE)
    assert entry.before["status"] == "parked"
    assert entry.after["status"] == "redriven"


def test_redrive_selection_reports_each_outcome(aws, operator, fake_lambda):
    ids = [aws.add_failure() for _ in range(3)]
    fake_lambda.function_error = "Unhandled"
    fake_lambda.answer = {"errorType": "HTTPError", "errorMessage": "503"}

    response = operator.post(
        f"{BASE}action/",
        {"action": "redrive_selected", "ids": ids, "confirm": "yes"},
        follow=True,
    )

    text = response.content.decode()
    assert text.count("failed again at") == 3
    assert len(fake_lambda.calls) == 3
    assert AuditRecord.objects.filter(action="failure.redrive").count() == 3


def test_edit_event_then_redrive_sends_the_edited_event(aws, operator, fake_lambda):
    record_id = aws.add_failure(event={"id": "evt-1", "total": "oops"})

    review = operator.post(
        f"{BASE}{record_id}/edit/",
        {"event": '{"id": "evt-1", "total": 150}', "action": "review"},
    )
    assert "+  &quot;total&quot;: 150" in review.content.decode()
    assert fake_lambda.calls == []

    operator.post(
        f"{BASE}{record_id}/edit/",
        {"event": review.context["text"], "action": "confirm"},
    )

    sent = fake_lambda.calls[0]["Payload"]["deliveries"][0]["event"]
    assert sent == {"id": "evt-1", "total": 150}
    entry = AuditRecord.objects.get(action=AuditRecord.Action.FAILURE_REDRIVE)
    assert entry.after["event"] == {"id": "evt-1", "total": 150}


def test_discard_needs_a_reason_and_is_audited(aws, operator):
    record_id = aws.add_failure()

    no_reason = operator.post(f"{BASE}discard/", {"ids": [record_id], "confirm": "yes"})
    assert "Say why" in no_reason.content.decode()
    assert aws.store().get(record_id)["status"] == "parked"

    operator.post(
        f"{BASE}discard/",
        {"ids": [record_id], "confirm": "yes", "reason": "test traffic"},
    )

    record = aws.store().get(record_id)
    assert record["status"] == "discarded"
    assert record["history"][-1]["detail"] == "test traffic"
    entry = AuditRecord.objects.get(action=AuditRecord.Action.FAILURE_DISCARD)
    assert entry.after == {"status": "discarded", "reason": "test traffic"}


def test_bulk_redrive_confirms_then_advances_chunk_by_chunk(aws, operator, fake_lambda):
    ids = {aws.add_failure(connector="webhook") for _ in range(7)}
    aws.add_failure(connector="dynamodb")
    target = "webhook:https://hooks.test/webhook"

    confirm = operator.get(f"{BASE}bulk/", {"status": "parked", "target_name": target})
    assert "Yes, redrive them all" in confirm.content.decode()
    assert fake_lambda.calls == []

    started = operator.post(
        f"{BASE}bulk/", {"status": "parked", "target_name": target, "confirm": "yes"}
    )
    job = BulkRedrive.objects.get()
    assert started["Location"].endswith(f"bulk/{job.pk}/")

    steps = 0
    while BulkRedrive.objects.get().status == "running" and steps < 10:
        operator.post(f"{BASE}bulk/{job.pk}/")
        steps += 1
        if steps == 1:
            # The chunk size is 3 in the test settings: one step, three invokes.
            assert len(fake_lambda.calls) == 3

    job.refresh_from_db()
    assert job.status == "done"
    assert job.redriven == 7
    assert steps == 3
    sent = {
        c["Payload"]["deliveries"][0]["redrive"]["record_id"] for c in fake_lambda.calls
    }
    assert sent == ids
    assert AuditRecord.objects.filter(action="failure.redrive").count() == 7


def test_bulk_redrive_of_a_discarded_filter_is_refused(aws, operator, fake_lambda):
    aws.add_failure()

    response = operator.get(f"{BASE}bulk/", {"status": "discarded"}, follow=True)

    assert "Only parked or redriven" in response.content.decode()
    assert not BulkRedrive.objects.exists()


def test_throttled_store_becomes_an_admin_message(aws, operator, monkeypatch):
    from botocore.exceptions import ClientError

    from switchyard_console.ops import resources

    class Throttled:
        table_name = "t"

        def query(self, **kwargs):
            from dlq_processor.errors import StorageError

            error = ClientError(
                {"Error": {"Code": "ThrottlingException", "Message": "slow down"}},
                "Query",
            )
            raise StorageError(f"Query on t failed: {error}") from error

    monkeypatch.setattr(resources, "failure_store", lambda: Throttled())

    page = operator.get(BASE)

    assert page.status_code == 503
    assert "ThrottlingException" in page.content.decode()


def test_a_time_filter_that_is_not_a_time_is_ignored_with_a_warning(aws, operator):
    aws.add_failure()

    page = operator.get(BASE, {"since": "yesterday-ish"})

    assert "is not a time" in page.content.decode()
    assert len(page.context["rows"]) == 1

"""Partial failures and crashes: every change made is audited once, work resumes."""

import pytest
from botocore.exceptions import ClientError

from dlq_processor.errors import StorageError
from dlq_processor.store import FailureStore
from switchyard_console.ops import resources
from switchyard_console.ops.models import AuditRecord, BulkRedrive
from tests.conftest import VALID_RULES, FakeLambda

pytestmark = [pytest.mark.functional, pytest.mark.django_db]

R = "/admin/console/routingrules/"
F = "/admin/console/failedevent/"
Q = "/admin/console/unprocessablemessage/"


def _texts(response):
    return [str(m) for m in response.context["messages"]]


class Crash(BaseException):
    """The console process dying mid-request (not an error it could handle)."""


def test_a_queue_move_that_fails_halfway_audits_what_was_moved(
    aws, operator, monkeypatch
):
    for body in ("one", "two"):
        aws.sqs.send_message(QueueUrl=aws.unprocessable_url, MessageBody=body)
    ids = [m.message_id for m in operator.get(Q).context["messages_found"]]

    class FailsSecondSend:
        def __init__(self, real):
            self.real, self.sends = real, 0

        def __getattr__(self, name):
            return getattr(self.real, name)

        def send_message(self, **kwargs):
            self.sends += 1
            if self.sends == 2:
                raise ClientError(
                    {"Error": {"Code": "ThrottlingException", "Message": "slow"}},
                    "SendMessage",
                )
            return self.real.send_message(**kwargs)

    wrapped = FailsSecondSend(aws.sqs)
    monkeypatch.setattr(resources, "sqs_client", lambda: wrapped)

    page = operator.post(f"{Q}move/", {"ids": ids, "confirm": "yes"}, follow=True)

    assert page.status_code == 200
    texts = " ".join(_texts(page))
    assert "1 message(s) were moved" in texts
    assert "ThrottlingException" in texts
    assert AuditRecord.objects.filter(action="message.move").count() == 1


def test_a_selection_redrive_that_fails_halfway_reports_and_audits_each(
    aws, operator, fake_lambda, monkeypatch
):
    ids = [aws.add_failure() for _ in range(3)]
    real = FailureStore.claim_redrive

    def claim(self, record_id, **kwargs):
        if record_id == ids[1]:
            raise StorageError(f"UpdateItem for record {record_id} failed: throttled")
        return real(self, record_id, **kwargs)

    monkeypatch.setattr(FailureStore, "claim_redrive", claim)

    page = operator.post(f"{F}redrive/", {"ids": ids, "confirm": "yes"}, follow=True)

    assert page.status_code == 200
    texts = _texts(page)
    assert sum("was redriven" in t for t in texts) == 2
    assert any(ids[1] in t and "throttled" in t for t in texts)
    audited = set(
        AuditRecord.objects.filter(action="failure.redrive").values_list(
            "target", flat=True
        )
    )
    assert audited == {f"failure {ids[0]}", f"failure {ids[2]}"}


def test_a_discard_that_fails_halfway_reports_and_audits_each(
    aws, operator, monkeypatch
):
    ids = [aws.add_failure() for _ in range(3)]
    real = FailureStore.discard

    def discard(self, record_id, actor, reason):
        if record_id == ids[1]:
            raise StorageError(f"UpdateItem for record {record_id} failed: throttled")
        return real(self, record_id, actor, reason)

    monkeypatch.setattr(FailureStore, "discard", discard)

    page = operator.post(
        f"{F}discard/",
        {"ids": ids, "confirm": "yes", "reason": "noise"},
        follow=True,
    )

    assert page.status_code == 200
    assert any(ids[1] in t and "throttled" in t for t in _texts(page))
    assert AuditRecord.objects.filter(action="failure.discard").count() == 2
    assert aws.store().get(ids[2])["status"] == "discarded"


def _start_bulk(aws, operator, count):
    ids = {aws.add_failure() for _ in range(count)}
    operator.post(F + "bulk/", {"status": "parked", "confirm": "yes"})
    return ids, BulkRedrive.objects.get()


def test_a_bulk_redrive_resumes_after_a_crash_without_redelivering(
    aws, operator, monkeypatch
):
    ids, job = _start_bulk(aws, operator, 5)

    class CrashesOnSecond(FakeLambda):
        crash_on = 2

        def invoke(self, **kwargs):
            if len(self.calls) + 1 == self.crash_on:
                self.crash_on = 0
                raise Crash()
            return super().invoke(**kwargs)

    fake = CrashesOnSecond()
    monkeypatch.setattr(resources, "lambda_client", lambda: fake)

    with pytest.raises(Crash):
        operator.post(f"{F}bulk/{job.pk}/")

    job.refresh_from_db()
    assert job.redriven == 1
    assert job.cursor
    assert AuditRecord.objects.filter(action="failure.redrive").count() == 1

    for _ in range(6):
        if BulkRedrive.objects.get().status != "running":
            break
        operator.post(f"{F}bulk/{job.pk}/")

    job.refresh_from_db()
    sent = [c["Payload"]["deliveries"][0]["redrive"]["record_id"] for c in fake.calls]
    assert job.status == "done"
    # No record is delivered twice. The one whose invoke the crash cut off
    # keeps its redrive lease (whether its connector ran is unknown), so the
    # resumed job skips it instead of risking a second delivery.
    assert len(sent) == len(set(sent)) == 4
    assert set(sent) < ids
    assert (job.redriven, job.skipped) == (4, 1)
    assert AuditRecord.objects.filter(action="failure.redrive").count() == 4


def test_a_bulk_redrive_stopped_by_aws_can_be_resumed(
    aws, operator, fake_lambda, monkeypatch
):
    ids, job = _start_bulk(aws, operator, 4)
    real = FailureStore.query
    broken = {"on": True}

    def query(self, *args, **kwargs):
        if broken["on"]:
            raise StorageError("Query failed: ThrottlingException")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(FailureStore, "query", query)
    operator.post(f"{F}bulk/{job.pk}/")
    job.refresh_from_db()
    assert job.status == "failed"
    page = operator.get(f"{F}bulk/{job.pk}/")
    assert 'id="resume"' in page.content.decode()

    broken["on"] = False
    operator.post(f"{F}bulk/{job.pk}/", {"action": "resume"})
    for _ in range(6):
        if BulkRedrive.objects.get().status != "running":
            break
        operator.post(f"{F}bulk/{job.pk}/")

    job.refresh_from_db()
    assert job.status == "done"
    sent = [
        c["Payload"]["deliveries"][0]["redrive"]["record_id"] for c in fake_lambda.calls
    ]
    assert job.redriven == 4
    assert sorted(sent) == sorted(ids)


def test_saving_over_a_live_document_that_is_not_json_is_audited(aws, operator):
    etag = aws.put_rules("this is { not json")

    review = operator.post(
        f"{R}edit/",
        {"document": '{"rules": []}', "base_etag": etag, "action": "check"},
    )
    page = operator.post(
        f"{R}save/",
        {"document": review.context["text"], "base_etag": etag, "action": "save"},
        follow=True,
    )

    assert page.status_code == 200
    assert aws.live_rules()[0] == {"rules": []}
    entry = AuditRecord.objects.get(action="rules.save")
    assert entry.before == "this is { not json"
    assert entry.after == {"rules": []}


def test_each_change_writes_exactly_one_audit_record_with_before_and_after(
    aws, operator, fake_lambda
):
    etag = aws.put_rules({"rules": []})
    review = operator.post(
        f"{R}edit/",
        {"document": str(VALID_RULES).replace("'", '"').replace("True", "true")}
        | {"base_etag": etag, "action": "check"},
    )
    operator.post(
        f"{R}save/",
        {"document": review.context["text"], "base_etag": etag, "action": "save"},
    )
    record_id = aws.add_failure()
    operator.post(f"{F}redrive/", {"ids": [record_id], "confirm": "yes"})

    saves = AuditRecord.objects.filter(action="rules.save")
    redrives = AuditRecord.objects.filter(action="failure.redrive")
    assert saves.count() == 1
    assert saves.get().before == {"rules": []}
    assert saves.get().after == VALID_RULES
    assert redrives.count() == 1
    assert redrives.get().before["status"] == "parked"
    assert redrives.get().after["status"] == "redriven"


def test_a_bulk_step_while_another_page_is_stepping_the_job_does_nothing(
    aws, operator, fake_lambda
):
    from datetime import timedelta

    from django.utils import timezone

    ids, job = _start_bulk(aws, operator, 2)
    BulkRedrive.objects.filter(pk=job.pk).update(
        stepping_until=timezone.now() + timedelta(seconds=60)
    )

    page = operator.post(f"{F}bulk/{job.pk}/", follow=True)

    assert fake_lambda.calls == []
    assert any("another page" in t.lower() for t in _texts(page))

    # A lease left by a step that died lapses; then the job goes on.
    BulkRedrive.objects.filter(pk=job.pk).update(
        stepping_until=timezone.now() - timedelta(seconds=1)
    )
    operator.post(f"{F}bulk/{job.pk}/")
    job.refresh_from_db()
    assert job.status == "done"
    assert job.stepping_until is None
    assert len(fake_lambda.calls) == len(ids)

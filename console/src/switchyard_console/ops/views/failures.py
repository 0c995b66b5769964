"""Failed-event pages: list, detail, redrive, edit-and-redrive, discard, bulk.

Reading, redriving and discarding are the dead-letter processor's own code
(``dlq_processor.store`` and ``dlq_processor.redrive``); these pages add the
confirmation steps, the audit trail and the progress of bulk work. A bulk
redrive advances one chunk per request and keeps its cursor in the
console's database, so it survives a closed tab and resumes where it was.
"""

import json
import posixpath
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone

from dlq_processor import redrive as redriving
from dlq_processor.errors import (
    DlqError,
    InvalidCursor,
    RecordNotFound,
    RedriveError,
    StorageError,
    StorageRejected,
)
from dlq_processor.items import STATUSES
from switchyard_console.ops import audit, diffs, json_input, pages, resources
from switchyard_console.ops.models import AuditRecord, BulkRedrive

PAGE_SIZE = 50
# How long one bulk step may hold its job: longer than a chunk of invokes
# takes; a step that died frees the job when it lapses.
STEP_LEASE = timedelta(minutes=5)
FILTERS = ("status", "target_name", "error_type", "since", "until")


def _url(name: str, *args: Any, **query: str) -> str:
    url = reverse(f"admin:console_failedevent_{name}", args=args)
    query = {k: v for k, v in query.items() if v}
    return f"{url}?{urlencode(query)}" if query else url


def _time(value: str) -> str | None:
    """A filter time as the table stores it (ISO 8601 UTC with a Z)."""
    value = value.strip()
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    text = moment.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def _filters(data: Any) -> dict[str, str]:
    """The filters in a query string or form, as the page shows them."""
    chosen = {name: str(data.get(name, "")).strip() for name in FILTERS}
    if "status" not in data:
        chosen["status"] = "parked"
    if chosen["status"] not in STATUSES:
        chosen["status"] = ""
    return chosen


def _query(chosen: dict[str, str]) -> dict[str, Any]:
    """The filters as FailureStore.query takes them."""
    return {
        "status": chosen["status"] or None,
        "target_name": chosen["target_name"] or None,
        "error_type": chosen["error_type"] or None,
        "since": _time(chosen["since"]),
        "until": _time(chosen["until"]),
    }


def _row(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "record_id": record["record_id"],
        "url": _url("detail", record["record_id"]),
        "last_failed_at": record.get("last_failed_at", ""),
        "target_name": record.get("target_name", ""),
        "error_type": record.get("error_type", ""),
        "error_message": str(record.get("error_message", ""))[:160],
        "status": record.get("status", ""),
        "attempts": record.get("attempts", ""),
        "event_id": record.get("event_id", ""),
        "origin": record.get("origin", ""),
    }


def changelist(model_admin: Any, request: HttpRequest) -> HttpResponse:
    """Failure records by filter, with counts, a page at a time."""
    pages.require(request, pages.VIEW_FAILURES)
    store = resources.failure_store()
    chosen = _filters(request.GET)
    cursor = request.GET.get("cursor") or None
    for name in ("since", "until"):
        if chosen[name] and _time(chosen[name]) is None:
            messages.warning(
                request,
                f"{name.capitalize()} {chosen[name]!r} is not a time; write it as "
                "ISO 8601, for example 2026-12-04T10:00Z. It was ignored.",
            )
            chosen[name] = ""
    try:
        page = store.query(**_query(chosen), limit=PAGE_SIZE, cursor=cursor)
    except InvalidCursor as exc:
        messages.warning(request, str(exc))
        return HttpResponseRedirect(_url("changelist", **chosen))
    except StorageRejected:
        if cursor is None:
            raise
        # A cursor that decodes but names the wrong key attributes is
        # refused by DynamoDB itself (ValidationException).
        messages.warning(
            request, "The page cursor was refused as damaged; back to the first page."
        )
        return HttpResponseRedirect(_url("changelist", **chosen))
    counts = store.counts(status=chosen["status"] or None)

    def choice(name: str, value: str) -> str:
        return _url("changelist", **{**chosen, name: value})

    return pages.render(
        request,
        model_admin,
        "console/failures/list.html",
        {
            "title": "Failed events",
            "rows": [_row(r) for r in page.items],
            "chosen": chosen,
            "counts": counts,
            "status_choices": [
                (
                    s,
                    counts["by_status"].get(s, 0),
                    choice("status", s),
                    chosen["status"] == s,
                )
                for s in STATUSES
            ],
            "all_statuses_url": choice("status", ""),
            "target_choices": [
                (t, n, choice("target_name", t), chosen["target_name"] == t)
                for t, n in counts["by_target"].items()
            ],
            "error_choices": [
                (e, n, choice("error_type", e), chosen["error_type"] == e)
                for e, n in counts["by_error_type"].items()
            ],
            "next_url": _url("changelist", **chosen, cursor=page.next_cursor)
            if page.next_cursor
            else "",
            "first_url": _url("changelist", **chosen) if cursor else "",
            "bulk_url": _url("bulk", **chosen),
            "filter_query": urlencode(chosen),
        },
    )


def _record(request: HttpRequest, record_id: str) -> dict[str, Any] | None:
    record = resources.failure_store().get(record_id)
    if record is None:
        messages.warning(request, f"There is no failure record {record_id!r}.")
    return record


def detail(model_admin: Any, request: HttpRequest, record_id: str) -> HttpResponse:
    pages.require(request, pages.VIEW_FAILURES)
    store = resources.failure_store()
    record = _record(request, record_id)
    if record is None:
        return HttpResponseRedirect(_url("changelist"))
    event = store.load_event(record)
    facts = [
        (name, record.get(name))
        for name in (
            "status",
            "event_id",
            "target_name",
            "rule",
            "origin",
            "attempts",
            "redrive_attempts",
            "first_failed_at",
            "last_failed_at",
            "correlation_id",
            "last_redrive_outcome",
        )
        if record.get(name) not in (None, "")
    ]
    return pages.render(
        request,
        model_admin,
        "console/failures/detail.html",
        {
            "title": f"Failed event {record_id}",
            "record": record,
            "facts": facts,
            "event_text": json.dumps(event, indent=2, ensure_ascii=False)
            if event is not None
            else "",
            "raw": record.get("raw") or "",
            "target_text": json.dumps(record.get("target"), indent=2)
            if record.get("target")
            else "",
            "original_text": json.dumps(record.get("original_event"), indent=2)
            if record.get("original_event")
            else "",
            "history": list(reversed(record.get("history") or [])),
            "redrivable": record.get("status") in redriving.REDRIVABLE,
        },
    )


def _plan(record_id: str, record: dict[str, Any] | None) -> dict[str, Any]:
    """What redriving one record will do, for the confirmation page."""
    row = {"record_id": record_id, "ok": False, "what": "", "target_name": ""}
    if record is None:
        row["what"] = "skipped: no such record"
        return row
    row["target_name"] = record.get("target_name", "")
    target = record.get("target") or {}
    registry = resources.registry()
    if record.get("status") not in redriving.REDRIVABLE:
        row["what"] = f"skipped: the record is {record.get('status')}"
    elif not target.get("connector"):
        row["what"] = "skipped: it failed before a target was chosen"
    elif target["connector"] not in registry:
        row["what"] = f"skipped: no function is registered for {target['connector']}"
    else:
        function = registry.function_for(target["connector"])
        row["ok"] = True
        row["what"] = (
            f"invoke {function} with event {record.get('event_id')} "
            f"(redrive attempt {int(record.get('redrive_attempts') or 0) + 1})"
        )
    return row


def _selected(request: HttpRequest) -> list[str]:
    seen: list[str] = []
    for record_id in request.POST.getlist("ids"):
        if record_id and record_id not in seen:
            seen.append(record_id)
    return seen[:PAGE_SIZE]


def _back(request: HttpRequest) -> str:
    """The failure list page the operator came from; never anywhere else."""
    back = request.POST.get("back", "")
    prefix = reverse("admin:console_failedevent_changelist")
    parts = urlsplit(back)
    plain = not parts.scheme and not parts.netloc and "\\" not in back
    printable = all(" " <= char <= "~" for char in back)
    inside = (posixpath.normpath(parts.path) + "/").startswith(prefix)
    return back if plain and printable and inside else prefix


def action(model_admin: Any, request: HttpRequest) -> HttpResponse:
    """The list's action menu: redrive or discard the selected records."""
    pages.require(request, pages.VIEW_FAILURES)
    chosen = request.POST.get("action", "")
    if chosen == "redrive_selected":
        return redrive(model_admin, request)
    if chosen == "discard_selected":
        return discard(model_admin, request)
    messages.warning(request, "Choose an action for the selected records.")
    return HttpResponseRedirect(_back(request))


def _redrive_one(
    request: HttpRequest,
    record_id: str,
    edited_event: dict[str, Any] | None = None,
) -> redriving.RedriveResult | str:
    """Redrive one record and audit it; what went wrong (a string) otherwise."""
    store = resources.failure_store()
    try:
        before = store.get(record_id)
        result = redriving.redrive(
            record_id,
            store=store,
            lambda_client=resources.lambda_client(),
            registry=resources.registry(),
            actor=request.user.get_username(),
            edited_event=edited_event,
        )
    except (RedriveError, RecordNotFound) as exc:
        return f"was not redriven: {exc}"
    except StorageError as exc:
        # A storage failure stops this record only; the others of the
        # selection still go, and each one's outcome is reported. It may come
        # after the invoke, so whether the connector ran is not known.
        return (
            f"hit a storage error during its redrive ({exc}); whether it reached "
            "its connector is unknown, so check the record's history first"
        )
    _audit_redrive(request, result, before, edited_event)
    return result


def _audit_redrive(
    request: HttpRequest,
    result: redriving.RedriveResult,
    before: dict[str, Any] | None,
    edited_event: dict[str, Any] | None = None,
) -> None:
    before_state = None
    if before is not None:
        before_state = {
            "status": before.get("status"),
            "redrive_attempts": before.get("redrive_attempts"),
        }
        if edited_event is not None:
            before_state["event"] = before.get("event")
    after_state = {
        "status": result.status,
        "outcome": str(result.outcome),
        "attempt": result.attempt,
        "function": result.function,
    }
    if edited_event is not None:
        after_state["event"] = edited_event
    audit.record(
        request.user,
        AuditRecord.Action.FAILURE_REDRIVE,
        f"failure {result.record_id}",
        before=before_state,
        after=after_state,
        outcome=f"{result.outcome}: {result.detail}",
    )


def _report(request: HttpRequest, outcomes: list[tuple[str, Any]]) -> None:
    for record_id, outcome in outcomes:
        if isinstance(outcome, str):
            messages.warning(request, f"Record {record_id} {outcome}")
        elif outcome.ok:
            messages.success(
                request,
                f"Record {record_id} was redriven to {outcome.function}: "
                f"{outcome.outcome} (attempt {outcome.attempt}).",
            )
        else:
            messages.error(
                request,
                f"Record {record_id} failed again at {outcome.function}: "
                f"{outcome.detail}",
            )


def redrive(model_admin: Any, request: HttpRequest) -> HttpResponse:
    """Redrive selected records: a confirmation page first, then the work."""
    pages.require(request, pages.REDRIVE_FAILURES)
    if request.method != "POST":
        return HttpResponseRedirect(_url("changelist"))
    ids = _selected(request)
    if not ids:
        messages.warning(request, "Select at least one record to redrive.")
        return HttpResponseRedirect(_back(request))

    if request.POST.get("confirm") == "yes":
        outcomes = [(record_id, _redrive_one(request, record_id)) for record_id in ids]
        _report(request, outcomes)
        return HttpResponseRedirect(_back(request))

    store = resources.failure_store()
    plan = [_plan(record_id, store.get(record_id)) for record_id in ids]
    return pages.render(
        request,
        model_admin,
        "console/failures/confirm_redrive.html",
        {
            "title": "Redrive these records?",
            "plan": plan,
            "ready": sum(1 for row in plan if row["ok"]),
            "back": _back(request),
        },
    )


def edit(model_admin: Any, request: HttpRequest, record_id: str) -> HttpResponse:
    """Edit a record's event, review the change, then redrive it."""
    pages.require(request, pages.REDRIVE_FAILURES)
    store = resources.failure_store()
    record = _record(request, record_id)
    if record is None:
        return HttpResponseRedirect(_url("changelist"))
    original = store.load_event(record) or {}
    original_text = json.dumps(original, indent=2, ensure_ascii=False)
    text = request.POST.get("event", original_text)
    context: dict[str, Any] = {
        "title": f"Edit and redrive {record_id}",
        "record": record,
        "text": text,
        "plan": _plan(record_id, record),
        "detail_url": _url("detail", record_id),
    }
    if request.method != "POST" or request.POST.get("action") == "edit":
        return pages.render(request, model_admin, "console/failures/edit.html", context)

    try:
        edited = json_input.loads(text)
    except json.JSONDecodeError as exc:
        edited = None
        messages.error(
            request,
            f"The event is not valid JSON (line {exc.lineno}, column {exc.colno}: "
            f"{exc.msg}); nothing was sent.",
        )
    except json_input.JsonInputError as exc:
        edited = None
        messages.error(request, f"The event cannot be used: {exc}; nothing was sent.")
    if edited is not None and not isinstance(edited, dict):
        edited = None
        messages.error(request, "The event must be a JSON object; nothing was sent.")
    if edited is None:
        return pages.render(request, model_admin, "console/failures/edit.html", context)

    if request.POST.get("action") == "confirm":
        outcome = _redrive_one(request, record_id, edited_event=edited)
        _report(request, [(record_id, outcome)])
        return HttpResponseRedirect(_url("detail", record_id))

    edited_text = json.dumps(edited, indent=2, ensure_ascii=False)
    context.update(
        text=edited_text,
        diff=diffs.diff(original_text, edited_text, "stored event", "edited event"),
    )
    return pages.render(
        request, model_admin, "console/failures/confirm_edit.html", context
    )


def discard(model_admin: Any, request: HttpRequest) -> HttpResponse:
    """Discard selected records with a reason, after a confirmation page."""
    pages.require(request, pages.DISCARD_FAILURES)
    if request.method != "POST":
        return HttpResponseRedirect(_url("changelist"))
    ids = _selected(request)
    if not ids:
        messages.warning(request, "Select at least one record to discard.")
        return HttpResponseRedirect(_back(request))
    reason = request.POST.get("reason", "").strip()
    store = resources.failure_store()

    if request.POST.get("confirm") == "yes":
        if not reason:
            messages.error(request, "Say why the records are discarded.")
        else:
            for record_id in ids:
                try:
                    before = store.get(record_id)
                    after = store.discard(
                        record_id, request.user.get_username(), reason
                    )
                except (RecordNotFound, StorageError) as exc:
                    messages.warning(
                        request, f"Record {record_id} not discarded: {exc}"
                    )
                    continue
                audit.record(
                    request.user,
                    AuditRecord.Action.FAILURE_DISCARD,
                    f"failure {record_id}",
                    before={"status": before.get("status") if before else None},
                    after={"status": after.get("status"), "reason": reason},
                    outcome=reason,
                )
                messages.success(request, f"Record {record_id} was discarded.")
            return HttpResponseRedirect(_back(request))

    records = [(record_id, store.get(record_id)) for record_id in ids]
    return pages.render(
        request,
        model_admin,
        "console/failures/confirm_discard.html",
        {
            "title": "Discard these records?",
            "records": [
                {
                    "record_id": record_id,
                    "status": (record or {}).get("status", "missing"),
                    "target_name": (record or {}).get("target_name", ""),
                    "error_type": (record or {}).get("error_type", ""),
                }
                for record_id, record in records
            ],
            "reason": reason,
            "back": _back(request),
        },
    )


def bulk(model_admin: Any, request: HttpRequest) -> HttpResponse:
    """Redrive everything matching a filter: confirm, then start a job."""
    pages.require(request, pages.REDRIVE_FAILURES)
    source = request.POST if request.method == "POST" else request.GET
    chosen = _filters(source)
    query = _query(chosen)
    if query["status"] not in redriving.REDRIVABLE:
        messages.error(
            request,
            "Only parked or redriven records can be redriven; filter on one of "
            "those statuses first.",
        )
        return HttpResponseRedirect(_url("changelist", **chosen))

    if request.method == "POST" and request.POST.get("confirm") == "yes":
        job = BulkRedrive.objects.create(
            actor=request.user,
            filter={k: v for k, v in query.items() if v is not None},
            status=BulkRedrive.Status.RUNNING,
        )
        return HttpResponseRedirect(_url("progress", job.pk))

    store = resources.failure_store()
    preview = store.query(**query, limit=20)
    return pages.render(
        request,
        model_admin,
        "console/failures/confirm_bulk.html",
        {
            "title": "Redrive every record matching this filter?",
            "chosen": chosen,
            "preview": [_plan(r["record_id"], r) for r in preview.items],
            "more": bool(preview.next_cursor),
            "rate": settings.CONSOLE_REDRIVE_RATE,
            "chunk": settings.CONSOLE_REDRIVE_CHUNK,
        },
    )


def progress(model_admin: Any, request: HttpRequest, job_id: int) -> HttpResponse:
    """A bulk job's progress; each POST redrives the next chunk."""
    pages.require(request, pages.REDRIVE_FAILURES)
    job = get_object_or_404(BulkRedrive, pk=job_id)

    if request.method == "POST" and request.POST.get("action") == "resume":
        if job.status == BulkRedrive.Status.FAILED:
            job.status = BulkRedrive.Status.RUNNING
            job.last_error = ""
            job.save(update_fields=["status", "last_error", "updated_at"])
            messages.info(request, "The bulk redrive resumes from where it stopped.")
        return HttpResponseRedirect(_url("progress", job.pk))
    if request.method == "POST" and job.status == BulkRedrive.Status.RUNNING:
        now = timezone.now()
        claimed = (
            BulkRedrive.objects.filter(pk=job.pk, status=BulkRedrive.Status.RUNNING)
            .filter(Q(stepping_until__isnull=True) | Q(stepping_until__lt=now))
            .update(stepping_until=now + STEP_LEASE)
        )
        if not claimed:
            messages.info(
                request,
                "Another page is advancing this bulk redrive; this one waits.",
            )
            return HttpResponseRedirect(_url("progress", job.pk))
        try:
            _step(request, job)
        finally:
            BulkRedrive.objects.filter(pk=job.pk).update(stepping_until=None)
        return HttpResponseRedirect(_url("progress", job.pk))

    return pages.render(
        request,
        model_admin,
        "console/failures/progress.html",
        {
            "title": f"Bulk redrive #{job.pk}",
            "job": job,
            "running": job.status == BulkRedrive.Status.RUNNING,
            "list_url": _url("changelist", **job.filter),
        },
    )


def _step(request: HttpRequest, job: BulkRedrive) -> None:
    """Redrive one chunk from the job's cursor, saving after every record.

    The cursor, the counts and the audit record are written as each record
    is done, so a step cut short (the process killed, AWS failing halfway)
    resumes just after the last record it finished, redriving none twice.
    """
    store = resources.failure_store()
    base = (job.redriven, job.failed, job.skipped)
    entries: dict[str, AuditRecord] = {}

    def saved(state: redriving.BulkProgress) -> None:
        job.redriven = base[0] + state.delivered
        job.failed = base[1] + state.failed
        job.skipped = base[2] + state.skipped
        job.cursor = state.cursor or ""
        job.save(
            update_fields=["redriven", "failed", "skipped", "cursor", "updated_at"]
        )
        if state.last_record_id and state.last_outcome != "skipped":
            entries[state.last_record_id] = audit.record(
                request.user,
                AuditRecord.Action.FAILURE_REDRIVE,
                f"failure {state.last_record_id}",
                after={"outcome": state.last_outcome, "bulk_redrive": job.pk},
                outcome=f"{state.last_outcome} (bulk redrive #{job.pk})",
            )

    try:
        result = redriving.bulk_redrive(
            job.filter,
            store=store,
            lambda_client=resources.lambda_client(),
            registry=resources.registry(),
            actor=request.user.get_username(),
            rate_per_second=settings.CONSOLE_REDRIVE_RATE,
            resume_from=job.cursor or None,
            progress=saved,
            max_records=settings.CONSOLE_REDRIVE_CHUNK,
        )
    except DlqError as exc:
        job.status = BulkRedrive.Status.FAILED
        job.last_error = str(exc)
        job.save(update_fields=["status", "last_error", "updated_at"])
        messages.error(
            request,
            f"The bulk redrive stopped: {exc}. Resume it when the cause is fixed; "
            "it carries on after the last record it finished.",
        )
        return

    for each in result.results:
        entry = entries.get(each.record_id)
        if entry is not None:
            # The record written as it happened gains the invoke's details.
            entry.after = {
                "status": each.status,
                "outcome": str(each.outcome),
                "attempt": each.attempt,
                "function": each.function,
                "bulk_redrive": job.pk,
            }
            entry.outcome = f"{each.outcome}: {each.detail}"[:500]
            entry.save(update_fields=["after", "outcome"])
    job.redriven = base[0] + result.delivered
    job.failed = base[1] + result.failed
    job.skipped = base[2] + result.skipped
    job.cursor = result.cursor or ""
    if result.done:
        job.status = BulkRedrive.Status.DONE
        messages.success(
            request,
            f"Bulk redrive finished: {job.redriven} delivered, {job.failed} failed "
            f"again, {job.skipped} skipped.",
        )
    job.save(
        update_fields=[
            "redriven",
            "failed",
            "skipped",
            "cursor",
            "status",
            "updated_at",
        ]
    )


ROUTES = [
    ("", changelist, "changelist"),
    ("action/", action, "action"),
    ("redrive/", redrive, "redrive"),
    ("discard/", discard, "discard"),
    ("bulk/", bulk, "bulk"),
    ("bulk/<int:job_id>/", progress, "progress"),
    ("<str:record_id>/", detail, "detail"),
    ("<str:record_id>/edit/", edit, "edit"),
]

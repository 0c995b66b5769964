"""Rules pages: the live document, editing, saving, history, dry-run.

An edit goes editor -> check -> diff -> save. Nothing is written until the
operator has seen every problem (placed by rule and field) and the diff
against the live version. Saving is conditional on the ETag the operator
started from; on a conflict the operator's text stays on the page, now
compared with the version someone else saved.
"""

import copy
import json
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from switchyard_console.ops import audit, diffs, pages, resources, rules_doc, stream
from switchyard_console.ops.models import AuditRecord
from switchyard_console.ops.rules_store import (
    RulesConflictError,
    RulesVersion,
    VersionNotFoundError,
)

EMPTY_DOCUMENT = '{\n  "rules": []\n}\n'
RULE_FIELDS = ("name", "enabled", "description", "pattern", "targets")


def _url(name: str, *args: Any) -> str:
    return reverse(f"admin:console_routingrules_{name}", args=args)


def _document(version: RulesVersion | None) -> dict[str, Any]:
    if version is None:
        return {"rules": []}
    value, problem = rules_doc.parse(version.text)
    return value if problem is None and isinstance(value, dict) else {"rules": []}


def _connectors() -> list[str]:
    return resources.registry().names()


def changelist(model_admin: Any, request: HttpRequest) -> HttpResponse:
    """The live document, its version and its rules."""
    pages.require(request, pages.VIEW_RULES)
    store = resources.rules_store()
    live = store.live()
    text = rules_doc.pretty(live.text) if live else ""
    checked = rules_doc.check(text, _connectors()) if live else None
    rules = []
    document = checked.document if checked and checked.document else _document(live)
    for index, rule in enumerate(document.get("rules") or []):
        if not isinstance(rule, dict):
            continue
        # The live document may be anything someone wrote to S3: only what
        # has the expected shape is listed; its problems say the rest.
        targets = rule.get("targets")
        rules.append(
            {
                "index": index,
                "name": rule.get("name", ""),
                "enabled": rule.get("enabled", True),
                "targets": [t for t in targets if isinstance(t, dict)]
                if isinstance(targets, list)
                else [],
                "problems": checked.for_rule(index) if checked else [],
            }
        )
    return pages.render(
        request,
        model_admin,
        "console/rules/live.html",
        {
            "title": "Routing rules",
            "live": live,
            "text": text,
            "checked": checked,
            "rules": rules,
            "resource": store.resource,
        },
    )


def _editor(
    model_admin: Any,
    request: HttpRequest,
    *,
    text: str,
    base_etag: str,
    checked: rules_doc.Checked | None = None,
    live: RulesVersion | None = None,
    conflict: bool = False,
) -> HttpResponse:
    diff = []
    if conflict and live is not None:
        diff = diffs.diff(
            rules_doc.pretty(live.text), text, "live (saved by someone else)", "yours"
        )
    return pages.render(
        request,
        model_admin,
        "console/rules/edit.html",
        {
            "title": "Edit the routing rules",
            "text": text,
            "base_etag": base_etag,
            "checked": checked,
            "conflict": conflict,
            "diff": diff,
        },
    )


def _confirm(
    model_admin: Any,
    request: HttpRequest,
    *,
    text: str,
    base_etag: str,
    live: RulesVersion | None,
    title: str = "Review and save the routing rules",
) -> HttpResponse:
    before = rules_doc.pretty(live.text) if live else ""
    diff = diffs.diff(before, text, "live", "your edit")
    return pages.render(
        request,
        model_admin,
        "console/rules/confirm.html",
        {
            "title": title,
            "text": text,
            "base_etag": base_etag,
            "diff": diff,
            "unchanged": not diff,
            "live": live,
        },
    )


def edit(model_admin: Any, request: HttpRequest) -> HttpResponse:
    """The whole document in the JSON editor: check, review, save."""
    pages.require(request, pages.CHANGE_RULES)
    store = resources.rules_store()
    if request.method != "POST":
        live = store.live()
        text = rules_doc.pretty(live.text) if live else EMPTY_DOCUMENT
        return _editor(
            model_admin, request, text=text, base_etag=live.etag if live else ""
        )

    text = request.POST.get("document", "")
    base_etag = request.POST.get("base_etag", "")
    action = request.POST.get("action", "check")
    if action == "edit":
        return _editor(model_admin, request, text=text, base_etag=base_etag)

    checked = rules_doc.check(text, _connectors())
    if not checked.ok:
        messages.error(
            request,
            f"The document has {checked.count} problem(s); nothing was saved. "
            "Each is listed under its rule and field, and marked in the editor.",
        )
        # The document is shown laid out as the console stores it, so each
        # problem's line is known and can be marked.
        return _editor(
            model_admin,
            request,
            text=checked.text or text,
            base_etag=base_etag,
            checked=checked,
        )

    # Saving goes through the review page (the save view), so the diff
    # against the live version is always shown first.
    text = rules_doc.normalise(checked.document)
    return _confirm(
        model_admin, request, text=text, base_etag=base_etag, live=store.live()
    )


def _save(
    model_admin: Any,
    request: HttpRequest,
    *,
    text: str,
    base_etag: str,
    note: str = "",
    action: str = AuditRecord.Action.RULES_SAVE,
) -> HttpResponse:
    """Write the checked text if the live version is still the operator's base."""
    store = resources.rules_store()
    live = store.live()
    try:
        if (live.etag if live else "") != base_etag:
            raise RulesConflictError(live)
        saved = store.save(
            text,
            expected_etag=base_etag or None,
            actor=request.user.get_username(),
            note=note,
        )
    except RulesConflictError as exc:
        messages.error(request, str(exc))
        return _editor(
            model_admin,
            request,
            text=text,
            base_etag=exc.live.etag if exc.live else "",
            live=exc.live,
            conflict=True,
        )

    audit.record(
        request.user,
        action,
        f"{store.resource} version {saved.version_id}",
        before=_as_stored(live.text) if live else None,
        after=_as_stored(text),
        outcome=note or "saved",
    )
    messages.success(
        request, f"The routing rules were saved as version {saved.version_id}."
    )
    return HttpResponseRedirect(_url("changelist"))


def _as_stored(text: str) -> Any:
    """A version for the audit trail: its JSON, or its text when it is not JSON."""
    value, problem = rules_doc.parse(text)
    return text if problem is not None else value


def _no_version(request: HttpRequest, exc: VersionNotFoundError) -> HttpResponse:
    messages.warning(request, str(exc))
    return HttpResponseRedirect(_url("history"))


def _rule_text(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def rule(model_admin: Any, request: HttpRequest, index: int) -> HttpResponse:
    """One rule as a form; problems are shown on the rule's own fields."""
    pages.require(request, pages.CHANGE_RULES)
    store = resources.rules_store()
    live = store.live()
    if live is not None and not isinstance(rules_doc.parse(live.text)[0], dict):
        # Editing one rule of a document that does not parse would write a
        # document holding that rule alone.
        messages.error(
            request,
            "The live document is not a JSON object, so it cannot be edited "
            "rule by rule; fix it in the JSON editor.",
        )
        return HttpResponseRedirect(_url("edit"))
    document = _document(live)
    rules = document.setdefault("rules", [])
    if not isinstance(rules, list) or index > len(rules):
        messages.error(request, f"There is no rule #{index + 1} to edit.")
        return HttpResponseRedirect(_url("changelist"))
    is_new = index == len(rules)
    current = {} if is_new else rules[index]
    if not isinstance(current, dict):
        current = {}

    errors: dict[str, list[str]] = {}
    other: list[rules_doc.Problem] = []
    values = {
        "name": current.get("name", ""),
        "enabled": current.get("enabled", True),
        "description": current.get("description", ""),
        "pattern": _rule_text(current.get("pattern", {})),
        "targets": _rule_text(current.get("targets", [])),
    }
    base_etag = live.etag if live else ""

    if request.method == "POST":
        base_etag = request.POST.get("base_etag", "")
        values = {
            "name": request.POST.get("name", "").strip(),
            "enabled": request.POST.get("enabled") == "on",
            "description": request.POST.get("description", "").strip(),
            "pattern": request.POST.get("pattern", ""),
            "targets": request.POST.get("targets", ""),
        }
        edited: dict[str, Any] = {"name": values["name"], "enabled": values["enabled"]}
        if values["description"]:
            edited["description"] = values["description"]
        for name in ("pattern", "targets"):
            parsed, problem = rules_doc.parse(values[name] or "null")
            if problem is not None:
                errors.setdefault(name, []).append(problem.message)
            else:
                edited[name] = parsed

        if not errors:
            proposed = copy.deepcopy(document)
            if is_new:
                proposed["rules"].append(edited)
            else:
                proposed["rules"][index] = edited
            checked = rules_doc.check_document(proposed, _connectors())
            for problem in checked.for_rule(index):
                head = problem.field.split(".")[0].split("[")[0]
                key = head if head in RULE_FIELDS else "rule"
                where = problem.field or "rule"
                errors.setdefault(key, []).append(f"{where}: {problem.message}")
            other = checked.document_problems + [
                p
                for group in checked.rule_problems
                if group.index != index
                for p in group.problems
            ]
            if checked.ok:
                return _confirm(
                    model_admin,
                    request,
                    text=rules_doc.normalise(proposed),
                    base_etag=base_etag,
                    live=live,
                    title=f"Review the change to rule {values['name']!r}",
                )
        messages.error(
            request, "The rule has problems; nothing was saved. See each field."
        )

    return pages.render(
        request,
        model_admin,
        "console/rules/rule.html",
        {
            "title": "Add a rule" if is_new else f"Edit rule {values['name']!r}",
            "index": index,
            "values": values,
            "errors": errors,
            "other_problems": other,
            "base_etag": base_etag,
        },
    )


def save(model_admin: Any, request: HttpRequest) -> HttpResponse:
    """The confirm page's Save: re-check on the server, then write."""
    pages.require(request, pages.CHANGE_RULES)
    if request.method != "POST":
        return HttpResponseRedirect(_url("edit"))
    text = request.POST.get("document", "")
    base_etag = request.POST.get("base_etag", "")
    if request.POST.get("action") == "edit":
        return _editor(model_admin, request, text=text, base_etag=base_etag)
    checked = rules_doc.check(text, _connectors())
    if not checked.ok:
        messages.error(request, "The document has problems; nothing was saved.")
        return _editor(
            model_admin,
            request,
            text=checked.text or text,
            base_etag=base_etag,
            checked=checked,
        )
    return _save(
        model_admin,
        request,
        text=rules_doc.normalise(checked.document),
        base_etag=base_etag,
    )


def history(model_admin: Any, request: HttpRequest) -> HttpResponse:
    """Every stored version with who saved it; pick two to compare."""
    pages.require(request, pages.VIEW_RULES)
    versions = resources.rules_store().history()
    return pages.render(
        request,
        model_admin,
        "console/rules/history.html",
        {"title": "Routing rules history", "versions": versions},
    )


def version(model_admin: Any, request: HttpRequest, version_id: str) -> HttpResponse:
    pages.require(request, pages.VIEW_RULES)
    try:
        found = resources.rules_store().version(version_id)
    except VersionNotFoundError as exc:
        return _no_version(request, exc)
    return pages.render(
        request,
        model_admin,
        "console/rules/version.html",
        {
            "title": f"Routing rules version {version_id}",
            "version": found,
            "text": rules_doc.pretty(found.text),
        },
    )


def compare(model_admin: Any, request: HttpRequest) -> HttpResponse:
    """The diff between any two versions (``a`` older, ``b`` newer)."""
    pages.require(request, pages.VIEW_RULES)
    first, second = request.GET.get("a", ""), request.GET.get("b", "")
    if not first or not second:
        messages.warning(request, "Pick two versions to compare.")
        return HttpResponseRedirect(_url("history"))
    store = resources.rules_store()
    try:
        a, b = store.version(first), store.version(second)
    except VersionNotFoundError as exc:
        return _no_version(request, exc)
    diff = diffs.diff(rules_doc.pretty(a.text), rules_doc.pretty(b.text), first, second)
    return pages.render(
        request,
        model_admin,
        "console/rules/compare.html",
        {"title": "Compare versions", "a": a, "b": b, "diff": diff},
    )


def rollback(model_admin: Any, request: HttpRequest, version_id: str) -> HttpResponse:
    """Make an old version live again, as a new version; confirm first."""
    pages.require(request, pages.CHANGE_RULES)
    store = resources.rules_store()
    try:
        old = store.version(version_id)
    except VersionNotFoundError as exc:
        return _no_version(request, exc)
    text = rules_doc.pretty(old.text)
    checked = rules_doc.check(text, _connectors())
    if not checked.ok:
        messages.error(
            request,
            f"Version {version_id} is not valid today ({checked.count} problem(s)); "
            "open it in the editor to fix it instead of rolling back.",
        )
        return HttpResponseRedirect(_url("history"))

    if request.method == "POST":
        return _save(
            model_admin,
            request,
            text=text,
            base_etag=request.POST.get("base_etag", ""),
            note=f"rollback to {version_id}",
            action=AuditRecord.Action.RULES_ROLLBACK,
        )

    live = store.live()
    return pages.render(
        request,
        model_admin,
        "console/rules/rollback.html",
        {
            "title": f"Roll back to version {version_id}",
            "old": old,
            "live": live,
            "base_etag": live.etag if live else "",
            "diff": diffs.diff(
                rules_doc.pretty(live.text) if live else "", text, "live", version_id
            ),
        },
    )


def dry_run(model_admin: Any, request: HttpRequest) -> HttpResponse:
    """Which rules match pasted (or the stream's newest) events, and where to."""
    pages.require(request, pages.VIEW_RULES)
    events_text = request.POST.get("events", "")
    rules_text = request.POST.get("rules", "")
    position = request.POST.get("position", "TRIM_HORIZON")
    load = request.POST.get("action") == "load"
    if position not in stream.POSITIONS:
        messages.error(
            request,
            f"The stream position must be one of {', '.join(stream.POSITIONS)}; "
            "nothing was read.",
        )
        position, load = "TRIM_HORIZON", False
    results: list[rules_doc.DryRunResult] = []
    problems: list[rules_doc.Problem] = []
    read: stream.StreamRead | None = None

    if request.method == "POST":
        if load:
            try:
                count = max(1, min(int(request.POST.get("count") or 10), 100))
            except ValueError:
                count = 10
            read = stream.latest_events(
                settings.EVENTS_STREAM_NAME, limit=count, position=position
            )
            events_text = "\n".join(
                json.dumps(e.event, ensure_ascii=False)
                for e in read.events
                if e.event is not None
            )
            if not read.events:
                messages.info(request, "The stream returned no events.")

        if rules_text.strip():
            checked = rules_doc.check(rules_text, _connectors())
        else:
            live = resources.rules_store().live()
            checked = rules_doc.check(live.text if live else EMPTY_DOCUMENT)
        events, problem = rules_doc.events_from_text(events_text)
        if problem is not None:
            problems.append(problem)
        if not checked.ok:
            problems += checked.document_problems
            problems += [p for g in checked.rule_problems for p in g.problems]
        if not problems and events:
            results = rules_doc.dry_run(checked.document, events, resources.registry())

    return pages.render(
        request,
        model_admin,
        "console/rules/dry_run.html",
        {
            "title": "Dry-run the routing rules",
            "events_text": events_text,
            "rules_text": rules_text,
            "position": position,
            "positions": stream.POSITIONS,
            "results": results,
            "problems": problems,
            "read": read,
        },
    )


ROUTES = [
    ("", changelist, "changelist"),
    ("edit/", edit, "edit"),
    ("save/", save, "save"),
    ("rule/<int:index>/", rule, "rule"),
    ("history/", history, "history"),
    ("history/compare/", compare, "compare"),
    ("history/<str:version_id>/", version, "version"),
    ("history/<str:version_id>/rollback/", rollback, "rollback"),
    ("dry-run/", dry_run, "dryrun"),
]

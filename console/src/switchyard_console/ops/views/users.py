"""User profile pages: browse by page, find, view, edit and delete.

Edits and deletes go through a confirmation page. The confirmation carries a
digest of the profile as the operator saw it; if the profile changed in the
meantime the change is refused rather than overwriting someone else's.
"""

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from switchyard_console.ops import audit, diffs, pages, resources, users_store
from switchyard_console.ops.errors import ConflictError, InvalidInputError
from switchyard_console.ops.models import AuditRecord
from switchyard_contracts.canonical import digest

PAGE_SIZE = 25
TRAIL = 50
SUMMARY_FIELDS = ("email", "display_name", "name", "updated_at")


def _url(name: str, **query: str) -> str:
    url = reverse(f"admin:console_userprofile_{name}")
    return f"{url}?{urlencode(query)}" if query else url


def _row(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "user_id": item.get("user_id", ""),
        "email": item.get("email", ""),
        "name": item.get("display_name") or item.get("name") or "",
        "other": sorted(k for k in item if k not in {"user_id", *SUMMARY_FIELDS}),
        "url": _url("detail", id=str(item.get("user_id", ""))),
    }


def changelist(model_admin: Any, request: HttpRequest) -> HttpResponse:
    """One page of profiles, or the profiles found by id or e-mail."""
    pages.require(request, pages.VIEW_USERS)
    store = resources.users_store()
    query = request.GET.get("q", "").strip()
    cursor = request.GET.get("cursor") or None
    # The cursors of the pages before this one ("-" is the first page), so
    # "previous" needs no backward scan: DynamoDB has none.
    trail = [c for c in request.GET.get("trail", "").split(",") if c][-TRAIL:]
    next_url = previous_url = ""

    if query:
        found = store.find_by_email(query) if "@" in query else []
        by_id = store.get(query)
        if by_id is not None:
            found = [by_id, *[f for f in found if f.get("user_id") != query]]
        items = found
        if not items:
            messages.info(request, f"No user has the id or e-mail {query!r}.")
    else:
        try:
            page = store.page(cursor, limit=PAGE_SIZE)
        except InvalidInputError as exc:
            messages.warning(request, str(exc))
            return HttpResponseRedirect(_url("changelist"))
        items = page.items
        if page.next_cursor:
            next_url = _url(
                "changelist",
                cursor=page.next_cursor,
                trail=",".join([*trail, cursor or "-"]),
            )
        if trail:
            before = trail[-1]
            previous_url = _url(
                "changelist",
                cursor="" if before == "-" else before,
                trail=",".join(trail[:-1]),
            )

    return pages.render(
        request,
        model_admin,
        "console/users/list.html",
        {
            "title": "User profiles",
            "rows": [_row(i) for i in items],
            "query": query,
            "next_url": next_url,
            "previous_url": previous_url,
            "first_url": _url("changelist") if cursor else "",
            "table": store.table,
        },
    )


def _profile(request: HttpRequest) -> tuple[str, dict[str, Any] | None]:
    user_id = (request.GET.get("id") or request.POST.get("id") or "").strip()
    if not user_id:
        return "", None
    return user_id, resources.users_store().get(user_id)


def _missing(request: HttpRequest, user_id: str) -> HttpResponse:
    messages.warning(request, f"There is no user {user_id!r}.")
    return HttpResponseRedirect(_url("changelist"))


def detail(model_admin: Any, request: HttpRequest) -> HttpResponse:
    pages.require(request, pages.VIEW_USERS)
    user_id, item = _profile(request)
    if item is None:
        return _missing(request, user_id)
    return pages.render(
        request,
        model_admin,
        "console/users/detail.html",
        {
            "title": f"User {user_id}",
            "user_id": user_id,
            "attributes": sorted(item.items()),
            "edit_url": _url("edit", id=user_id),
            "delete_url": _url("delete", id=user_id),
            "can_change": pages.allowed(request, pages.CHANGE_USERS),
        },
    )


def _editable(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k != users_store.KEY}


def edit(model_admin: Any, request: HttpRequest) -> HttpResponse:
    """Edit attributes as JSON; review the diff; confirm; write."""
    pages.require(request, pages.CHANGE_USERS)
    user_id, item = _profile(request)
    if item is None:
        return _missing(request, user_id)
    before_text = users_store.to_json(_editable(item))
    text = request.POST.get("attributes", before_text)
    # What the operator saw when the form was opened; a form posted without
    # it is reviewed again, never written.
    posted_seen = request.POST.get("seen", "")
    seen = posted_seen or digest(before_text)
    context = {
        "title": f"Edit user {user_id}",
        "user_id": user_id,
        "text": text,
        "seen": seen,
        "detail_url": _url("detail", id=user_id),
    }

    if request.method == "POST" and request.POST.get("action") == "edit":
        return pages.render(request, model_admin, "console/users/edit.html", context)

    if request.method == "POST":
        try:
            attributes = users_store.from_json(text)
        except InvalidInputError as exc:
            messages.error(request, str(exc))
            return pages.render(
                request, model_admin, "console/users/edit.html", context
            )
        after_text = users_store.to_json(attributes)
        if seen != digest(before_text):
            messages.error(
                request,
                "The profile changed since you opened it; nothing was written. "
                "Its current attributes are shown below.",
            )
            context.update(text=before_text, seen=digest(before_text))
            return pages.render(
                request, model_admin, "console/users/edit.html", context
            )

        if request.POST.get("action") == "confirm" and posted_seen:
            try:
                written = resources.users_store().replace(
                    user_id, attributes, expected=item
                )
            except ConflictError as exc:
                messages.error(request, str(exc))
                return HttpResponseRedirect(_url("changelist"))
            audit.record(
                request.user,
                AuditRecord.Action.USER_EDIT,
                f"user {user_id}",
                before=item,
                after=written,
                outcome="attributes replaced",
            )
            messages.success(request, f"User {user_id} was saved.")
            return HttpResponseRedirect(_url("detail", id=user_id))

        context.update(
            text=after_text,
            diff=diffs.diff(before_text, after_text, "current", "edited"),
        )
        return pages.render(
            request, model_admin, "console/users/confirm_edit.html", context
        )

    return pages.render(request, model_admin, "console/users/edit.html", context)


def delete(model_admin: Any, request: HttpRequest) -> HttpResponse:
    """Delete a profile after a confirmation page that shows it."""
    pages.require(request, pages.CHANGE_USERS)
    user_id, item = _profile(request)
    if item is None:
        return _missing(request, user_id)
    current = digest(users_store.to_json(item))
    posted_seen = request.POST.get("seen", "")
    confirmed = request.method == "POST" and request.POST.get("action") == "confirm"
    if confirmed and posted_seen and posted_seen != current:
        messages.error(
            request,
            "The profile changed since the confirmation page was shown; nothing "
            "was deleted. Its current attributes are shown below.",
        )
    elif confirmed and posted_seen:
        try:
            resources.users_store().delete(user_id, expected=item)
        except ConflictError as exc:
            messages.error(request, str(exc))
            return HttpResponseRedirect(_url("changelist"))
        audit.record(
            request.user,
            AuditRecord.Action.USER_DELETE,
            f"user {user_id}",
            before=item,
            after=None,
            outcome="deleted",
        )
        messages.success(request, f"User {user_id} was deleted.")
        return HttpResponseRedirect(_url("changelist"))

    return pages.render(
        request,
        model_admin,
        "console/users/confirm_delete.html",
        {
            "title": f"Delete user {user_id}?",
            "user_id": user_id,
            "seen": current,
            "attributes": sorted(item.items()),
            "detail_url": _url("detail", id=user_id),
        },
    )


ROUTES = [
    ("", changelist, "changelist"),
    ("user/", detail, "detail"),
    ("edit/", edit, "edit"),
    ("delete/", delete, "delete"),
]

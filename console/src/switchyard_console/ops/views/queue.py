"""The second-level queue: its raw messages, and moving them back.

Messages land here when the dead-letter processor could not store them.
They are shown raw; moving one back sends it to the dead-letter queue, where
the processor tries again (after the cause is fixed).
"""

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from switchyard_console.ops import audit, pages, queues, resources
from switchyard_console.ops.models import AuditRecord


def _list_url() -> str:
    return reverse("admin:console_unprocessablemessage_changelist")


def changelist(model_admin: Any, request: HttpRequest) -> HttpResponse:
    pages.require(request, pages.VIEW_FAILURES)
    sqs = resources.sqs_client()
    url = settings.UNPROCESSABLE_QUEUE_URL
    found = queues.peek(url, client=sqs)
    return pages.render(
        request,
        model_admin,
        "console/queue/list.html",
        {
            "title": "Unprocessable messages",
            "messages_found": found,
            "depth": queues.depth(url, client=sqs),
            "queue_url": url,
            "destination": settings.DEAD_LETTER_QUEUE_URL,
        },
    )


def move(model_admin: Any, request: HttpRequest) -> HttpResponse:
    """Move selected messages back to the dead-letter queue, after confirming."""
    pages.require(request, pages.REDRIVE_FAILURES)
    if request.method != "POST":
        return HttpResponseRedirect(_list_url())
    ids = list(dict.fromkeys(i for i in request.POST.getlist("ids") if i))
    if not ids:
        messages.warning(request, "Select at least one message to move.")
        return HttpResponseRedirect(_list_url())
    source = settings.UNPROCESSABLE_QUEUE_URL
    destination = settings.DEAD_LETTER_QUEUE_URL
    sqs = resources.sqs_client()
    shown = {m.message_id: m for m in queues.peek(source, client=sqs)}

    if request.POST.get("confirm") != "yes":
        return pages.render(
            request,
            model_admin,
            "console/queue/confirm_move.html",
            {
                "title": "Move these messages back?",
                "ids": ids,
                "shown": [shown.get(i) for i in ids],
                "source": source,
                "destination": destination,
            },
        )

    result = queues.move(source, destination, set(ids), client=sqs)
    for message_id in result.moved:
        body = shown[message_id].body if message_id in shown else None
        audit.record(
            request.user,
            AuditRecord.Action.MESSAGE_MOVE,
            f"message {message_id}",
            before={"queue": source, "body": body},
            after={"queue": destination},
            outcome="moved back to the dead-letter queue",
        )
    if result.moved:
        messages.success(
            request,
            f"{len(result.moved)} message(s) were moved back to the dead-letter queue.",
        )
    if result.error:
        messages.error(
            request,
            f"Moving stopped before every message was moved: {result.error}",
        )
    for message_id in result.not_found:
        messages.warning(
            request,
            f"Message {message_id} was not found (already moved, or in flight "
            "elsewhere); nothing was done with it.",
        )
    return HttpResponseRedirect(_list_url())


ROUTES = [
    ("", changelist, "changelist"),
    ("move/", move, "move"),
]

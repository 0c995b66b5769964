"""The overview on the admin index: rules version, failures, queue depths.

Each panel is read on its own; a panel that cannot be read shows why, and
the rest of the page still renders.
"""

import logging
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from dlq_processor.errors import DlqError
from dlq_processor.items import STATUSES
from switchyard_console.ops import chart, pages, queues, resources, rules_doc
from switchyard_console.ops.errors import ConsoleError

logger = logging.getLogger(__name__)

HOURS = 24
HOURLY_READ_LIMIT = 2000


def _panel(read: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    try:
        return {"ok": True, **read()}
    except (ConsoleError, DlqError) as exc:
        logger.warning("dashboard panel failed: %s", exc)
        return {"ok": False, "error": str(exc)}


def _rules() -> dict[str, Any]:
    live = resources.rules_store().live()
    if live is None:
        return {"live": None}
    document, problem = rules_doc.parse(live.text)
    rules = document.get("rules", []) if isinstance(document, dict) else []
    return {
        "live": live,
        "count": len(rules) if isinstance(rules, list) else 0,
        "valid": problem is None,
    }


def _hour(stamp: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        return None
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _failures() -> dict[str, Any]:
    store = resources.failure_store()
    counts = store.counts(status="parked")
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = now - timedelta(hours=HOURS - 1)
    since = start.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    per_hour: Counter[datetime] = Counter()
    read = 0
    for status in STATUSES:
        cursor = None
        while read < HOURLY_READ_LIMIT:
            page = store.query(status=status, since=since, limit=500, cursor=cursor)
            for item in page.items:
                hour = _hour(str(item.get("last_failed_at", "")))
                if hour is not None:
                    per_hour[hour] += 1
            read += len(page.items)
            cursor = page.next_cursor
            if not cursor:
                break
    hours = [start + timedelta(hours=i) for i in range(HOURS)]
    return {
        "counts": counts,
        "by_target": chart.bars(list(counts["by_target"].items())),
        "per_hour": chart.columns([(h.strftime("%H"), per_hour[h]) for h in hours]),
        "hourly_truncated": read >= HOURLY_READ_LIMIT,
        "parked": counts["by_status"].get("parked", 0),
    }


def _queues() -> dict[str, Any]:
    sqs = resources.sqs_client()
    depths = []
    for label, url in (
        ("Dead-letter queue", settings.DEAD_LETTER_QUEUE_URL),
        ("Unprocessable queue", settings.UNPROCESSABLE_QUEUE_URL),
    ):
        if url:
            depths.append((label, queues.depth(url, client=sqs)))
    return {"depths": depths}


def overview(request: HttpRequest) -> dict[str, Any]:
    """The panels the signed-in user may see."""
    if not request.user.is_active or not request.user.is_staff:
        return {}
    panels: dict[str, Any] = {}
    if pages.allowed(request, pages.VIEW_RULES):
        panels["rules"] = _panel(_rules)
    if pages.allowed(request, pages.VIEW_FAILURES):
        panels["failures"] = _panel(_failures)
        panels["queues"] = _panel(_queues)
    return panels

"""Writing the audit trail: one record per change, before and after.

Each change is also noted in the admin's own log, so it shows under "Recent
actions" on the index like any admin change.
"""

import json
import logging
from typing import Any

from django.contrib.admin.models import CHANGE, DELETION, LogEntry
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType

from switchyard_console.ops.models import (
    AuditRecord,
    FailedEvent,
    RoutingRules,
    UnprocessableMessage,
    UserProfile,
)

logger = logging.getLogger(__name__)

AREAS = {
    "rules": RoutingRules,
    "user": UserProfile,
    "failure": FailedEvent,
    "message": UnprocessableMessage,
}


def _jsonable(value: Any) -> Any:
    """Round-trip through JSON so Decimals, sets and dates become storable."""
    if value is None:
        return None
    return json.loads(json.dumps(value, default=str))


def record(
    user: AbstractBaseUser,
    action: str,
    target: str,
    *,
    before: Any = None,
    after: Any = None,
    outcome: str = "",
) -> AuditRecord:
    """Store who did what to which target, with the state before and after."""
    entry = AuditRecord.objects.create(
        actor=user if user.is_authenticated else None,
        actor_name=user.get_username(),
        action=action,
        target=target[:500],
        outcome=outcome[:500],
        before=_jsonable(before),
        after=_jsonable(after),
    )
    if user.is_authenticated:
        area = AREAS[action.split(".", 1)[0]]
        LogEntry.objects.create(
            user_id=user.pk,
            content_type=ContentType.objects.get_for_model(
                area, for_concrete_model=False
            ),
            object_id=target[:200],
            object_repr=target[:200],
            action_flag=DELETION if action.endswith("delete") else CHANGE,
            change_message=entry.get_action_display(),
        )
    logger.info("audit: %s %s %s", entry.actor_name, action, target)
    return entry

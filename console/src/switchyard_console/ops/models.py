"""The console's models: the audit trail, and the areas that carry permissions.

The data the console operates on lives in AWS (S3, DynamoDB, SQS), not here.
Each area is an unmanaged model with no table: it gives the admin site an
entry in its navigation and carries the area's permissions, so Django's
permission system (users, groups, the admin's permission widgets) governs the
console. The only table the console owns is the audit trail.
"""

from django.conf import settings
from django.db import models


class Area(models.Model):
    """A base for the table-less models that stand for a console area."""

    class Meta:
        abstract = True
        managed = False
        default_permissions = ()


class RoutingRules(Area):
    class Meta(Area.Meta):
        verbose_name = "routing rules"
        verbose_name_plural = "routing rules"
        permissions = [
            ("view_rules", "Can view the routing rules, their history and dry-run"),
            ("change_rules", "Can save and roll back the routing rules"),
        ]


class UserProfile(Area):
    class Meta(Area.Meta):
        verbose_name = "user profile"
        verbose_name_plural = "user profiles"
        permissions = [
            ("view_users", "Can browse and view user profiles"),
            ("change_users", "Can edit and delete user profiles"),
        ]


class FailedEvent(Area):
    class Meta(Area.Meta):
        verbose_name = "failed event"
        verbose_name_plural = "failed events"
        permissions = [
            ("view_failures", "Can view failed events and the unprocessable queue"),
            ("redrive_failures", "Can redrive failed events and queue messages"),
            ("discard_failures", "Can discard failed events"),
        ]


class UnprocessableMessage(Area):
    """The second-level queue; governed by the failed-events permissions."""

    class Meta(Area.Meta):
        verbose_name = "unprocessable message"
        verbose_name_plural = "unprocessable messages"


class AuditRecord(models.Model):
    """One change made through the console: who, when, what, before, after."""

    class Action(models.TextChoices):
        RULES_SAVE = "rules.save", "rules saved"
        RULES_ROLLBACK = "rules.rollback", "rules rolled back"
        USER_EDIT = "user.edit", "user edited"
        USER_DELETE = "user.delete", "user deleted"
        FAILURE_REDRIVE = "failure.redrive", "failure redriven"
        FAILURE_DISCARD = "failure.discard", "failure discarded"
        MESSAGE_MOVE = "message.move", "queue message moved"

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="console_audit_records",
    )
    actor_name = models.CharField(max_length=150)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    action = models.CharField(max_length=32, choices=Action.choices, db_index=True)
    target = models.CharField(max_length=500, db_index=True)
    outcome = models.CharField(max_length=500, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        default_permissions = ("view",)
        verbose_name = "audit record"

    def __str__(self) -> str:
        return (
            f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.action} {self.target}"
        )


class BulkRedrive(models.Model):
    """A redrive of every failure matching a filter, advanced step by step."""

    class Status(models.TextChoices):
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    filter = models.JSONField()
    cursor = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices)
    redriven = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # While a step runs, the time its claim on the job lapses: a second page
    # stepping the same job at once waits instead of miscounting it.
    stepping_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        default_permissions = ()
        ordering = ["-created_at"]

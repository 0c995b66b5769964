"""The console's areas on the admin site, each with its own views.

Each area is a table-less model (see ``models``) whose ModelAdmin replaces
the usual changelist and change form with the area's own views, so the
admin's navigation, breadcrumbs, messages and permissions carry over.
"""

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import URLPattern, path

from switchyard_console.ops import pages
from switchyard_console.ops.models import (
    AuditRecord,
    FailedEvent,
    RoutingRules,
    UnprocessableMessage,
    UserProfile,
)
from switchyard_console.ops.views import failures, queue, rules, users


class AreaAdmin(admin.ModelAdmin):
    """A console area: a view permission, a change permission, own URLs."""

    view_permission = ""
    change_permission = ""
    views: Any = None

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return pages.allowed(request, self.view_permission)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return pages.allowed(request, self.change_permission)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def url(self, route: str, view: Callable[..., Any], name: str) -> URLPattern:
        wrapped = self.admin_site.admin_view(
            lambda request, *args, **kwargs: view(self, request, *args, **kwargs)
        )
        opts = self.opts
        return path(route, wrapped, name=f"{opts.app_label}_{opts.model_name}_{name}")

    def get_urls(self) -> list[URLPattern]:
        return [self.url(route, view, name) for route, view, name in self.views.ROUTES]


@admin.register(RoutingRules)
class RoutingRulesAdmin(AreaAdmin):
    view_permission = pages.VIEW_RULES
    change_permission = pages.CHANGE_RULES
    views = rules


@admin.register(UserProfile)
class UserProfileAdmin(AreaAdmin):
    view_permission = pages.VIEW_USERS
    change_permission = pages.CHANGE_USERS
    views = users


@admin.register(FailedEvent)
class FailedEventAdmin(AreaAdmin):
    view_permission = pages.VIEW_FAILURES
    change_permission = pages.REDRIVE_FAILURES
    views = failures


@admin.register(UnprocessableMessage)
class UnprocessableMessageAdmin(AreaAdmin):
    view_permission = pages.VIEW_FAILURES
    change_permission = pages.REDRIVE_FAILURES
    views = queue


@admin.register(AuditRecord)
class AuditRecordAdmin(admin.ModelAdmin):
    """The audit trail: read-only, for whoever may view audit records."""

    list_display = ("at", "actor_name", "action", "target", "outcome")
    list_filter = ("action", "actor_name")
    search_fields = ("target", "actor_name", "outcome")
    date_hierarchy = "at"
    readonly_fields = (
        "at",
        "actor",
        "actor_name",
        "action",
        "target",
        "outcome",
        "before",
        "after",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

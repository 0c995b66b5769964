"""What every console page shares: permission checks and admin rendering."""

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

APP = "console"

VIEW_RULES = "view_rules"
CHANGE_RULES = "change_rules"
VIEW_USERS = "view_users"
CHANGE_USERS = "change_users"
VIEW_FAILURES = "view_failures"
REDRIVE_FAILURES = "redrive_failures"
DISCARD_FAILURES = "discard_failures"


def allowed(request: HttpRequest, codename: str) -> bool:
    return request.user.has_perm(f"{APP}.{codename}")


def require(request: HttpRequest, codename: str) -> None:
    """403 unless the signed-in user holds the console permission."""
    if not allowed(request, codename):
        raise PermissionDenied(f"this needs the permission {APP}.{codename}")


def render(
    request: HttpRequest,
    model_admin: admin.ModelAdmin,
    template: str,
    context: dict[str, Any],
    status: int = 200,
) -> HttpResponse:
    """A page in the admin's look, with its navigation and messages."""
    opts = model_admin.model._meta
    full = {
        **model_admin.admin_site.each_context(request),
        "opts": opts,
        "app_label": opts.app_label,
        "perms_view_rules": allowed(request, VIEW_RULES),
        "perms_change_rules": allowed(request, CHANGE_RULES),
        "perms_change_users": allowed(request, CHANGE_USERS),
        "perms_redrive": allowed(request, REDRIVE_FAILURES),
        "perms_discard": allowed(request, DISCARD_FAILURES),
        **context,
    }
    return TemplateResponse(request, template, full, status=status)

"""The console's admin site: Django's admin with an overview on its index."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse


class ConsoleAdminSite(admin.AdminSite):
    site_header = "Switchyard console"
    site_title = "Switchyard console"
    index_title = "Overview"
    index_template = "console/index.html"

    def index(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> TemplateResponse:
        # Imported here: the dashboard reaches into the app's models, which
        # are not ready when the admin app builds this site.
        from switchyard_console.ops.views.dashboard import overview

        context = {**(extra_context or {}), "overview": overview(request)}
        return super().index(request, context)

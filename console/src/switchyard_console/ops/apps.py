"""App configs: the console app, and the admin with the console's own site."""

from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class OpsConfig(AppConfig):
    name = "switchyard_console.ops"
    label = "console"
    verbose_name = "Switchyard"
    default_auto_field = "django.db.models.BigAutoField"


class ConsoleAdminConfig(AdminConfig):
    default_site = "switchyard_console.ops.site.ConsoleAdminSite"

"""WSGI entry point of the console."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "switchyard_console.settings")

application = get_wsgi_application()

"""Test settings: the console's own settings with a fixed, test-only key."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "tests-only-key-not-secret")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")

from switchyard_console.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CONSOLE_REDRIVE_RATE = 1000.0
CONSOLE_REDRIVE_CHUNK = 3

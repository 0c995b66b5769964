"""Settings of the Switchyard console: every environment variable it reads.

The console is a Django project whose admin site is the whole UI. AWS is
reached through boto3 with the standard credential chain; endpoints are
overridden for the local system with the standard ``AWS_ENDPOINT_URL`` and
``AWS_ENDPOINT_URL_<SERVICE>`` variables, which boto3 reads itself.

| variable | meaning | default |
|---|---|---|
| ``DJANGO_DEBUG`` | Django's debug mode (``true``/``false``) | false |
| ``DJANGO_SECRET_KEY`` | signing key; required unless debug | none |
| ``DATABASE_URL`` | the console's own database, any dj-database-url URL | SQLite |
| ``ALLOWED_HOSTS`` | comma-separated host names | ``127.0.0.1,localhost`` |
| ``CSRF_TRUSTED_ORIGINS`` | comma-separated origins behind a proxy | none |
| ``STATIC_BUCKET`` | S3 bucket for static files (production) | none: served locally |
| ``STATIC_URL`` | public URL of the static files (a CDN) | derived |
| ``RULES_BUCKET``, ``RULES_KEY`` | the rules document | key ``rules/rules.json`` |
| ``FAILED_EVENTS_TABLE`` | failure records | none |
| ``USERS_TABLE`` | user profiles, key ``user_id``, index ``email-index`` | none |
| ``EVENTS_STREAM_NAME`` | the events stream, read for dry runs | none |
| ``DEAD_LETTER_QUEUE_URL`` | the dead-letter queue | none |
| ``UNPROCESSABLE_QUEUE_URL`` | the second-level queue | none |
| ``CONNECTOR_FUNCTIONS`` | JSON: connector name to function name or ARN | ``{}`` |
| ``AWS_REGION`` / ``AWS_DEFAULT_REGION`` | region of every client | boto3's |
| ``CONSOLE_REDRIVE_RATE`` | bulk redrive: invocations per second | 10 |
| ``CONSOLE_REDRIVE_CHUNK`` | bulk redrive: records per progress step | 25 |
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _list(name: str, default: str = "") -> list[str]:
    return [v.strip() for v in os.environ.get(name, default).split(",") if v.strip()]


BASE_DIR = Path(__file__).resolve().parent.parent.parent

DEBUG = _flag("DJANGO_DEBUG")

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set; set it to a long random string "
            "(or set DJANGO_DEBUG=true for local development only)"
        )
    SECRET_KEY = "insecure-local-development-key-never-use-in-production"  # noqa: S105

ALLOWED_HOSTS = _list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = _list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "switchyard_console.ops.apps.ConsoleAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "switchyard_console.ops.apps.OpsConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "switchyard_console.ops.middleware.AwsErrorMiddleware",
]

ROOT_URLCONF = "switchyard_console.urls"
WSGI_APPLICATION = "switchyard_console.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}", conn_max_age=60
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
if not DEBUG and _flag("DJANGO_SECURE_COOKIES", default=False):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# Static files: served by the console itself unless a bucket is named, then
# collectstatic uploads them there through django-storages.
STATIC_BUCKET = os.environ.get("STATIC_BUCKET", "")
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if STATIC_BUCKET:
    STORAGES["staticfiles"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": STATIC_BUCKET,
            "location": "static",
            "querystring_auth": False,
            "file_overwrite": True,
        },
    }
    STATIC_URL = os.environ.get(
        "STATIC_URL", f"https://{STATIC_BUCKET}.s3.amazonaws.com/static/"
    )
else:
    STATIC_URL = os.environ.get("STATIC_URL", "/static/")

# A form may carry a rules document over the console's own limit (1 MiB), so
# the page can say it is too large instead of Django answering a bare 400.
DATA_UPLOAD_MAX_MEMORY_SIZE = 8 * 1024 * 1024

LOGIN_URL = "admin:login"
# Where sign-in lands when "next" is absent or points off the site.
LOGIN_REDIRECT_URL = "admin:index"

# The Switchyard resources the console operates on.
RULES_BUCKET = os.environ.get("RULES_BUCKET", "")
RULES_KEY = os.environ.get("RULES_KEY", "rules/rules.json")
FAILED_EVENTS_TABLE = os.environ.get("FAILED_EVENTS_TABLE", "")
USERS_TABLE = os.environ.get("USERS_TABLE", "")
EVENTS_STREAM_NAME = os.environ.get("EVENTS_STREAM_NAME", "")
DEAD_LETTER_QUEUE_URL = os.environ.get("DEAD_LETTER_QUEUE_URL", "")
UNPROCESSABLE_QUEUE_URL = os.environ.get("UNPROCESSABLE_QUEUE_URL", "")
CONNECTOR_FUNCTIONS = os.environ.get("CONNECTOR_FUNCTIONS", "{}")
AWS_REGION = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
CONSOLE_REDRIVE_RATE = float(os.environ.get("CONSOLE_REDRIVE_RATE", "10"))
CONSOLE_REDRIVE_CHUNK = int(os.environ.get("CONSOLE_REDRIVE_CHUNK", "25"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "switchyard_console.logs.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # boto's own INFO lines (where credentials and endpoints came from) are
    # noise on every new client.
    "loggers": {
        "botocore": {"level": "WARNING"},
        "boto3": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
    },
}

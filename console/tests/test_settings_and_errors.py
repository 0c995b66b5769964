"""Settings from the environment, and AWS errors as console errors."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from switchyard_console.ops import aws, users_store
from switchyard_console.ops.errors import (
    AccessDeniedError,
    InvalidInputError,
    MissingResourceError,
    ThrottledError,
    UnreachableError,
)

CONSOLE = Path(__file__).resolve().parents[1]


def _settings(env: dict[str, str]) -> subprocess.CompletedProcess:
    """Import the settings module in a fresh interpreter with this environment."""
    code = (
        "import json; from switchyard_console import settings as s; "
        "print(json.dumps({'storage': s.STORAGES['staticfiles']['BACKEND'], "
        "'static_url': s.STATIC_URL, 'engine': s.DATABASES['default']['ENGINE'], "
        "'debug': s.DEBUG}))"
    )
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "STATIC"))
    }
    clean.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, "PYTHONPATH": str(CONSOLE / "src"), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.unit
def test_settings_refuse_to_start_without_a_secret_key():
    result = _settings({})

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


@pytest.mark.unit
def test_settings_defaults_are_sqlite_and_local_static_files():
    result = _settings({"DJANGO_SECRET_KEY": "k"})

    assert '"engine": "django.db.backends.sqlite3"' in result.stdout
    assert '"storage": "django.contrib.staticfiles.storage.StaticFilesStorage"' in (
        result.stdout
    )


@pytest.mark.unit
def test_settings_use_s3_for_static_files_and_database_url():
    result = _settings(
        {
            "DJANGO_SECRET_KEY": "k",
            "STATIC_BUCKET": "console-static",
            "DATABASE_URL": "postgres://u:p@127.0.0.1:5432/console",
        }
    )

    assert '"storage": "storages.backends.s3.S3Storage"' in result.stdout
    assert "https://console-static.s3.amazonaws.com/static/" in result.stdout
    assert "postgresql" in result.stdout


def _client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "no"}}, "Op")


@pytest.mark.unit
@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("ThrottlingException", ThrottledError),
        ("ProvisionedThroughputExceededException", ThrottledError),
        ("SlowDown", ThrottledError),
        ("AccessDenied", AccessDeniedError),
        ("AccessDeniedException", AccessDeniedError),
        ("NoSuchBucket", MissingResourceError),
        ("ResourceNotFoundException", MissingResourceError),
        ("AWS.SimpleQueueService.NonExistentQueue", MissingResourceError),
    ],
)
def test_aws_errors_are_classified_with_operation_and_resource(code, kind):
    error = aws.translate(_client_error(code), "GetObject", "s3://b/k")

    assert isinstance(error, kind)
    assert "GetObject on s3://b/k" in str(error)
    assert code in str(error)


@pytest.mark.unit
def test_an_unreachable_endpoint_says_so():
    error = aws.translate(
        EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), "Scan", "users"
    )

    assert isinstance(error, UnreachableError)
    assert "could not be reached" in str(error)


@pytest.mark.unit
def test_user_cursor_round_trips_and_refuses_anything_else():
    key = {"user_id": {"S": "abc"}}

    assert users_store.decode_cursor(users_store.encode_cursor(key)) == key
    with pytest.raises(InvalidInputError):
        users_store.decode_cursor("%%%not-base64")
    with pytest.raises(InvalidInputError):
        users_store.decode_cursor(users_store.encode_cursor({"user_id": {"N": "1"}}))


@pytest.mark.functional
@pytest.mark.django_db
def test_access_denied_on_a_page_is_an_admin_message(operator, monkeypatch, settings):
    from switchyard_console.ops import resources
    from switchyard_console.ops.users_store import UsersStore

    class Denied:
        def scan(self, **kwargs):
            raise _client_error("AccessDeniedException")

    settings.USERS_TABLE = "users"
    monkeypatch.setattr(resources, "users_store", lambda: UsersStore("users", Denied()))

    page = operator.get("/admin/console/userprofile/")

    assert page.status_code == 503
    text = page.content.decode()
    assert "AccessDeniedException" in text
    assert "not allowed to do this" in text


@pytest.mark.functional
@pytest.mark.django_db
def test_an_unset_setting_names_the_variable(operator, settings):
    settings.USERS_TABLE = ""

    page = operator.get("/admin/console/userprofile/")

    assert "USERS_TABLE is not set" in page.content.decode()


@pytest.mark.unit
def test_lines_of_paths_match_the_stored_layout():
    import json

    from switchyard_console.ops.json_lines import dumps_with_lines, line_of

    document = {
        "rules": [
            {
                "name": "a",
                "pattern": {"detail-type": ["x"], "n": [{"numeric": [">", 1.5]}]},
                "targets": [],
                "extra": {},
            }
        ],
        "note": None,
    }

    text, where = dumps_with_lines(document)

    assert text == json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    lines = text.splitlines()
    assert lines[where["$.rules[0].name"] - 1].strip() == '"name": "a",'
    detail = line_of("$.rules[0].pattern['detail-type'][0]", where)
    assert lines[detail - 1].strip() == '"x"'
    missing = line_of("$.rules[0].targets[3].connector", where)
    assert lines[missing - 1].strip() == '"targets": [],'

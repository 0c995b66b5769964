"""Attacks on access: no sign-in, no staff flag, no CSRF token, open redirects."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from switchyard_console.ops.models import AuditRecord
from tests.test_permissions import PROTECTED

pytestmark = [pytest.mark.functional, pytest.mark.django_db]

POSTS = [entry for entry in PROTECTED if entry[0] == "post"]


def _assert_sent_to_sign_in(response):
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize(("method", "path", "form", "needed"), PROTECTED)
def test_every_page_and_action_sends_the_anonymous_to_sign_in(
    aws, fake_lambda, method, path, form, needed
):
    response = getattr(Client(), method)(path, form)

    _assert_sent_to_sign_in(response)
    assert fake_lambda.calls == []
    assert not AuditRecord.objects.exists()


@pytest.mark.parametrize(("method", "path", "form", "needed"), PROTECTED)
def test_every_page_and_action_sends_a_non_staff_user_to_sign_in(
    aws, fake_lambda, method, path, form, needed
):
    user = get_user_model().objects.create_superuser("root", password="pw-tests")
    user.is_staff = False
    user.save()
    client = Client()
    client.force_login(user)

    response = getattr(client, method)(path, form)

    _assert_sent_to_sign_in(response)
    assert fake_lambda.calls == []
    assert not AuditRecord.objects.exists()


@pytest.mark.parametrize(("method", "path", "form", "needed"), POSTS)
def test_every_post_without_a_csrf_token_is_refused(
    aws, fake_lambda, method, path, form, needed
):
    user = get_user_model().objects.create_superuser("sue", password="pw-tests")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    response = client.post(path, form)

    assert response.status_code == 403
    assert b"CSRF" in response.content
    assert fake_lambda.calls == []
    assert not AuditRecord.objects.exists()


def test_staff_without_any_console_permission_sees_no_area_and_no_audit(aws, person):
    client = person("nobody")

    index = client.get("/admin/").content.decode()
    audit = client.get("/admin/console/auditrecord/")

    assert "Routing rules" not in index
    assert "Failed events" not in index
    assert audit.status_code == 403


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "https:/evil.example",
        "javascript:alert(1)",
    ],
)
def test_sign_in_never_redirects_off_site(aws, target):
    get_user_model().objects.create_user(
        "olga", password="pw-for-tests-only", is_staff=True
    )

    response = Client().post(
        f"/admin/login/?next={target}",
        {"username": "olga", "password": "pw-for-tests-only", "next": target},
    )

    assert response.status_code == 302
    assert response["Location"] == "/admin/"


@pytest.mark.parametrize(
    "back",
    [
        "https://evil.example/admin/console/failedevent/",
        "//evil.example/admin/console/failedevent/",
        "/admin/console/failedevent/\\\\evil.example",
        "/admin/console/failedevent/../../../\\evil.example",
        "/admin/console/failedevent/\r\nSet-Cookie: x=1",
    ],
)
def test_a_tampered_back_link_stays_on_the_failure_list(aws, operator, back):
    response = operator.post(
        "/admin/console/failedevent/action/", {"action": "", "back": back}
    )

    assert response.status_code == 302
    assert response["Location"] == "/admin/console/failedevent/"


@pytest.mark.parametrize(
    "path",
    [
        "/static/../settings.py",
        "/static/..%2f..%2fsettings.py",
        "/static/%2e%2e/%2e%2e/switchyard_console/settings.py",
        "/static//etc/passwd",
    ],
)
def test_static_files_never_serve_anything_outside_them(db, path):
    response = Client().get(path)

    # Django refuses a path that leaves the static directories (400) or finds
    # nothing (404); either way no file is served.
    assert response.status_code in (400, 404)
    assert b"SECRET_KEY" not in b"".join(getattr(response, "streaming_content", []))

"""Permissions: each page and action needs its own; staff only; CSRF on."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from switchyard_console.ops.management.commands.create_operator import ROLES
from switchyard_console.ops.models import AuditRecord

pytestmark = [pytest.mark.functional, pytest.mark.django_db]

R = "/admin/console/routingrules/"
U = "/admin/console/userprofile/"
F = "/admin/console/failedevent/"
Q = "/admin/console/unprocessablemessage/"

# (method, path, form, the permission it needs)
PROTECTED = [
    ("get", R, {}, "view_rules"),
    ("get", f"{R}history/", {}, "view_rules"),
    ("get", f"{R}history/compare/", {"a": "x", "b": "y"}, "view_rules"),
    ("get", f"{R}history/v1/", {}, "view_rules"),
    ("post", f"{R}dry-run/", {"events": "{}"}, "view_rules"),
    ("get", f"{R}edit/", {}, "change_rules"),
    ("post", f"{R}edit/", {"document": "{}", "action": "check"}, "change_rules"),
    ("post", f"{R}save/", {"document": "{}", "action": "save"}, "change_rules"),
    ("get", f"{R}rule/0/", {}, "change_rules"),
    ("post", f"{R}rule/0/", {"name": "x"}, "change_rules"),
    ("get", f"{R}history/v1/rollback/", {}, "change_rules"),
    ("post", f"{R}history/v1/rollback/", {"base_etag": "x"}, "change_rules"),
    ("get", U, {}, "view_users"),
    ("get", f"{U}user/", {"id": "u-1"}, "view_users"),
    ("get", f"{U}edit/", {"id": "u-1"}, "change_users"),
    ("post", f"{U}edit/", {"id": "u-1", "action": "confirm"}, "change_users"),
    ("get", f"{U}delete/", {"id": "u-1"}, "change_users"),
    ("post", f"{U}delete/", {"id": "u-1", "action": "confirm"}, "change_users"),
    ("get", F, {}, "view_failures"),
    ("get", f"{F}abc/", {}, "view_failures"),
    ("post", f"{F}redrive/", {"ids": ["abc"], "confirm": "yes"}, "redrive_failures"),
    (
        "post",
        f"{F}action/",
        {"ids": ["abc"], "action": "redrive_selected"},
        "redrive_failures",
    ),
    ("get", f"{F}abc/edit/", {}, "redrive_failures"),
    ("post", f"{F}abc/edit/", {"event": "{}", "action": "confirm"}, "redrive_failures"),
    ("get", f"{F}bulk/", {"status": "parked"}, "redrive_failures"),
    ("post", f"{F}bulk/", {"status": "parked", "confirm": "yes"}, "redrive_failures"),
    ("post", f"{F}bulk/1/", {}, "redrive_failures"),
    (
        "post",
        f"{F}discard/",
        {"ids": ["abc"], "confirm": "yes", "reason": "r"},
        "discard_failures",
    ),
    (
        "post",
        f"{F}action/",
        {"ids": ["abc"], "action": "discard_selected"},
        "discard_failures",
    ),
    ("get", Q, {}, "view_failures"),
    ("post", f"{Q}move/", {"ids": ["m"], "confirm": "yes"}, "redrive_failures"),
]


@pytest.mark.parametrize(("method", "path", "form", "needed"), PROTECTED)
def test_every_page_and_action_is_403_without_its_permission(
    aws, person, fake_lambda, method, path, form, needed
):
    everything = sorted(set(ROLES["operator"]) - {needed})
    client = person("pat", perms=everything)

    response = getattr(client, method)(path, form)

    assert response.status_code == 403
    assert fake_lambda.calls == []
    assert not AuditRecord.objects.exists()


def test_the_same_pages_open_with_the_permission(aws, person):
    client = person("pat", perms=["view_rules", "view_users", "view_failures"])

    for path in (R, U, F, Q):
        assert client.get(path).status_code == 200


def test_a_viewer_sees_no_change_buttons(aws, viewer):
    aws.put_rules({"rules": []})

    text = viewer.get(R).content.decode()

    assert "Edit as JSON" not in text


def test_non_staff_are_sent_to_sign_in(aws, db):
    user = get_user_model().objects.create_user("nina", password="pw-for-tests-only")
    client = Client()
    client.force_login(user)

    response = client.get(R)

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_anonymous_are_sent_to_sign_in(aws, db):
    response = Client().get(F)

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_posts_without_a_csrf_token_are_refused(aws, db):
    user = get_user_model().objects.create_superuser(
        "sue", password="pw-for-tests-only"
    )
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    response = client.post(f"{R}save/", {"document": "{}", "action": "save"})

    assert response.status_code == 403
    assert b"CSRF" in response.content


def test_the_console_permissions_exist_as_django_permissions(db):
    from django.contrib.auth.models import Permission

    codenames = set(
        Permission.objects.filter(content_type__app_label="console").values_list(
            "codename", flat=True
        )
    )

    assert set(ROLES["operator"]) <= codenames


def test_audit_records_are_read_only_in_the_admin(aws, operator):
    AuditRecord.objects.create(
        actor_name="olivia",
        action="rules.save",
        target="s3://b/k",
        before=None,
        after={},
    )
    entry = AuditRecord.objects.get()

    listing = operator.get("/admin/console/auditrecord/")
    change = operator.post(
        f"/admin/console/auditrecord/{entry.pk}/change/", {"target": "x"}
    )

    assert listing.status_code == 200
    assert "s3://b/k" in listing.content.decode()
    assert AuditRecord.objects.get().target == "s3://b/k"
    assert change.status_code in (200, 403)
    assert operator.get("/admin/console/auditrecord/add/").status_code == 403

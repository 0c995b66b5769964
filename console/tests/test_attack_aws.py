"""AWS failing under every page and action: admin messages, never error pages."""

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from switchyard_console.ops import aws as console_aws
from switchyard_console.ops.models import AuditRecord

pytestmark = [pytest.mark.functional, pytest.mark.django_db]

R = "/admin/console/routingrules/"
U = "/admin/console/userprofile/"
F = "/admin/console/failedevent/"
Q = "/admin/console/unprocessablemessage/"

FAILURES = {
    "throttled": (
        ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow"}}, "X"),
        "throttling",
    ),
    "denied": (
        ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "X"),
        "AccessDenied",
    ),
    "no-bucket": (
        ClientError({"Error": {"Code": "NoSuchBucket", "Message": "gone"}}, "X"),
        "NoSuchBucket",
    ),
    "unreachable": (
        EndpointConnectionError(endpoint_url="http://127.0.0.1:9/"),
        "127.0.0.1:9",
    ),
}

PAGES = [
    ("get", "/admin/", {}),
    ("get", R, {}),
    ("get", f"{R}history/", {}),
    ("get", f"{R}history/compare/", {"a": "v1", "b": "v2"}),
    ("get", f"{R}history/v1/", {}),
    ("get", f"{R}history/v1/rollback/", {}),
    ("post", f"{R}history/v1/rollback/", {"base_etag": "x"}),
    ("get", f"{R}edit/", {}),
    ("post", f"{R}edit/", {"document": '{"rules": []}', "action": "check"}),
    ("post", f"{R}save/", {"document": '{"rules": []}', "action": "save"}),
    ("get", f"{R}rule/0/", {}),
    ("post", f"{R}dry-run/", {"events": "{}", "action": "run"}),
    ("post", f"{R}dry-run/", {"action": "load", "count": "5"}),
    ("get", U, {}),
    ("get", U, {"q": "ada@example.com"}),
    ("get", f"{U}user/", {"id": "u-1"}),
    ("get", f"{U}edit/", {"id": "u-1"}),
    ("post", f"{U}edit/", {"id": "u-1", "attributes": "{}", "action": "confirm"}),
    ("get", f"{U}delete/", {"id": "u-1"}),
    ("post", f"{U}delete/", {"id": "u-1", "action": "confirm", "seen": "x"}),
    ("get", F, {}),
    ("get", f"{F}abc/", {}),
    ("get", f"{F}abc/edit/", {}),
    ("post", f"{F}redrive/", {"ids": ["abc"]}),
    ("post", f"{F}redrive/", {"ids": ["abc"], "confirm": "yes"}),
    ("post", f"{F}discard/", {"ids": ["abc"], "confirm": "yes", "reason": "r"}),
    ("get", f"{F}bulk/", {"status": "parked"}),
    ("get", Q, {}),
    ("post", f"{Q}move/", {"ids": ["m-1"]}),
    ("post", f"{Q}move/", {"ids": ["m-1"], "confirm": "yes"}),
]


class Broken:
    """A boto3 client whose every call fails the same way."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def __getattr__(self, name):
        def call(*args, **kwargs):
            raise self.error

        return call


@pytest.mark.parametrize("failure", sorted(FAILURES))
@pytest.mark.parametrize(("method", "path", "form"), PAGES)
def test_an_aws_failure_on_any_page_is_an_admin_message(
    aws, operator, monkeypatch, failure, method, path, form
):
    error, shown = FAILURES[failure]
    monkeypatch.setattr(console_aws, "client", lambda service: Broken(error))

    response = getattr(operator, method)(path, form, follow=True)

    text = response.content.decode()
    assert response.status_code in (200, 503)
    assert 'id="site-name"' in text  # the admin's own page, with its messages
    assert shown in text
    assert not AuditRecord.objects.exists()

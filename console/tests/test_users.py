"""User pages: cursor pages, find by id or e-mail, edit and delete."""

import json

import pytest

from switchyard_console.ops import users_store
from switchyard_console.ops.models import AuditRecord
from tests.conftest import USERS

pytestmark = [pytest.mark.functional, pytest.mark.django_db]

BASE = "/admin/console/userprofile/"


def test_pages_walk_every_user_once_with_one_scan_each(aws, operator, monkeypatch):
    for number in range(60):
        aws.put_user(f"user-{number:03d}", email=f"u{number}@example.com")
    scans = []
    original = users_store.UsersStore.page

    def counting(self, cursor=None, limit=25):
        page = original(self, cursor, limit)
        scans.append(len(page.items))
        return page

    monkeypatch.setattr(users_store.UsersStore, "page", counting)

    seen, url, pages = [], BASE, 0
    while url:
        response = operator.get(url)
        seen += [row["user_id"] for row in response.context["rows"]]
        url = response.context["next_url"]
        pages += 1

    assert sorted(seen) == [f"user-{n:03d}" for n in range(60)]
    assert pages >= 3
    assert all(count <= 25 for count in scans)
    assert len(scans) == pages


def test_previous_goes_back_one_page_at_a_time(aws, operator):
    for number in range(60):
        aws.put_user(f"user-{number:03d}")
    first = operator.get(BASE)
    second = operator.get(first.context["next_url"])
    third = operator.get(second.context["next_url"])

    back_to_second = operator.get(third.context["previous_url"])
    back_to_first = operator.get(back_to_second.context["previous_url"])

    def ids(page):
        return [r["user_id"] for r in page.context["rows"]]

    assert ids(back_to_second) == ids(second)
    assert ids(back_to_first) == ids(first)
    assert not back_to_first.context["previous_url"]


def test_a_tampered_cursor_is_refused_with_a_message(aws, operator):
    forged = users_store.encode_cursor({"email": {"S": "x"}})

    response = operator.get(BASE, {"cursor": forged}, follow=True)

    assert "not a user key" in response.content.decode()


def test_find_by_email_uses_the_index(aws, operator):
    aws.put_user("u-1", email="ada@example.com")
    aws.put_user("u-2", email="bob@example.com")

    page = operator.get(BASE, {"q": "ada@example.com"})

    assert [r["user_id"] for r in page.context["rows"]] == ["u-1"]


def test_find_by_id(aws, operator):
    aws.put_user("u-1", email="ada@example.com")

    page = operator.get(BASE, {"q": "u-1"})

    assert [r["user_id"] for r in page.context["rows"]] == ["u-1"]


def test_detail_shows_every_attribute(aws, operator):
    aws.put_user("u-1", email="ada@example.com", display_name="Ada", visits=3)

    page = operator.get(f"{BASE}user/", {"id": "u-1"})

    assert dict(page.context["attributes"])["visits"] == 3
    assert "Ada" in page.content.decode()


def test_edit_shows_a_diff_then_writes_and_audits(aws, operator):
    aws.put_user("u-1", email="ada@example.com", display_name="Ada")
    form = operator.get(f"{BASE}edit/", {"id": "u-1"})
    attributes = json.loads(form.context["text"])
    attributes["display_name"] = "Ada Lovelace"
    attributes["score"] = 12.5

    review = operator.post(
        f"{BASE}edit/",
        {
            "id": "u-1",
            "attributes": json.dumps(attributes),
            "seen": form.context["seen"],
            "action": "preview",
        },
    )
    assert "Ada Lovelace" in review.content.decode()
    assert aws.user("u-1")["display_name"] == {"S": "Ada"}

    operator.post(
        f"{BASE}edit/",
        {
            "id": "u-1",
            "attributes": review.context["text"],
            "seen": review.context["seen"],
            "action": "confirm",
        },
    )

    item = aws.user("u-1")
    assert item["display_name"] == {"S": "Ada Lovelace"}
    assert item["score"] == {"N": "12.5"}
    entry = AuditRecord.objects.get(action=AuditRecord.Action.USER_EDIT)
    assert entry.before["display_name"] == "Ada"
    assert entry.after["display_name"] == "Ada Lovelace"


def test_edit_of_a_profile_changed_meanwhile_writes_nothing(aws, operator):
    aws.put_user("u-1", email="ada@example.com", display_name="Ada")
    form = operator.get(f"{BASE}edit/", {"id": "u-1"})
    aws.put_user("u-1", email="ada@example.com", display_name="Changed elsewhere")

    page = operator.post(
        f"{BASE}edit/",
        {
            "id": "u-1",
            "attributes": '{"email": "ada@example.com", "display_name": "Mine"}',
            "seen": form.context["seen"],
            "action": "confirm",
        },
    )

    assert "changed since you opened it" in page.content.decode()
    assert aws.user("u-1")["display_name"] == {"S": "Changed elsewhere"}
    assert not AuditRecord.objects.exists()


def test_delete_asks_first_then_deletes_and_audits(aws, operator):
    aws.put_user("u-1", email="ada@example.com")

    confirm = operator.get(f"{BASE}delete/", {"id": "u-1"})
    assert "Are you sure" in confirm.content.decode()
    assert aws.user("u-1") is not None

    operator.post(
        f"{BASE}delete/",
        {"id": "u-1", "action": "confirm", "seen": confirm.context["seen"]},
    )

    assert aws.user("u-1") is None
    entry = AuditRecord.objects.get(action=AuditRecord.Action.USER_DELETE)
    assert entry.before["email"] == "ada@example.com"
    assert entry.after is None
    recent = operator.get("/admin/").content.decode()
    assert "user u-1" in recent  # under the admin's "Recent actions"


def test_invalid_json_attributes_are_refused(aws, operator):
    aws.put_user("u-1", email="ada@example.com")

    page = operator.post(
        f"{BASE}edit/", {"id": "u-1", "attributes": "{nope", "action": "preview"}
    )

    assert "not valid JSON" in page.content.decode()


def test_an_edit_writes_a_new_version_so_the_user_apis_etag_changes(aws, operator):
    aws.put_user("u-1", email="ada@example.com", display_name="Ada")
    store = users_store.UsersStore(USERS, client=aws.dynamodb)
    before = store.get("u-1")

    written = store.replace("u-1", {**before, "display_name": "B"}, expected=before)

    item = aws.user("u-1")
    assert item["version"]["S"] == written["version"]
    assert written["version"] != before.get("version")
    assert item["updated_at"]["S"].endswith("Z")


def test_a_write_racing_between_read_and_write_is_refused_by_dynamodb(aws):
    # Given the console read version A, when another writer makes it B before
    # the console's write lands, then the conditional write refuses.
    aws.put_user("u-1", email="ada@example.com", display_name="Ada")
    store = users_store.UsersStore(USERS, client=aws.dynamodb)
    read = store.get("u-1")
    store.replace("u-1", {**read, "display_name": "first"}, expected=read)

    with pytest.raises(users_store.ConflictError, match="changed since"):
        store.replace("u-1", {**read, "display_name": "second"}, expected=read)
    with pytest.raises(users_store.ConflictError, match="changed since"):
        store.delete("u-1", expected=read)

    assert aws.user("u-1")["display_name"] == {"S": "first"}

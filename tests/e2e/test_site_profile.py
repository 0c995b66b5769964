"""The site in headless Chromium against the local system, as a person uses it.

Given the whole local system (Cognito in moto, API Gateway with the Cognito
authorizer, the user-api function, /events into Kinesis, the router and the
DynamoDB connector) and a rule that routes the site's own events to a
delivery table; when a person signs up, fills in a profile, meets a
conflicting change from another tab, deletes the profile and signs out;
then every step shows what it should, and the page views and clicks the site
sent are found downstream, with no token, email or attribute value in them.
"""

import json
import time
import uuid
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from site_browser import unlabelled_controls
from site_pages import (
    add_attribute,
    profile_rows,
    row_error,
    row_named,
    save,
    set_value,
    sign_in,
    sign_up,
)

PASSWORD = "Switch-yard-2026"
# moto accepts any confirmation code; a real pool emails one.
CONFIRMATION_CODE = "123456"
EVENTS_TIMEOUT_SECONDS = 90


def require_profile_routes(stack: Any) -> None:
    """Fails with the cause when the local API lacks a method the page uses."""
    methods = {route.method for route in stack.routes if route.path == "/user"}
    if "ANY" in methods:
        return
    missing = sorted({"GET", "POST", "PATCH", "DELETE"} - methods)
    if missing:
        pytest.fail(
            f"the local API has no {', '.join(missing)} /user route: "
            "infra/templates/api.yaml is older than the user-api's OpenAPI "
            "document; regenerate it with python -m switchyard_infra.api_template"
        )


def new_email(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:8]}@example.com"


def delivered_site_events(system: Any) -> list[dict[str, Any]]:
    """Every item the DynamoDB connector wrote to the site-events table."""
    dynamodb = system.stack.client("dynamodb")
    deserialize = TypeDeserializer().deserialize
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": system.events_table}
    while True:
        page = dynamodb.scan(**kwargs)
        items.extend(
            {k: deserialize(v) for k, v in item.items()} for item in page["Items"]
        )
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def wait_for_events(system: Any, wanted: set[tuple[str, str]]) -> list[dict[str, Any]]:
    """Polls the delivery table until every (type, page or control) arrived."""
    deadline = time.monotonic() + EVENTS_TIMEOUT_SECONDS
    seen: set[tuple[str, str]] = set()
    while time.monotonic() < deadline:
        items = delivered_site_events(system)
        seen = set()
        for item in items:
            event = item["event"]
            seen.add((event["type"], event.get("page", "")))
            if "control" in event:
                seen.add((event["type"], event["control"]))
        if wanted <= seen:
            return items
        time.sleep(1)
    raise AssertionError(
        f"site events missing downstream after {EVENTS_TIMEOUT_SECONDS}s: "
        f"{sorted(wanted - seen)}; seen {sorted(seen)}; "
        f"failure records: {failure_summary(system)}"
    )


def failure_summary(system: Any) -> list[str]:
    """The error messages of parked failures, to say why events did not land."""
    table = system.stack.outputs.get("FailedEventsTableName")
    if not table:
        return []
    items = system.stack.client("dynamodb").scan(TableName=table, Limit=5)["Items"]
    return [json.dumps(item, default=str)[:400] for item in items]


def test_profile_journey_from_sign_up_to_sign_out(site_system, open_browser):
    require_profile_routes(site_system.stack)
    site = site_system.site_url
    email = new_email("journey")
    browser = open_browser()

    # The welcome page, then sign-up and its confirmation code.
    browser.open(f"{site}/index.html")
    browser.screenshot("01-index")
    sign_up(browser, site, email, PASSWORD)
    assert browser.by_id("confirm-address").text == email
    assert unlabelled_controls(browser) == []
    browser.screenshot("02-signup-confirm")
    browser.fill("confirm-code", CONFIRMATION_CODE)
    browser.click("confirm-button")

    # Confirmed accounts are signed in straight away, on an empty profile.
    browser.wait_path("/profile.html")
    assert browser.by_id("profile-email").text == email
    assert browser.by_id("empty-note").is_displayed()
    browser.screenshot("03-profile-empty")

    # Add attributes of each type and save them.
    add_attribute(browser, "city", "text", "Lisbon")
    add_attribute(browser, "age", "number", "30.40")
    add_attribute(browser, "newsletter", "boolean", "yes")
    add_attribute(browser, "languages", "json", '["pt", "en"]')
    assert unlabelled_controls(browser) == []
    save(browser)
    browser.text_of("profile-status", "saved")
    browser.screenshot("04-profile-saved")

    # A reload reads them back from the API, numbers exactly.
    browser.driver.refresh()
    browser.wait_ready("the reloaded profile")
    assert profile_rows(browser) == {
        "age": ("number", "30.4"),
        "city": ("text", "Lisbon"),
        "languages": ("json", '["pt","en"]'),
        "newsletter": ("boolean", "yes"),
    }
    browser.screenshot("05-profile-reloaded")

    # The API refuses a bad name; the words appear next to that attribute.
    add_attribute(browser, "2fast", "text", "x")
    save(browser)
    message = row_error(browser, "2fast")
    assert "must start with a letter" in message
    name_field = row_named(browser, "2fast").find_element(By.CSS_SELECTOR, ".attr-name")
    assert name_field.get_attribute("aria-invalid") == "true"
    assert browser.driver.switch_to.active_element == name_field
    browser.screenshot("06-profile-field-error")
    row_named(browser, "2fast").find_element(By.CSS_SELECTOR, ".attr-remove").click()

    # Another tab (its own session: tokens live per tab) changes the city.
    first_tab = browser.driver.current_window_handle
    browser.driver.switch_to.new_window("tab")
    browser.open(f"{site}/profile.html")
    browser.wait_path("/signin.html")
    sign_in(browser, email, PASSWORD)
    browser.wait_path("/profile.html")
    set_value(browser, "city", "Porto")
    save(browser)
    browser.text_of("profile-status", "saved")
    second_tab = browser.driver.current_window_handle

    # The first tab, still on the old version, changes the age: conflict.
    browser.driver.switch_to.window(first_tab)
    set_value(browser, "age", "31")
    save(browser)
    browser.visible("conflict-panel")
    browser.text_of("conflict-text", "nothing was overwritten")
    latest = browser.by_id("conflict-latest").text
    assert "Porto" in latest and "30.4" in latest
    browser.screenshot("07-profile-conflict")

    # Nothing was overwritten: the other tab still reads Porto and 30.4.
    browser.driver.switch_to.window(second_tab)
    browser.driver.refresh()
    browser.wait_ready("the other tab's profile")
    assert profile_rows(browser)["city"] == ("text", "Porto")
    assert profile_rows(browser)["age"] == ("number", "30.4")
    browser.driver.close()
    browser.driver.switch_to.window(first_tab)

    # Applying the edit on top of the latest keeps both changes.
    browser.click("conflict-keep")
    assert profile_rows(browser)["city"] == ("text", "Porto")
    assert profile_rows(browser)["age"] == ("number", "31")
    save(browser)
    browser.text_of("profile-status", "saved")
    browser.driver.refresh()
    browser.wait_ready("the profile after the conflict")
    assert profile_rows(browser)["city"] == ("text", "Porto")
    assert profile_rows(browser)["age"] == ("number", "31")

    # Delete, with confirmation.
    browser.click("delete-button")
    browser.visible("delete-dialog")
    browser.screenshot("08-profile-delete-confirm", full_page=False)
    browser.click("delete-confirm")
    browser.text_of("delete-status", "deleted")
    browser.driver.refresh()
    browser.wait_ready("the profile after delete")
    assert profile_rows(browser) == {}
    browser.screenshot("09-profile-deleted")

    # Sign out: back on the welcome page, and the profile needs a sign-in.
    browser.click("signout-button")
    browser.wait_path("/index.html")
    browser.text_of("index-status", "signed out")
    browser.screenshot("10-signed-out")
    browser.open(f"{site}/profile.html")
    browser.wait_path("/signin.html")
    browser.screenshot("11-signin")

    # The events the site sent went through /events, Kinesis, the router's
    # rule and the DynamoDB connector.
    items = wait_for_events(
        site_system,
        {
            ("site.page_view", "/index.html"),
            ("site.page_view", "/signup.html"),
            ("site.page_view", "/profile.html"),
            ("site.click", "signup.submit"),
            ("site.click", "profile.save"),
            ("site.click", "profile.delete_confirm"),
        },
    )
    for item in items:
        event = item["event"]
        assert item["event_id"] == event["id"], "the site's own id is the event id"
        assert event["source"] == "switchyard.site"
        assert event["occurred_at"] and event["sent_at"]
    text = json.dumps([item["event"] for item in items], default=str)
    for secret in (email, PASSWORD, "Lisbon", "Porto", "eyJ"):
        assert secret not in text, f"an event carried {secret!r}"


def test_tokens_refresh_early_and_an_ended_session_keeps_edits(
    site_system, open_browser
):
    require_profile_routes(site_system.stack)
    site = site_system.site_url
    email = new_email("expired")
    site_system.stack.create_user(email, PASSWORD)
    browser = open_browser()

    # Keyboard only: the email field has the focus, Tab to the password,
    # Enter submits.
    browser.open(f"{site}/signin.html")
    assert unlabelled_controls(browser) == []
    active = browser.driver.switch_to.active_element
    assert active.get_attribute("id") == "email"
    active.send_keys(email, Keys.TAB)
    browser.driver.switch_to.active_element.send_keys(PASSWORD, Keys.ENTER)
    browser.wait_path("/profile.html")
    add_attribute(browser, "note", "text", "saved with a refreshed token")

    # A token in its last minute is refreshed before the request leaves.
    old_token = browser.driver.execute_script(
        "const t = JSON.parse(sessionStorage.getItem('switchyard.tokens'));"
        "t.expiresAt = Date.now() + 20000;"
        "sessionStorage.setItem('switchyard.tokens', JSON.stringify(t));"
        "return t.idToken;"
    )
    save(browser)
    browser.text_of("profile-status", "saved")
    tokens = json.loads(browser.session_storage("switchyard.tokens"))
    assert tokens["idToken"] != old_token
    assert tokens["expiresAt"] / 1000 > time.time() + 30 * 60
    add_attribute(browser, "draft", "text", "typed before the session ended")

    # The session ends: the ID token has expired and the refresh token is no
    # longer accepted (as after a revocation).
    browser.driver.execute_script(
        "const t = JSON.parse(sessionStorage.getItem('switchyard.tokens'));"
        "t.expiresAt = 0; t.refreshToken = 'revoked';"
        "sessionStorage.setItem('switchyard.tokens', JSON.stringify(t));"
    )
    save(browser)

    # Sent to sign in, told why, and after signing in the edit is back.
    browser.wait_path("/signin.html")
    browser.text_of("signin-notice", "edits you had not saved are kept")
    browser.screenshot("12-session-expired")
    sign_in(browser, email, PASSWORD)
    browser.wait_path("/profile.html")
    assert profile_rows(browser) == {
        "draft": ("text", "typed before the session ended"),
        "note": ("text", "saved with a refreshed token"),
    }
    browser.text_of("profile-notice", "brought back")
    browser.screenshot("13-draft-restored")

    save(browser)
    browser.text_of("profile-status", "saved")
    browser.driver.refresh()
    browser.wait_ready("the profile after saving the draft")
    assert profile_rows(browser)["draft"] == ("text", "typed before the session ended")


def test_forgotten_password_is_reset_with_the_emailed_code(site_system, open_browser):
    site = site_system.site_url
    email = new_email("forgot")
    site_system.stack.create_user(email, PASSWORD)
    new_password = "Another-pass-2026"
    browser = open_browser()

    browser.open(f"{site}/signin.html")
    browser.driver.find_element(By.LINK_TEXT, "Forgot your password?").click()
    browser.wait_path("/forgot.html")
    assert unlabelled_controls(browser) == []
    browser.screenshot("14-forgot")
    browser.fill("forgot-email", email)
    browser.click("forgot-button")
    browser.visible("reset-form")
    assert browser.by_id("reset-address").text == email

    # A password too short to be accepted is explained next to the field.
    browser.fill("reset-code", CONFIRMATION_CODE)
    browser.fill("reset-password", "short")
    browser.click("reset-button")
    assert "8 characters" in browser.text_of("reset-password-error", "8 characters")
    assert browser.by_id("reset-password").get_attribute("aria-invalid") == "true"
    browser.screenshot("15-forgot-reset-error")

    browser.fill("reset-password", new_password)
    browser.click("reset-button")
    browser.wait_path("/signin.html")
    browser.text_of("signin-notice", "password was changed")
    sign_in(browser, email, new_password)
    browser.wait_path("/profile.html")
    assert browser.by_id("profile-email").text == email


def test_wrong_password_is_explained_next_to_the_password(site_system, open_browser):
    site = site_system.site_url
    email = new_email("wrong")
    site_system.stack.create_user(email, PASSWORD)
    browser = open_browser()

    browser.open(f"{site}/signin.html")
    sign_in(browser, email, "Not-the-password-1")

    message = browser.text_of("password-error", "wrong")
    assert "email or password is wrong" in message.lower()
    assert browser.driver.switch_to.active_element.get_attribute("id") == "password"
    assert browser.driver.execute_script("return location.pathname") == "/signin.html"
    browser.screenshot("16-signin-wrong-password")

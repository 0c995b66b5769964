"""In Chromium: sign in, break a rule and see why, fix and save it, redrive.

The console runs on Django's live server, AWS is a moto server, and the
connector is a tiny Lambda Invoke endpoint on 127.0.0.1 (boto3 reaches it
through ``AWS_ENDPOINT_URL_LAMBDA``). Screenshots go to test-artifacts/.
"""

import json
import shutil
import tempfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from django.contrib.auth import get_user_model

from switchyard_console.ops.management.commands.create_operator import role_group
from tests.conftest import SERVICES, VALID_RULES, make_resources

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
PASSWORD = "browser-test-password-1"

if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
    pytest.skip("Chromium and chromedriver are not installed", allow_module_level=True)


class LambdaEndpoint(BaseHTTPRequestHandler):
    """The Lambda Invoke API for one answer: the connector delivered."""

    calls: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        payload = json.loads(self.rfile.read(length) or b"{}")
        LambdaEndpoint.calls.append({"path": self.path, "payload": payload})
        body = json.dumps({"delivered": 1, "failed": 0}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture
def lambda_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), LambdaEndpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    LambdaEndpoint.calls = []
    url = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", url)
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="console-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1400,1000",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(5)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def shoot(driver: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def set_editor(driver: Any, field_id: str, text: str) -> None:
    """Type into a CodeMirror editor the way its API does."""
    driver.execute_script(
        "document.getElementById(arguments[0]).codemirror.setValue(arguments[1]);",
        field_id,
        text,
    )


def test_operator_fixes_a_rule_and_redrives_a_failure(
    aws_server, lambda_endpoint, live_server, browser, settings, transactional_db
):
    from selenium.webdriver.common.by import By

    clients = {name: boto3.client(name, region_name="us-east-1") for name in SERVICES}
    aws = make_resources(clients, settings)
    aws.put_rules(VALID_RULES, actor="seed")
    record_id = aws.add_failure(event={"id": "evt-browser", "type": "order.created"})
    user = get_user_model().objects.create_user(
        "olivia", password=PASSWORD, is_staff=True
    )
    user.groups.add(role_group("operator"))

    # Sign in.
    browser.get(f"{live_server.url}/admin/login/")
    browser.find_element(By.ID, "id_username").send_keys("olivia")
    browser.find_element(By.ID, "id_password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    assert browser.find_element(By.ID, "dashboard")
    shoot(browser, "01-overview")

    # Edit the second rule with a mistake: a pattern leaf must be a list.
    browser.get(f"{live_server.url}/admin/console/routingrules/")
    rows = browser.find_elements(By.CSS_SELECTOR, "#rules-table a.changelink")
    rows[1].click()
    assert browser.find_element(By.CSS_SELECTOR, "#id_pattern + .CodeMirror")
    set_editor(browser, "id_pattern", '{"type": "PushEvent"}')
    browser.find_element(By.ID, "review").click()
    errors = browser.find_element(By.ID, "pattern-errors")
    assert "type" in errors.text
    shoot(browser, "02-rule-with-error")

    # Fix it, review the diff, save.
    set_editor(browser, "id_pattern", '{"type": ["PushEvent", "PullRequestEvent"]}')
    browser.find_element(By.ID, "review").click()
    diff = browser.find_element(By.CSS_SELECTOR, ".console-diff").text
    assert any(
        line.startswith("+") and "PullRequestEvent" in line
        for line in diff.splitlines()
    )
    shoot(browser, "03-review-diff")
    browser.find_element(By.ID, "save").click()
    message = browser.find_element(By.CSS_SELECTOR, "ul.messagelist li.success").text
    assert "were saved as version" in message
    shoot(browser, "04-saved")
    document, live = aws.live_rules()
    assert document["rules"][1]["pattern"]["type"] == ["PushEvent", "PullRequestEvent"]
    assert live["Metadata"]["saved-by"] == "olivia"

    # The whole document in the JSON editor: problems are listed by rule
    # and the offending rule is marked in the editor itself.
    browser.get(f"{live_server.url}/admin/console/routingrules/edit/")
    broken = json.loads(json.dumps(document))
    broken["rules"][0]["targets"] = [{"params": {}}]
    set_editor(browser, "id_document", json.dumps(broken, indent=2))
    browser.find_element(By.ID, "review").click()
    problems = browser.find_element(By.ID, "problems").text
    assert "Rule 1: new-orders-to-crm" in problems
    assert browser.find_elements(By.CSS_SELECTOR, ".CodeMirror .cm-problem-line")
    shoot(browser, "05-json-editor-problems")
    assert aws.live_rules()[1]["ETag"] == live["ETag"]

    # Redrive the failure from its page.
    browser.get(f"{live_server.url}/admin/console/failedevent/")
    shoot(browser, "06-failed-events")
    browser.find_element(
        By.LINK_TEXT, aws.store().get(record_id)["last_failed_at"]
    ).click()
    browser.find_element(By.ID, "redrive").click()
    assert (
        "switchyard-test-connector-webhook" in browser.find_element(By.ID, "plan").text
    )
    shoot(browser, "07-confirm-redrive")
    browser.find_element(By.ID, "confirm-redrive").click()
    message = browser.find_element(By.CSS_SELECTOR, "ul.messagelist li.success").text
    assert "was redriven" in message
    shoot(browser, "08-redriven")

    assert len(LambdaEndpoint.calls) == 1
    call = LambdaEndpoint.calls[0]
    assert "switchyard-test-connector-webhook" in call["path"]
    assert call["payload"]["deliveries"][0]["event"]["id"] == "evt-browser"
    assert aws.store().get(record_id)["status"] == "redriven"

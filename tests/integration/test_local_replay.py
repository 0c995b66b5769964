"""The whole local system on the 800 real GitHub events, end to end.

Every event must be accounted for: delivered exactly once to its
destination, or stored as a failure record; none lost, none duplicated.
"""

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from switchyard_local.demo import Demo, load_demo_events
from switchyard_local.stack import LocalStack

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    logs = tmp_path_factory.mktemp("replay") / "functions.log"
    with LocalStack(stage="itest", site=False, console=False, log_path=logs) as stack:
        yield stack


def request(url: str, method: str = "GET", token: str | None = None, **headers):
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, method=method, headers=headers), timeout=30
        ) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_stack_starts_fast_enough_for_tests(stack):
    # The target is under 15 s on an idle machine; the bound leaves room for
    # a busy CI runner and still catches a startup that became serial.
    assert stack.startup_seconds < 60
    assert not stack.skipped
    assert set(stack.functions) == {
        "switchyard-itest-router",
        "switchyard-itest-connector-dynamodb",
        "switchyard-itest-connector-webhook",
        "switchyard-itest-dlq-processor",
        "switchyard-itest-user-api",
    }


def test_user_api_answers_through_the_gateway_with_a_real_token(stack):
    tokens = stack.create_user("reader@example.com", "Passw0rd-x1")

    refused = request(f"{stack.api_url}/user")
    answered = request(f"{stack.api_url}/user", token=tokens["IdToken"])

    assert refused[0] == 401
    assert answered[0] == 404
    assert json.loads(answered[2])["error"]["code"] == "profile_not_found"


def test_every_replayed_event_is_delivered_once_or_parked(stack):
    tokens = stack.create_user("sender@example.com", "Passw0rd-x1")
    events = load_demo_events(REPO_ROOT)
    demo = Demo(stack)
    demo.prepare()
    try:
        demo.replay(events, tokens["IdToken"])
        settled = demo.wait(timeout=180)
        result = demo.tally()
    finally:
        demo.stop()

    assert settled
    assert result.sent == len(events) == 800
    assert result.adds_up
    assert result.lost == []
    assert result.duplicated == []
    assert result.unexpected == []
    assert result.delivered_and_parked == []
    # The receiver refuses some opened pull requests for good: exactly those
    # must be the failure records.
    refused = {
        str(e["id"])
        for e in events
        if e["type"] == "PullRequestEvent"
        and e["payload"].get("action") == "opened"
        and demo.receiver.fails_permanently(str(e["id"]))
    }
    assert refused
    assert result.parked == len(refused)
    assert result.delivered == result.expected_routed - len(refused)


def test_site_and_console_serve_and_stop_ends_every_process(tmp_path):
    small = LocalStack(
        stage="stoptest",
        site=True,
        console=True,
        services=["user-api"],
        log_path=tmp_path / "functions.log",
    )
    with small:
        status, _, body = request(f"{small.site_url}/config.json")
        assert status == 200
        assert json.loads(body)["apiUrl"] == small.api_url
        assert small.console_url is not None
        status, _, _ = request(f"{small.console_url}/admin/login/")
        assert status == 200
        pids = small.child_pids()
        assert len(pids) >= 3

    for pid in pids:
        assert not Path(f"/proc/{pid}").exists() or _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True

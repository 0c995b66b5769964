"""Sign-in through a hosted UI: the authorization-code flow with PKCE.

Given the site served with a hosted-UI domain in its configuration (pointing
at a stand-in for Cognito's hosted UI, which the local system lacks); when a
person signs in and out; then the site sent an S256 challenge and a state,
exchanged the code with the matching verifier at /oauth2/token, kept the
tokens, cleaned the code out of the address bar, and on sign-out revoked the
refresh token and ended the hosted UI's session. A callback with a state the
tab did not send is refused without any token request.
"""

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_hosted_ui import FakeHostedUi
from site_browser import Browser

from switchyard_local.http_server import LoopbackServer
from switchyard_local.moto_server import free_port
from switchyard_local.site_server import SiteApp

PASSWORD = "Switch-yard-2026"


@pytest.fixture(scope="module")
def hosted(site_system) -> Iterator[tuple[str, FakeHostedUi]]:
    """A second copy of the site, configured for the stand-in hosted UI."""
    stack = site_system.stack
    tokens = stack.create_user(f"hosted-{uuid.uuid4().hex[:8]}@example.com", PASSWORD)
    site_port = free_port()
    site_origin = f"http://127.0.0.1:{site_port}"
    fake = FakeHostedUi(stack.outputs["UserPoolClientId"], tokens, site_origin)
    ui_server = LoopbackServer(fake, "fake-hosted-ui").start()
    config = {
        "apiUrl": stack.api_url,
        "region": "us-east-1",
        "userPoolId": stack.outputs["UserPoolId"],
        "clientId": stack.outputs["UserPoolClientId"],
        "hostedUiDomain": ui_server.url,
        "redirectUri": f"{site_origin}/callback.html",
    }
    site_server = LoopbackServer(
        SiteApp(Path(stack.root) / "site", config), "hosted-site", site_port
    ).start()
    try:
        yield site_origin, fake
    finally:
        site_server.stop()
        ui_server.stop()


@pytest.fixture
def browser(artifacts: Path) -> Iterator[Browser]:
    started = Browser(artifacts)
    try:
        yield started
    finally:
        started.close()


def test_hosted_sign_in_exchanges_the_code_with_the_pkce_verifier(hosted, browser):
    site, fake = hosted

    browser.open(f"{site}/signin.html")
    assert not browser.by_id("signin-form").is_displayed()
    browser.screenshot("20-hosted-signin")
    browser.click("hosted-signin-button")

    browser.wait_path("/profile.html")
    sent = fake.authorize_requests[-1]
    exchange = fake.token_requests[-1]
    assert sent["code_challenge_method"] == "S256"
    assert exchange["grant_type"] == "authorization_code"
    assert exchange["redirect_uri"] == f"{site}/callback.html"
    stored = browser.session_storage("switchyard.tokens")
    assert fake.tokens["IdToken"] in stored
    assert browser.session_storage("switchyard.oauth.pending") is None
    assert "code=" not in browser.driver.current_url

    browser.click("signout-button")
    browser.wait_path("/index.html")
    assert fake.revoked == [fake.tokens["RefreshToken"]]
    assert fake.logouts[-1]["client_id"] == fake.client_id
    assert browser.session_storage("switchyard.tokens") is None


def test_hosted_callback_refuses_a_state_this_tab_did_not_send(hosted, browser):
    site, fake = hosted
    exchanges_before = len(fake.token_requests)

    browser.open(f"{site}/callback.html?code=stolen-code&state=forged-state")

    browser.text_of("callback-status", "not started from this browser tab")
    assert browser.by_id("callback-retry").is_displayed()
    assert len(fake.token_requests) == exchanges_before
    assert browser.session_storage("switchyard.tokens") is None
    browser.screenshot("21-hosted-callback-refused")

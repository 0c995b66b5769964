"""The site's JavaScript modules, run in the browser on the site's origin.

The parts of the site a person cannot easily drive from the pages (PKCE, the
state check of the hosted-UI callback, the change set a save sends, how API
errors are read) are checked here directly, in the same Chromium the pages
run in, with Python computing the expected answers independently.
"""

import base64
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from site_browser import Browser, run_module

HOSTED_CONFIG = {
    "apiUrl": "http://127.0.0.1:9/local",
    "region": "us-east-1",
    "userPoolId": "us-east-1_example",
    "clientId": "exampleclient",
    "hostedUiDomain": "auth.example.test",
    "redirectUri": "https://site.example.test/callback.html",
}


@pytest.fixture(scope="module")
def page(site_system, artifacts: Path) -> Iterator[Browser]:
    browser = Browser(artifacts)
    try:
        browser.open(f"{site_system.site_url}/index.html")
        yield browser
    finally:
        browser.close()


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def test_pkce_challenge_is_the_base64url_sha256_of_the_verifier(page):
    verifiers = ["a" * 43, "dev-verifier_with.all~chars-0123456789" * 2]
    answers = run_module(
        page,
        "/js/hosted.js",
        f"return Promise.all({json.dumps(verifiers)}.map(m.codeChallenge));",
    )
    assert answers == [s256(v) for v in verifiers]


def test_hosted_sign_in_url_sends_s256_challenge_state_and_callback(page):
    answer = run_module(
        page,
        "/js/hosted.js",
        "const c = await import('/js/config.js');"
        f"const config = c.normalizeConfig({json.dumps(HOSTED_CONFIG)});"
        "const url = await m.hostedUiUrl(config, 'oauth2/authorize', 'profile.html');"
        "return {url, pending: sessionStorage.getItem('switchyard.oauth.pending')};",
    )
    url = urlsplit(answer["url"])
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    pending = json.loads(answer["pending"])

    assert (url.scheme, url.netloc, url.path) == (
        "https",
        "auth.example.test",
        "/oauth2/authorize",
    )
    assert query["response_type"] == "code"
    assert query["client_id"] == "exampleclient"
    assert query["redirect_uri"] == HOSTED_CONFIG["redirectUri"]
    assert query["code_challenge_method"] == "S256"
    assert query["code_challenge"] == s256(pending["verifier"])
    assert 43 <= len(pending["verifier"]) <= 128
    assert query["state"] == pending["state"] and len(pending["state"]) >= 20
    assert "openid" in query["scope"].split()


def test_callback_with_a_state_it_did_not_send_exchanges_nothing(page):
    script = """
        const c = await import('/js/config.js');
        const config = c.normalizeConfig(CONFIG);
        sessionStorage.setItem('switchyard.oauth.pending', JSON.stringify(
            {state: 'sent-state', verifier: 'v'.repeat(43), next: 'profile.html'}));
        const calls = [];
        const realFetch = window.fetch;
        window.fetch = (...args) => {
            calls.push(String(args[0]));
            return realFetch(...args);
        };
        try {
            await m.completeSignIn(config, '?code=stolen&state=forged');
            return 'exchanged';
        } catch (error) {
            const pendingLeft = sessionStorage.getItem('switchyard.oauth.pending');
            return {code: error.code, calls, pendingLeft};
        } finally {
            window.fetch = realFetch;
        }
    """
    answer = run_module(
        page, "/js/hosted.js", script.replace("CONFIG", json.dumps(HOSTED_CONFIG))
    )
    assert answer == {"code": "StateMismatch", "calls": [], "pendingLeft": None}


def test_sign_in_only_ever_continues_to_a_page_of_the_site(page):
    nexts = [
        "profile.html",
        "https://evil.example/x",
        "//evil.example",
        "javascript:alert(1)",
        "",
    ]
    answer = run_module(
        page, "/js/session.js", f"return {json.dumps(nexts)}.map((n) => m.safeNext(n));"
    )
    assert answer == ["profile.html"] * 5
    assert (
        run_module(page, "/js/session.js", "return m.safeNext('index.html');")
        == "index.html"
    )


def test_a_save_sends_only_what_changed_and_null_for_removals(page):
    answer = run_module(
        page,
        "/js/attributes.js",
        "const base = {city: 'Lisbon', age: 30, tags: ['a'], gone: true};"
        "const edited = {city: 'Lisbon', age: 31, tags: ['a'], added: {k: 1}};"
        "const changes = m.changesBetween(base, edited);"
        "const latest = {city: 'Porto', age: 30, tags: ['a'], gone: true, theirs: 'x'};"
        "return {changes, merged: m.applyChanges(latest, changes)};",
    )
    assert answer["changes"] == {"age": 31, "added": {"k": 1}, "gone": None}
    assert answer["merged"] == {
        "city": "Porto",
        "age": 31,
        "tags": ["a"],
        "theirs": "x",
        "added": {"k": 1},
    }


def test_numbers_keep_the_digits_typed_and_read(page):
    script = """
        const typed = m.parseValue('12345678901234567890.123456789', 'number');
        const read = JSON.parse('{"n": 0.10000000000000000000001}', m.keepNumberText);
        return {
            typed: JSON.stringify({n: typed.value}),
            read: m.formatValue(read.n),
            bad: m.parseValue('1e999', 'number').error || null,
            word: m.parseValue('twelve', 'number').error || null,
        };
    """
    answer = run_module(page, "/js/attributes.js", script)
    assert answer["typed"] == '{"n":12345678901234567890.123456789}'
    assert answer["read"] == "0.10000000000000000000001"
    assert answer["bad"] and answer["word"]


def test_api_problems_are_read_back_to_the_attribute_they_name(page):
    body = {
        "error": {
            "code": "validation_failed",
            "message": "the body has 2 problems",
            "request_id": "req-1",
            "problems": [
                {
                    "field": "/home~1town/0",
                    "code": "invalid_string",
                    "message": "bad text",
                },
                {
                    "field": "/2fast",
                    "code": "invalid_attribute_name",
                    "message": "must start",
                },
            ],
        }
    }
    answer = run_module(
        page,
        "/js/api.js",
        f"const e = m.parseApiError(400, {json.dumps(body)});"
        "const c = m.parseApiError(412, {error: {code: 'precondition_failed',"
        " message: 'changed', request_id: null}});"
        "return {fields: e.fields, requestId: e.requestId, message: e.message,"
        " conflict: c instanceof m.ConflictError};",
    )
    assert answer["fields"] == [
        {"field": "home/town", "code": "invalid_string", "message": "Bad text."},
        {"field": "2fast", "code": "invalid_attribute_name", "message": "Must start."},
    ]
    assert answer["requestId"] == "req-1"
    assert answer["message"].startswith("Some attributes cannot be saved")
    assert answer["conflict"] is True


def test_events_wait_for_a_session_then_leave_with_its_token(page):
    script = """
        sessionStorage.removeItem('switchyard.events.parked');
        const calls = [];
        const fetchImpl = (url, init) => {
            calls.push({url, init: {...init, headers: init.headers}});
            return Promise.resolve({status: 200});
        };
        let token = null;
        const session = {currentIdToken: () => token};
        const sender = new m.EventSender('http://api.example.test/local', session,
                                         {fetchImpl});
        sender.record('site.page_view');
        sender.record('site.click', {control: 'signup.submit'});
        sender.flush();
        const whileSignedOut = calls.length;
        token = 'header.payload.signature';
        sender.record('site.click', {control: 'profile.save'});
        sender.flush();
        return {
            whileSignedOut,
            parkedLeft: sessionStorage.getItem('switchyard.events.parked'),
            calls: calls.map((c) => ({url: c.url, auth: c.init.headers.Authorization,
                                      keepalive: c.init.keepalive,
                                      body: JSON.parse(c.init.body)})),
        };
    """
    answer = run_module(page, "/js/events.js", script)

    assert answer["whileSignedOut"] == 0
    assert answer["parkedLeft"] is None
    calls = answer["calls"]
    assert [c["body"]["type"] for c in calls] == [
        "site.page_view",
        "site.click",
        "site.click",
    ]
    assert [c["body"].get("control") for c in calls] == [
        None,
        "signup.submit",
        "profile.save",
    ]
    for call in calls:
        assert call["url"] == "http://api.example.test/local/events"
        assert call["auth"] == "header.payload.signature"
        assert call["keepalive"] is True
        body = call["body"]
        assert body["page"] == "/index.html" and body["source"] == "switchyard.site"
        assert body["id"] and body["occurred_at"] and body["sent_at"]
        assert "header.payload.signature" not in json.dumps(body)
    assert len({c["body"]["id"] for c in calls}) == 3

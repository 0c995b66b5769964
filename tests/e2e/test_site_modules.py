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


def test_an_edit_to_a_big_number_is_a_change_even_when_doubles_agree(page):
    script = """
        const big = (t) => m.parseValue(t, 'number').value;
        const base = {n: big('12345678901234567890123'), f: big('30.40'), s: '42'};
        const edited = {n: big('12345678901234567890124'), f: big('30.4'),
                        s: big('42')};
        return JSON.stringify(m.changesBetween(base, edited));
    """
    answer = run_module(page, "/js/attributes.js", script)
    # 30.40 and 30.4 are one number; the last digit of a 23-digit number is
    # not, and text "42" is not the number 42.
    assert json.loads(answer) == {"n": 12345678901234567890124, "s": 42}
    assert '"n":12345678901234567890124' in answer


def test_a_null_attribute_round_trips_through_the_editor_unchanged(page):
    script = """
        const type = m.typeOf(null);
        const text = m.formatValue(null, type);
        const parsed = m.parseValue(text, type);
        const base = {gone: null, flag: false, nested: {a: [1, null, {b: true}]}};
        const edited = {};
        for (const [name, value] of Object.entries(base)) {
            const t = m.typeOf(value);
            edited[name] = m.parseValue(m.formatValue(value, t), t).value;
        }
        return {type, text, parsed, changes: m.changesBetween(base, edited)};
    """
    answer = run_module(page, "/js/attributes.js", script)
    assert answer["parsed"] == {"value": None}
    assert answer["text"] == "null"
    assert answer["changes"] == {}


def test_a_draft_keeps_the_exact_numbers_of_its_baseline(page):
    script = """
        const a = await import('/js/attributes.js');
        const storage = new Map();
        const store = {setItem: (k, v) => storage.set(k, v),
                       getItem: (k) => storage.get(k) ?? null,
                       removeItem: (k) => storage.delete(k)};
        const baseline = {n: a.parseValue('12345678901234567890123', 'number').value};
        m.saveDraft('sub-1', {rows: [], baseline, etag: '"1"'}, store);
        const back = m.loadDraft('sub-1', store);
        return [a.formatValue(back.baseline.n), typeof back.savedAt];
    """
    answer = run_module(page, "/js/drafts.js", script)
    assert answer == ["12345678901234567890123", "number"]


def test_events_refused_with_401_wait_for_a_new_token_instead_of_resending(page):
    script = """
        sessionStorage.removeItem('switchyard.events.parked');
        const calls = [];
        const fetchImpl = (url, init) => {
            calls.push(init.headers.Authorization);
            return Promise.resolve({status: 401});
        };
        let token = 'old.token.sig';
        const session = {currentIdToken: () => token};
        const sender = new m.EventSender('http://api.example.test/local', session,
                                         {fetchImpl});
        sender.record('site.click', {control: 'a'});
        sender.flush();
        await new Promise((r) => setTimeout(r, 50));
        for (let i = 0; i < 5; i += 1) {
            sender.record('site.click', {control: 'b'});
            sender.flush();
            await new Promise((r) => setTimeout(r, 20));
        }
        const withOldToken = calls.length;
        token = 'new.token.sig';
        sender.flush();
        await new Promise((r) => setTimeout(r, 50));
        const parked = sessionStorage.getItem('switchyard.events.parked');
        sessionStorage.removeItem('switchyard.events.parked');
        return {withOldToken, calls, parked: JSON.parse(parked || '[]').length};
    """
    answer = run_module(page, "/js/events.js", script)
    # One request with the refused token, the rest wait; the new token
    # takes all six.
    assert answer["withOldToken"] == 1
    assert answer["calls"][1:] == ["new.token.sig"] * 6
    assert answer["parked"] == 6


def test_events_never_throw_when_fetch_or_storage_fail(page):
    script = """
        sessionStorage.removeItem('switchyard.events.parked');
        const thrown = [];
        const fetchImpl = () => { throw new TypeError('keepalive quota'); };
        const session = {currentIdToken: () => 'tok.en.sig'};
        const sender = new m.EventSender('http://api.example.test/local', session,
                                         {fetchImpl});
        try { sender.record('site.click'); sender.flush(); }
        catch (error) { thrown.push('fetch: ' + error.message); }
        const realSet = Storage.prototype.setItem;
        Storage.prototype.setItem = () => {
            throw new DOMException('full', 'QuotaExceededError');
        };
        const offline = new m.EventSender('http://api.example.test/local',
                                          {currentIdToken: () => null}, {fetchImpl});
        try { offline.record('site.click'); offline.flush(); }
        catch (error) { thrown.push('storage: ' + error.message); }
        finally { Storage.prototype.setItem = realSet; }
        await new Promise((r) => setTimeout(r, 50));
        return thrown;
    """
    assert run_module(page, "/js/events.js", script) == []


def test_two_requests_at_expiry_share_one_refresh(page):
    script = """
        const storage = new Map();
        const store = {setItem: (k, v) => storage.set(k, v),
                       getItem: (k) => storage.get(k) ?? null,
                       removeItem: (k) => storage.delete(k)};
        const config = {cognitoEndpoint: 'http://127.0.0.1:9/', clientId: 'c'};
        const session = new m.Session(config, {storage: store});
        const jwt = (n) => 'h.' + btoa(JSON.stringify({iat: 0, exp: 3600, n})) + '.s';
        store.setItem('switchyard.tokens', JSON.stringify(
            {idToken: jwt(0), refreshToken: 'r', expiresAt: Date.now() + 1000}));
        let refreshes = 0;
        session.cognito.refresh = async (refreshToken) => {
            refreshes += 1;
            await new Promise((r) => setTimeout(r, 30));
            return {idToken: jwt(refreshes), accessToken: 'a', refreshToken};
        };
        const tokens = await Promise.all([session.idToken(), session.idToken()]);
        clearTimeout(session.timer);
        return {refreshes, same: tokens[0] === tokens[1],
                kept: JSON.parse(store.getItem('switchyard.tokens')).refreshToken};
    """
    answer = run_module(page, "/js/session.js", script)
    assert answer == {"refreshes": 1, "same": True, "kept": "r"}


def test_a_forged_error_callback_shows_none_of_its_own_words(page):
    script = """
        const c = await import('/js/config.js');
        const config = c.normalizeConfig(CONFIG);
        sessionStorage.removeItem('switchyard.oauth.pending');
        const forged = '?error=access_denied&error_description=' +
            encodeURIComponent('Your account is locked, call +1 555 0100');
        try {
            await m.completeSignIn(config, forged);
            return 'accepted';
        } catch (error) {
            return {code: error.code, message: error.message};
        }
    """
    answer = run_module(
        page, "/js/hosted.js", script.replace("CONFIG", json.dumps(HOSTED_CONFIG))
    )
    assert answer["code"] == "StateMismatch"
    assert "555" not in answer["message"]


def test_attribute_names_of_object_properties_are_plain_attributes(page):
    script = """
        const edited = JSON.parse('{"constructor": "x", "__proto__": {"p": 1}}');
        const changes = m.changesBetween({toString: 'a'}, edited);
        const merged = m.applyChanges({valueOf: 1}, changes);
        return {changes: JSON.stringify(changes), merged: JSON.stringify(merged),
                polluted: ({}).p ?? null};
    """
    answer = run_module(page, "/js/attributes.js", script)
    assert json.loads(answer["changes"]) == {
        "constructor": "x",
        "__proto__": {"p": 1},
        "toString": None,
    }
    assert json.loads(answer["merged"]) == {
        "valueOf": 1,
        "constructor": "x",
        "__proto__": {"p": 1},
    }
    assert answer["polluted"] is None


def test_odd_api_error_bodies_still_become_words(page):
    script = """
        const odd = [
            m.parseApiError(400, {errors: [null, 'name is bad', 5, {message: {x: 1}}]}),
            m.parseApiError(502, '<html>Bad gateway</html>'),
            m.parseApiError(400, {error: {code: 'validation_failed', problems: null}}),
            m.parseApiError(400, {message: {html: '<b>'}, code: ['x']}),
        ];
        return odd.map((e) => ({api: e instanceof m.ApiError, message: e.message,
                                fields: e.fields}));
    """
    answer = run_module(page, "/js/api.js", script)
    assert all(item["api"] for item in answer)
    assert answer[0]["fields"] == [
        {"field": None, "code": None, "message": "Name is bad."},
        {"field": None, "code": None, "message": "Invalid."},
    ]
    assert (
        answer[1]["message"] == "The service is not answering. Try again in a moment."
    )
    assert answer[2]["message"].startswith("Some attributes cannot be saved")
    assert answer[3]["message"] == "The request was not accepted."


def test_a_busy_sign_in_service_does_not_end_the_session(page):
    script = """
        const { CognitoError } = await import('/js/cognito.js');
        const outcomes = {};
        const cases = [['TooManyRequestsException', 400],
                       ['InternalErrorException', 500],
                       ['ServiceUnavailable', 503],
                       ['NotAuthorizedException', 400]];
        for (const [code, status] of cases) {
            const storage = new Map();
            const store = {setItem: (k, v) => storage.set(k, v),
                           getItem: (k) => storage.get(k) ?? null,
                           removeItem: (k) => storage.delete(k)};
            const config = {cognitoEndpoint: 'http://127.0.0.1:9/', clientId: 'c'};
            const session = new m.Session(config, {storage: store});
            store.setItem('switchyard.tokens', JSON.stringify(
                {idToken: 'h.e30.s', refreshToken: 'r', expiresAt: Date.now() + 1000}));
            session.cognito.refresh = async () => {
                throw new CognitoError(code, 'no', null, status);
            };
            try {
                await session.refresh();
                outcomes[code] = 'refreshed';
            } catch (error) {
                outcomes[code] = [error instanceof m.SessionExpired,
                                  store.getItem('switchyard.tokens') !== null];
            }
        }
        return outcomes;
    """
    answer = run_module(page, "/js/session.js", script)
    assert answer == {
        # [ended the session, tokens kept]
        "TooManyRequestsException": [False, True],
        "InternalErrorException": [False, True],
        "ServiceUnavailable": [False, True],
        "NotAuthorizedException": [True, False],
    }


def test_a_401_after_another_request_refreshed_reuses_the_new_token(page):
    script = """
        let current = 'old';
        let refreshes = 0;
        const session = {
            idToken: async () => current,
            currentIdToken: () => current,
            refresh: async () => {
                refreshes += 1;
                await new Promise((r) => setTimeout(r, 20));
                current = 'new' + refreshes;
                return {idToken: current};
            },
            clear: () => {},
        };
        let calls = 0;
        const fetchImpl = async (url, init) => {
            calls += 1;
            const late = calls === 2 ? 80 : 5;
            await new Promise((r) => setTimeout(r, late));
            const ok = init.headers.Authorization !== 'old';
            return new Response(ok ? '{}' : '', {status: ok ? 200 : 401});
        };
        const api = new m.UserApi({apiUrl: 'http://api.example.test/local'}, session,
                                  fetchImpl);
        const answers = await Promise.all([api.request('GET'), api.request('GET')]);
        return {refreshes, statuses: answers.map((a) => a.status)};
    """
    answer = run_module(page, "/js/api.js", script)
    assert answer == {"refreshes": 1, "statuses": [200, 200]}

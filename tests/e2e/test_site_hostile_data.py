"""The profile page given hostile and unusual data, in headless Chromium.

Given a profile saved through the API with markup in its values and keys, a
23-digit number, false, null and nested JSON; when the page shows it, the
person edits one number and then types a name the API refuses (its error
message repeats the name); then no markup runs, every value comes back
exactly as stored, only the edited attribute changes, the refusal is shown
as text next to its row, no page meets a Content Security Policy error, and
the page fits a 375 px wide phone.
"""

import json
import uuid

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from site_pages import (
    add_attribute,
    profile_rows,
    row_error,
    row_named,
    save,
    set_value,
    sign_in,
)

PASSWORD = "Switch-yard-2026"
MARKUP = "<img src=x onerror=window.__xss=1><script>window.__xss=2</script>"
# Raw JSON text, so the big number reaches the API as its digits.
SEED = (
    '{"big": 12345678901234567890123, "flag": false, "none": null,'
    ' "nested": {' + json.dumps(MARKUP) + ': [1, {"deep": true}]},'
    ' "bio": ' + json.dumps(MARKUP) + ","
    ' "poem": "line one\\nline two\\r\\n"}'
)
IN_PAGE_API = """
    const done = arguments[arguments.length - 1];
    (async () => {
        const config = await (await fetch('config.json')).json();
        const token = JSON.parse(sessionStorage.getItem('switchyard.tokens')).idToken;
        const init = {method: arguments[0], headers: {Authorization: token}};
        if (arguments[1] !== null) {
            init.body = arguments[1];
            init.headers['Content-Type'] = 'application/json';
        }
        const response = await fetch(config.apiUrl + '/user', init);
        return {status: response.status, text: await response.text()};
    })().then(done, (error) => done({status: 0, text: String(error)}));
"""


def api(browser, method: str, body: str | None = None) -> dict:
    """Calls /user from the page, with the page's own token, raw text back."""
    return browser.driver.execute_async_script(IN_PAGE_API, method, body)


def no_markup_ran(browser) -> None:
    assert browser.driver.execute_script(
        "return [window.__xss, document.querySelectorAll('img, #attribute-list script')"
        ".length]"
    ) == [None, 0]


def test_hostile_and_unusual_values_round_trip_as_text(site_system, open_browser):
    site = site_system.site_url
    email = f"hostile-{uuid.uuid4().hex[:8]}@example.com"
    site_system.stack.create_user(email, PASSWORD)
    browser = open_browser()
    browser.open(f"{site}/signin.html")
    sign_in(browser, email, PASSWORD)
    browser.wait_path("/profile.html")
    browser.wait_ready("the empty profile")
    assert api(browser, "POST", SEED)["status"] == 201

    browser.open(f"{site}/profile.html")
    rows = profile_rows(browser)
    assert rows["big"] == ("number", "12345678901234567890123")
    assert rows["flag"] == ("boolean", "no")
    assert rows["none"] == ("json", "null")
    assert json.loads(rows["nested"][1]) == {MARKUP: [1, {"deep": True}]}
    assert rows["bio"] == ("text", MARKUP)
    # A text field would drop the line breaks: shown as a JSON string.
    assert rows["poem"] == ("json", json.dumps("line one\nline two\r\n"))
    no_markup_ran(browser)

    # One digit of the 23 changes: that, and only that, is saved.
    set_value(browser, "big", "12345678901234567890124")
    save(browser)
    browser.text_of("profile-status", "Your profile is saved")
    stored = api(browser, "GET")["text"]
    assert json.loads(stored) == {
        "big": 12345678901234567890124,
        "flag": False,
        "none": None,
        "nested": {MARKUP: [1, {"deep": True}]},
        "bio": MARKUP,
        "poem": "line one\nline two\r\n",
    }

    # Names that are also names of every JavaScript object's properties.
    add_attribute(browser, "constructor", "text", "a builder")
    add_attribute(browser, "toString", "number", "7")
    save(browser)
    browser.text_of("profile-status", "Your profile is saved")
    stored = json.loads(api(browser, "GET")["text"])
    assert (stored["constructor"], stored["toString"]) == ("a builder", 7)
    add_attribute(browser, "__proto__", "json", '{"polluted": true}')
    save(browser)
    assert "__proto__" in row_error(browser, "__proto__")
    assert browser.driver.execute_script("return ({}).polluted") is None
    row_named(browser, "__proto__").find_element(
        By.CSS_SELECTOR, ".attr-remove"
    ).click()

    # A new null would be read by PATCH as "remove": refused in the page.
    add_attribute(browser, "empty", "json", "null")
    save(browser)
    assert "Remove" in row_error(browser, "empty")
    row_named(browser, "empty").find_element(By.CSS_SELECTOR, ".attr-remove").click()

    # The API refuses the name and quotes it back: shown as words.
    add_attribute(browser, MARKUP, "text", "x")
    save(browser)
    assert "<img" in row_error(browser, MARKUP)
    no_markup_ran(browser)

    # A phone 375 px wide: nothing wider than the screen; focus visible.
    browser.driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 375, "height": 667, "deviceScaleFactor": 1, "mobile": True},
    )
    assert (
        browser.driver.execute_script("return document.documentElement.scrollWidth")
        <= 375
    )
    browser.screenshot("30-profile-hostile-375x667", full_page=False)
    browser.by_id("add-attribute").send_keys(Keys.SHIFT, Keys.TAB)
    focused = browser.driver.switch_to.active_element
    ring = browser.driver.execute_script(
        "const s = getComputedStyle(arguments[0]);"
        "return [s.outlineStyle, s.outlineWidth, s.boxShadow];",
        focused,
    )
    assert ring[0] != "none" or ring[2] != "none", ring

    for page in ("index", "signup", "forgot", "signin", "callback", "profile"):
        browser.driver.get(f"{site}/{page}.html")
        browser.wait_for(
            lambda d: d.execute_script("return document.readyState") == "complete",
            f"{page} to load",
        )
        width = browser.driver.execute_script(
            "return document.documentElement.scrollWidth"
        )
        assert width <= 375, f"{page}.html is {width} px wide on a 375 px phone"
        browser.screenshot(f"31-{page}-375x667", full_page=False)
    messages = browser.console()
    assert [m for m in messages if "Content Security Policy" in m] == [], messages
    assert [m for m in messages if "Uncaught" in m] == [], messages

"""Edges of an ended session on the profile page, in headless Chromium.

Given unsaved edits kept as a draft; when the page is reloaded after the
session ended (ID token expired, refresh token no longer accepted), the page
goes to sign-in before it has shown the form; then signing in again brings
the edits back: the page that never showed them must not throw them away.
"""

import uuid

from site_pages import add_attribute, profile_rows, sign_in

PASSWORD = "Switch-yard-2026"


def test_a_reload_after_the_session_ended_keeps_the_draft(site_system, open_browser):
    site = site_system.site_url
    email = f"reload-{uuid.uuid4().hex[:8]}@example.com"
    site_system.stack.create_user(email, PASSWORD)
    browser = open_browser()
    browser.open(f"{site}/signin.html")
    sign_in(browser, email, PASSWORD)
    browser.wait_path("/profile.html")
    add_attribute(browser, "unsaved", "text", "typed, then the session ended")
    browser.wait_for(
        lambda d: d.execute_script(
            "return Object.keys(sessionStorage).some((k) =>"
            " k.startsWith('switchyard.draft.')"
            " && sessionStorage.getItem(k).includes('the session ended'))"
        ),
        "the draft to be kept",
    )

    browser.driver.execute_script(
        "const t = JSON.parse(sessionStorage.getItem('switchyard.tokens'));"
        "t.expiresAt = 0; t.refreshToken = 'revoked';"
        "sessionStorage.setItem('switchyard.tokens', JSON.stringify(t));"
    )
    browser.driver.get(f"{site}/profile.html")
    browser.wait_path("/signin.html")
    browser.text_of("signin-notice", "edits you had not saved are kept")
    sign_in(browser, email, PASSWORD)
    browser.wait_path("/profile.html")
    assert profile_rows(browser) == {
        "unsaved": ("text", "typed, then the session ended")
    }
    browser.text_of("profile-notice", "brought back")

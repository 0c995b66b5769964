"""What the browser tests do on each page of the site, by its element ids."""

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from site_browser import Browser


def sign_up(browser: Browser, site_url: str, email: str, password: str) -> None:
    """Creates an account through the sign-up page and stops at the code step."""
    browser.open(f"{site_url}/signup.html")
    browser.fill("signup-email", email)
    browser.fill("signup-password", password)
    browser.fill("signup-password2", password)
    browser.click("signup-button")
    browser.visible("confirm-form")


def sign_in(browser: Browser, email: str, password: str) -> None:
    """Fills the sign-in form already on screen and submits it."""
    browser.visible("signin-form")
    browser.fill("email", email)
    browser.fill("password", password)
    browser.click("signin-button")


def profile_rows(browser: Browser) -> dict[str, tuple[str, str]]:
    """The attribute rows on the profile page: name -> (type, value text)."""
    rows = {}
    for row in browser.driver.find_elements(
        By.CSS_SELECTOR, "#attribute-list .attribute-row"
    ):
        name = row.find_element(By.CSS_SELECTOR, ".attr-name").get_attribute("value")
        kind = row.find_element(By.CSS_SELECTOR, ".attr-type").get_attribute("value")
        value = row.find_element(By.CSS_SELECTOR, ".attr-value").get_attribute("value")
        rows[name] = (kind, value)
    return rows


def add_attribute(browser: Browser, name: str, kind: str, value: str) -> None:
    """Adds a row with the keyboard focus where a person's would be."""
    browser.click("add-attribute")
    row = browser.driver.find_elements(
        By.CSS_SELECTOR, "#attribute-list .attribute-row"
    )[-1]
    name_input = row.find_element(By.CSS_SELECTOR, ".attr-name")
    assert browser.driver.switch_to.active_element == name_input, (
        "adding an attribute should put the focus on its name"
    )
    name_input.send_keys(name)
    Select(row.find_element(By.CSS_SELECTOR, ".attr-type")).select_by_value(kind)
    row.find_element(By.CSS_SELECTOR, ".attr-value").send_keys(value)


def set_value(browser: Browser, name: str, value: str) -> None:
    field = row_named(browser, name).find_element(By.CSS_SELECTOR, ".attr-value")
    field.clear()
    field.send_keys(value)


def row_named(browser: Browser, name: str):
    for row in browser.driver.find_elements(
        By.CSS_SELECTOR, "#attribute-list .attribute-row"
    ):
        if (
            row.find_element(By.CSS_SELECTOR, ".attr-name").get_attribute("value")
            == name
        ):
            return row
    raise AssertionError(
        f"no attribute row named {name!r}; rows: {profile_rows(browser)}"
    )


def row_error(browser: Browser, name: str) -> str:
    """The error shown next to one attribute row, waiting for it to appear."""
    return browser.wait_for(
        lambda d: (
            (
                slot := row_named(browser, name).find_element(
                    By.CSS_SELECTOR, ".attr-error"
                )
            ).is_displayed()
            and slot.text
        ),
        f"an error next to attribute {name!r}",
    )


def save(browser: Browser) -> None:
    browser.click("save-button")

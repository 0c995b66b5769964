"""Headless Chromium for the browser tests, and small page helpers.

The browser is the system's own /usr/bin/chromium driven by its matching
/usr/bin/chromedriver (never a downloaded build), with a fresh profile per
browser and every background network feature off, so it talks only to the
servers the test started on 127.0.0.1.
"""

import base64
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# A phone-sized viewport: the site must work there.
PHONE_SIZE = (390, 844)
WAIT_SECONDS = 20


class Browser:
    """One headless Chromium with its own profile directory."""

    def __init__(self, artifacts: Path, size: tuple[int, int] = PHONE_SIZE) -> None:
        self.artifacts = artifacts
        self.profile_dir = tempfile.mkdtemp(prefix="switchyard-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for argument in (
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-default-apps",
            "--disable-extensions",
            "--no-first-run",
            "--no-default-browser-check",
            "--metrics-recording-only",
            f"--user-data-dir={self.profile_dir}",
            f"--window-size={size[0]},{size[1]}",
        ):
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
        self.driver.set_page_load_timeout(WAIT_SECONDS)
        # Headless windows have a minimum width; device emulation gives the
        # page a real phone's viewport and touch-sized media queries.
        self.driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {
                "width": size[0],
                "height": size[1],
                "deviceScaleFactor": 1,
                "mobile": True,
            },
        )

    def close(self) -> None:
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile_dir, ignore_errors=True)

    # Waiting ---------------------------------------------------------

    def wait_for(self, condition: Callable[[Any], Any], what: str) -> Any:
        try:
            return WebDriverWait(self.driver, WAIT_SECONDS).until(condition)
        except TimeoutException as exc:
            # "what" may be a path ("/profile.html"): keep it one file name.
            name = "".join(c if c.isalnum() or c in ".-" else "-" for c in what)
            self.screenshot(f"timeout-{name[:40]}")
            raise AssertionError(
                f"timed out waiting for {what} on {self.driver.current_url}; "
                f"console: {self.console()}"
            ) from exc

    def open(self, url: str) -> None:
        self.driver.get(url)
        self.wait_ready(url)

    def wait_ready(self, what: str = "the page") -> None:
        """Waits until the page's script has finished setting it up."""
        self.wait_for(
            lambda d: d.execute_script(
                "return document.body && document.body.dataset.ready"
            ),
            f"{what} to be ready",
        )

    def wait_path(self, suffix: str) -> None:
        self.wait_for(
            lambda d: d.execute_script("return location.pathname").endswith(suffix),
            f"the address to end with {suffix}",
        )
        self.wait_ready(suffix)

    def visible(self, element_id: str) -> WebElement:
        return self.wait_for(
            lambda d: (el := d.find_element(By.ID, element_id)).is_displayed() and el,
            f"#{element_id} to show",
        )

    def text_of(self, element_id: str, contains: str) -> str:
        """Waits until #element_id is shown and holds ``contains``."""

        def holds(driver: Any) -> str | bool:
            element = driver.find_element(By.ID, element_id)
            text = element.text
            return element.is_displayed() and contains.lower() in text.lower() and text

        return self.wait_for(holds, f"#{element_id} to say {contains!r}")

    # Acting ------------------------------------------------------------

    def by_id(self, element_id: str) -> WebElement:
        return self.driver.find_element(By.ID, element_id)

    def fill(self, element_id: str, text: str) -> None:
        field = self.visible(element_id)
        field.clear()
        field.send_keys(text)

    def click(self, element_id: str) -> None:
        self.visible(element_id).click()

    def screenshot(self, name: str, full_page: bool = True) -> Path:
        """Saves the page as <name>.png: all of it, or what the viewport shows
        (for a modal dialog, whose backdrop covers only the viewport)."""
        self.artifacts.mkdir(parents=True, exist_ok=True)
        path = self.artifacts / f"{name}.png"
        if not full_page:
            self.driver.save_screenshot(str(path))
            return path
        content = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})[
            "cssContentSize"
        ]
        params = {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {
                "x": 0,
                "y": 0,
                "width": content["width"],
                "height": content["height"],
                "scale": 1,
            },
        }
        shot = self.driver.execute_cdp_cmd("Page.captureScreenshot", params)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def console(self) -> list[str]:
        try:
            return [entry["message"] for entry in self.driver.get_log("browser")]
        except Exception:  # diagnostics only: never fail a test here
            return []

    def session_storage(self, key: str) -> str | None:
        return self.driver.execute_script(
            "return sessionStorage.getItem(arguments[0])", key
        )


def run_module(browser: Browser, module: str, body: str) -> Any:
    """Runs ``body`` in the page with ``m`` bound to one of the site's modules.

    ``body`` is the inside of an async function; what it returns comes back
    as JSON. The page must already be open on the site's origin.
    """
    script = (
        "const done = arguments[arguments.length - 1];"
        f"import({module!r}).then(async (m) => {{ {body} }})"
        ".then((value) => done({ok: true, value}),"
        " (error) => done({ok: false, error: String(error && error.stack || error)}));"
    )
    answer = browser.driver.execute_async_script(script)
    if not answer["ok"]:
        raise AssertionError(f"{module}: {answer['error']}")
    return answer["value"]


def unlabelled_controls(browser: Browser) -> list[str]:
    """Visible form controls with no label a screen reader would read."""
    return browser.driver.execute_script(
        """
        const missing = [];
        for (const el of document.querySelectorAll('input, select, textarea')) {
            if (el.type === 'hidden' || !el.offsetParent) continue;
            const named = (el.labels && el.labels.length)
                || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
            if (!named) missing.push(el.id || el.name || el.outerHTML.slice(0, 60));
            const described = el.getAttribute('aria-describedby') || '';
            for (const id of described.split(/\\s+/)) {
                if (id && !document.getElementById(id)) {
                    missing.push(`${el.id} -> #${id}`);
                }
            }
        }
        return missing;
        """
    )

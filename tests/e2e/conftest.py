"""Fixtures for the site's browser tests: the local system and Chromium.

One local system serves every browser test here (it takes seconds to start);
its rules route the site's own events to a DynamoDB delivery table, so a
test can see downstream what the browser sent. Screenshots go to
``<repo>/test-artifacts/site/``.
"""

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# The helper modules beside this file are imported by name.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from site_browser import CHROMEDRIVER, CHROMIUM, Browser

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "site"
SITE_EVENTS_TABLE_SUFFIX = "site-events"
# Named in the rule as well as in the table, so the connector's default key
# does not matter.
SITE_EVENTS_KEY = "event_id"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@dataclass(frozen=True)
class SiteSystem:
    """The running local system and the table the site's events land in."""

    stack: Any
    events_table: str

    @property
    def site_url(self) -> str:
        return str(self.stack.site_url)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


# Package scope (this directory has an __init__.py for it): the system
# stops when the browser tests end, not when the whole test run does.
@pytest.fixture(scope="package")
def site_system(artifacts: Path) -> Iterator[SiteSystem]:
    """The local system with the site, and a rule for the site's events."""
    for program in (CHROMIUM, CHROMEDRIVER):
        if not Path(program).is_file():
            pytest.fail(f"{program} is missing: install chromium and chromium-driver")

    from switchyard_local.stack import LocalStack

    log = artifacts / "local-stack.log"
    log.unlink(missing_ok=True)
    with LocalStack(stage="local", site=True, console=False, log_path=log) as stack:
        if not stack.site_url:
            pytest.fail("the local stack did not serve the site")
        table = stack.create_delivery_table(
            SITE_EVENTS_TABLE_SUFFIX, key=SITE_EVENTS_KEY
        )
        stack.put_rules(
            {
                "rules": [
                    {
                        "name": "site-events-to-table",
                        "enabled": True,
                        "pattern": {"source": ["switchyard.site"]},
                        "targets": [
                            {
                                "connector": "dynamodb",
                                "params": {"table": table, "key": SITE_EVENTS_KEY},
                            }
                        ],
                    }
                ]
            }
        )
        yield SiteSystem(stack, table)


@pytest.fixture
def open_browser(artifacts: Path) -> Iterator[Callable[[], Browser]]:
    """Starts browsers on demand (one per tab-owner) and closes them all."""
    started: list[Browser] = []

    def start() -> Browser:
        browser = Browser(artifacts)
        started.append(browser)
        return browser

    yield start
    for browser in started:
        browser.close()

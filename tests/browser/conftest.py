"""Browser tests: Debian's chromium driven by Playwright against a live server. Screenshots go
to SCREENSHOT_DIR (var/screenshots by default; README's come from docs/screenshots)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
# Playwright's sync API runs an event loop on the test's thread; the ORM calls the tests make
# between page actions are ordinary synchronous code all the same.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        if os.getenv("CI"):
            pytest.fail("CI must install chromium (apt-get install -y chromium)")
        pytest.skip("needs Debian's chromium: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            # Containers give /dev/shm little room and no GPU: without these, rendering (and
            # so screenshots) can stall under load.
            args=["--disable-dev-shm-usage", "--disable-gpu"],
        )
        yield browser
        browser.close()


@pytest.fixture
def screenshots() -> Path:
    directory = Path(os.getenv("SCREENSHOT_DIR", ROOT / "var/screenshots"))
    directory.mkdir(parents=True, exist_ok=True)
    return directory

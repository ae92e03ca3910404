"""Debian's Chromium driven by Playwright, for the browser tests of the playground and the labeling screens."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian package chromium is not installed")


@contextmanager
def chromium_page() -> Iterator[Page]:
    """A page in Debian's Chromium. Start it after the test's own database work: Playwright's sync API keeps an
    event loop in this thread, where Django then refuses ORM calls."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(30_000)
            # Shown with a failing test's output: what the page's script said.
            page.on("console", lambda message: print(f"console {message.type}: {message.text}"))
            page.on("pageerror", lambda error: print(f"page error: {error}"))
            yield page
        finally:
            browser.close()

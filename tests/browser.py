"""Debian's Chromium driven by Playwright, for the browser tests of the playground and the labeling screens."""

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import pytest
from django.db import connections
from playwright.sync_api import Page, sync_playwright

T = TypeVar("T")

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


def outside_the_browser_loop(work: Callable[[], T]) -> T:
    """Run ORM work in a thread of its own: Playwright's sync API keeps an event loop in this one."""

    def in_thread() -> T:
        try:
            return work()
        finally:
            connections.close_all()  # this thread's connection, not the test's

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(in_thread).result()


@contextmanager
def chromium_page(*, viewport: dict[str, int] | None = None) -> Iterator[Page]:
    """A page in Debian's Chromium. Start it after the test's own database work: Playwright's sync API keeps an
    event loop in this thread, where Django then refuses ORM calls."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=viewport or {"width": 1280, "height": 900})
            page.set_default_timeout(30_000)
            # Shown with a failing test's output: what the page's script said.
            page.on("console", lambda message: print(f"console {message.type}: {message.text}"))
            page.on("pageerror", lambda error: print(f"page error: {error}"))
            yield page
        finally:
            browser.close()

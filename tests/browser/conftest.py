"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright's sync API against
pytest-django's live_server.

Needs: `pip install playwright` (bundles the driver; no `playwright install`) and
`apt-get install chromium`. Missing either fails under CI=true and skips elsewhere.
"""
import os
import re
import shutil
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest

from tests.conftest import require_service

# Playwright's sync API runs an event loop in this thread; Django's async-unsafe guard would
# then refuse ORM calls made by the tests themselves. Only for the browser tests.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path(os.environ.get("FORUM_HELPER_CHROMIUM", "/usr/bin/chromium"))
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
VIEWPORT = {"width": 1280, "height": 900}

try:
    from playwright.sync_api import Browser, Page, sync_playwright
except ImportError:  # pragma: no cover - reported by the fixture below
    sync_playwright = None  # type: ignore[assignment]


@pytest.fixture(scope="session")
def browser() -> Iterator["Browser"]:
    require_service("playwright (pip package)", sync_playwright is not None,
                    "install it into the venv: .venv/bin/pip install playwright")
    require_service("Chromium", CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK),
                    f"install it: apt-get install -y chromium (expected at {CHROMIUM})")
    from django.db import connections

    test_thread_connections = {alias: connections[alias] for alias in connections}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        # From here on Playwright's event loop stays registered as this thread's running loop,
        # and Django's connection handler then hands out a second, fresh connection per alias
        # (its async-context storage). That one lacks what the test-database setup recorded
        # on the first, above all the serialized migration rows (reference library, default
        # ruleset) that serialized_rollback restores: once any earlier test had created the
        # test database, the restore was silently skipped. Keep one connection per alias.
        for alias, connection in test_thread_connections.items():
            connections[alias] = connection
            assert connections[alias] is connection
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser: "Browser") -> Iterator["Page"]:
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.dialogs = []  # type: ignore[attr-defined]
    page.js_errors = []  # type: ignore[attr-defined]

    def on_dialog(dialog) -> None:
        page.dialogs.append((dialog.type, dialog.message))  # type: ignore[attr-defined]
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda error: page.js_errors.append(str(error)))  # type: ignore[attr-defined]
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def demo(db) -> dict[str, str]:
    """`demo_setup` run in the test database; returns the demo users' passwords from its output."""
    from django.core.management import call_command

    from forum_helper.moderation.models import QueueItem

    out = StringIO()
    call_command("demo_setup", stdout=out)
    text = out.getvalue()
    passwords = dict(re.findall(r"(demo-moderator|demo-admin) / (\S+)", text))
    assert set(passwords) == {"demo-moderator", "demo-admin"}, text
    assert QueueItem.objects.exists(), f"demo_setup queued nothing (screening did not run?):\n{text}"
    return passwords


def login(page: "Page", base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/accounts/login/?next=/queue/")
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', password)
    page.click('form.login button[type="submit"]')
    page.wait_for_url(re.compile(r"/queue/"))


def copy_if_missing(source: Path, target: Path) -> None:
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)

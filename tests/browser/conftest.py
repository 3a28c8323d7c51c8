"""Shared fixtures for browser tests: Debian's Chromium driven by Playwright (sync API).

- ``browser``: one Chromium per session (``/usr/bin/chromium``; Playwright never
  downloads a browser here). Tests that use it are marked ``@pytest.mark.browser``.
- ``page``: a fresh browser context and page per test, closed afterwards.
- ``staff_user``: a staff superuser in Django's default database; ``.raw_password`` holds its password.
- ``login(page, base_url, user)``: logs in through the admin's login form.
- ``screenshot(page, name)``: saves ``var/screenshots/<name>.png`` and returns its path.

Browser tests run against pytest-django's ``live_server`` in this process; a
module using it sets ``os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"``
(Playwright's sync API runs an event loop in the test thread).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.backends import REPO_ROOT

CHROMIUM = os.environ.get("NOVAWEB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOT_DIR = REPO_ROOT / "var" / "screenshots"


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: run scripts/setup.sh (it installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def staff_user(django_user_model):
    password = "browser-test-password"
    user = django_user_model.objects.create_superuser("browser-admin", "admin@example.invalid", password)
    user.raw_password = password
    return user


def _login(page, base_url: str, user) -> None:
    page.goto(f"{base_url}/admin/login/?next=/admin/")
    page.fill("#id_username", user.get_username())
    page.fill("#id_password", user.raw_password)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base_url}/admin/")


@pytest.fixture
def login():
    """``login(page, base_url, user)``: sign in through the admin's login form."""
    return _login


@pytest.fixture
def screenshot():
    def take(page, name: str) -> Path:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOT_DIR / f"{name}.png"
        page.screenshot(path=str(path), full_page=False)
        return path

    return take

"""Flavor editing in Chromium: a bad value shows Nova's message, a good one is saved and listed."""

import os

import pytest

from inventory.models import Flavor

# pytest-django's live_server runs in this process; Playwright's sync API keeps an event loop here.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("backend", ["sqlite"])
def test_edit_a_flavor_bad_then_good(backend, make_db, nova_db_alias, live_server, page, staff_user, login):
    nova_db_alias(make_db("dump"), alias="nova")
    login(page, live_server.url, staff_user)

    page.goto(f"{live_server.url}/admin/inventory/flavor/")
    page.click("text=m1.medium")
    page.wait_for_url(f"{live_server.url}/admin/inventory/flavor/3/change/")

    page.fill("#id_memory_mb", "0")
    page.click("input[name=_save]")
    page.locator(".errornote").wait_for()
    assert page.locator(".field-memory_mb .errorlist").inner_text() == "ram must be >= 1"
    assert Flavor.objects.get(pk=3).memory_mb == 4096

    page.fill("#id_memory_mb", "6144")
    page.fill("#id_name", "m1.medium-plus")
    page.click("input[name=_save]")
    page.wait_for_url(f"{live_server.url}/admin/inventory/flavor/")
    assert "was changed successfully" in page.locator(".messagelist").inner_text()
    row = page.locator("#result_list tr", has_text="m1.medium-plus")
    assert row.locator(".field-memory_mb").inner_text() == "6144"
    assert Flavor.objects.get(pk=3).memory_mb == 6144

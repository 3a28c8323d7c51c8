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


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_save_from_an_older_page_is_refused_with_the_current_values(
    backend, make_db, nova_db_alias, live_server, browser, page, staff_user, django_user_model, login
):
    """Two browsers on one flavor: the second save, from a page opened before the first, loses nothing."""
    nova_db_alias(make_db("dump"), alias="nova")
    bob = django_user_model.objects.create_superuser("bob", "bob@example.invalid", "bob-password")
    bob.raw_password = "bob-password"
    bob_context = browser.new_context()
    try:
        bob_page = bob_context.new_page()
        login(page, live_server.url, staff_user)
        login(bob_page, live_server.url, bob)
        url = f"{live_server.url}/admin/inventory/flavor/2/change/"
        page.goto(url)
        bob_page.goto(url)

        page.fill("#id_memory_mb", "4096")
        page.click("input[name=_save]")
        page.wait_for_url(f"{live_server.url}/admin/inventory/flavor/")

        bob_page.fill("#id_vcpus", "8")
        bob_page.click("input[name=_save]")
        bob_page.wait_for_url(url)
        message = bob_page.locator(".messagelist .error").inner_text()
        assert f"This flavor (m1.small) was changed by {staff_user.username} at " in message
        assert "memory_mb 2048 → 4096" in message and "Your changes were not saved (vcpus 1 → 8)" in message
        assert bob_page.input_value("#id_memory_mb") == "4096" and bob_page.input_value("#id_vcpus") == "1"
        small = Flavor.objects.get(pk=2)
        assert (small.memory_mb, small.vcpus) == (4096, 1)

        # Bob makes his change again on the page he now sees: both changes stand
        bob_page.fill("#id_vcpus", "8")
        bob_page.click("input[name=_save]")
        bob_page.wait_for_url(f"{live_server.url}/admin/inventory/flavor/")
        small.refresh_from_db()
        assert (small.memory_mb, small.vcpus) == (4096, 8)
    finally:
        bob_context.close()

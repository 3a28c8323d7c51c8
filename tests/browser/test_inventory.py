"""The instance list in Chromium: log in, filter by host, search by IP, open an instance."""

from __future__ import annotations

import os
import re

import pytest

from inventory.admin.instances import InstanceAdmin
from inventory.models import FixedIp, Instance
from tests.inventory.inventory_support import seed

# pytest-django's live_server runs in this process; Playwright's sync API keeps an event loop here.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = pytest.mark.browser

UUID_CELLS = "#result_list th.field-uuid a"


def test_filter_search_and_open_an_instance(
    db_factory, nova_db_alias, live_server, page, staff_user, login, screenshot, monkeypatch
):
    monkeypatch.setattr(InstanceAdmin, "list_per_page", 100)  # the whole demo cloud on one page
    nova_db_alias(db_factory("sqlite", "dump"), alias="nova")
    seed(60)
    host = Instance.objects.live().values_list("host", flat=True).order_by("host").first()
    on_host = Instance.objects.live().filter(host=host).count()

    login(page, live_server.url, staff_user)
    page.locator("#content a[href='/admin/inventory/instance/']").first.click()
    page.wait_for_url(re.compile(r".*/admin/inventory/instance/$"))
    assert page.locator(UUID_CELLS).count() == Instance.objects.live().count()
    path = screenshot(page, "instances")
    assert path.stat().st_size > 10_000

    # the host filter is a drop-down: choosing a host reloads the list with only its instances
    page.select_option("select[aria-label='host']", label=host)
    page.wait_for_url(re.compile(rf".*host={host}.*"))
    assert page.locator(UUID_CELLS).count() == on_host
    assert set(page.locator("#result_list td.field-host").all_inner_texts()) == {host}

    # search by a fixed IP finds its instance
    fixed = FixedIp.objects.filter(instance__deleted=False).select_related("instance").order_by("id")[3]
    page.goto(f"{live_server.url}/admin/inventory/instance/")
    page.fill("#searchbar", fixed.address)
    page.press("#searchbar", "Enter")
    page.wait_for_url(re.compile(r".*q=.*"))
    assert page.locator(UUID_CELLS).all_inner_texts() == [fixed.instance.uuid]

    # open it: the read-only detail page shows its IP and flavor, and offers no save button
    page.click(UUID_CELLS)
    page.wait_for_url(re.compile(rf".*/admin/inventory/instance/{fixed.instance.pk}/change/"))
    content = page.locator("#content").inner_text()
    assert fixed.address in content
    assert fixed.instance.flavor.name in content
    assert page.locator("input[name=_save]").count() == 0

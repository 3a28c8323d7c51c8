"""The SQL console in Chromium: open it from the admin index, run a query, see the table, download the CSV."""

from __future__ import annotations

import csv
import os
import re

import pytest
from django.db import connections

from inventory.console.database import READONLY_ALIAS, readonly_database
from inventory.models import Instance
from tests.inventory.inventory_support import seed

# pytest-django's live_server runs in this process; Playwright's sync API keeps an event loop here.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = pytest.mark.browser

QUERY = "SELECT uuid, host, vm_state FROM instances WHERE deleted = 0 ORDER BY id"


def test_run_a_query_see_the_table_download_the_csv(
    db_factory, nova_db_alias, live_server, page, staff_user, login, screenshot
):
    db = db_factory("sqlite", "dump")
    nova_db_alias(db, alias="nova")
    nova_db_alias(db, alias=READONLY_ALIAS)
    connections.settings[READONLY_ALIAS] = readonly_database(connections.settings[READONLY_ALIAS])
    seed(40)
    expected = list(Instance.objects.filter(deleted=False).order_by("id").values_list("uuid", "host", "vm_state"))

    login(page, live_server.url, staff_user)
    page.locator("#content a[href='/admin/console/']").first.click()
    page.wait_for_url(re.compile(r".*/admin/console/$"))

    page.fill("#id_sql", QUERY)
    page.click("#console-run")
    page.wait_for_selector("#console-result")
    assert page.locator("#console-result thead th").all_text_contents() == ["uuid", "host", "vm_state"]
    assert page.locator("#console-result tbody tr").count() == len(expected)
    assert page.locator("#console-result tbody tr td:first-child").all_inner_texts() == [row[0] for row in expected]
    assert f"{len(expected)} rows" in page.locator("#console-summary").inner_text()
    screenshot(page, "console")

    with page.expect_download() as download_info:
        page.click("#console-csv")
    download = download_info.value
    assert download.suggested_filename == "query.csv"
    with open(download.path(), newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows == [["uuid", "host", "vm_state"], *([str(v) for v in row] for row in expected)]

    page.fill("#id_sql", "SELECT secret_key FROM users")
    page.click("#console-run")
    assert "hidden" in page.locator("#console-error").inner_text()

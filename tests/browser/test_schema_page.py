"""The admin schema page in Chromium: the ERD is an inline SVG with one node per table."""

import os

import pytest

from tests.support.backends import catalog

# pytest-django's live_server runs in this process; Playwright's sync API keeps an event loop here.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = pytest.mark.browser


def test_schema_page_draws_the_diagram(db_factory, nova_db_alias, live_server, page, staff_user, login, screenshot):
    db = db_factory("sqlite", "dump")
    nova_db_alias(db, alias="nova")
    tables = catalog(db)

    login(page, live_server.url, staff_user)
    page.click("text=Nova database schema")
    page.wait_for_url(f"{live_server.url}/admin/schema/")

    diagram = page.locator("#schema-diagram svg")
    diagram.wait_for()
    assert page.locator("#schema-diagram svg g.node").count() == len(tables)
    assert page.locator("#drift-summary").inner_text().startswith("Nothing to do")
    box = diagram.bounding_box()
    assert box["width"] > 300 and box["height"] > 300, box

    # a node links to its table's documentation
    page.locator("#schema-diagram svg g#node-fixed_ips a").click()
    assert page.url.endswith("#table-fixed_ips")
    assert page.locator("#table-fixed_ips").is_visible()
    page.locator("#schema-diagram").scroll_into_view_if_needed()
    path = screenshot(page, "schema_page")
    assert path.stat().st_size > 10_000

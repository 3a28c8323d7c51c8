"""The schema page in Chromium on a database whose table, column and index names are markup.

Names such as ``x"><img src=x onerror=alert(document.domain)>`` (issue 17)
would run a script if the ERD or the docs wrote them unescaped. The page
loads with no dialog (a handler fails the test on any), no element or event
attribute that a name could have injected, every table in the diagram, and
every table's links working.
"""

import os

import pytest

from schema.names import html_id
from tests.support.backends import BACKENDS, catalog
from tests.support.hostile_names import T_NEWLINE, T_SLASH, T_XSS, TABLES, add_hostile_tables

# pytest-django's live_server runs in this process; Playwright's sync API keeps an event loop here.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = pytest.mark.browser

#: Elements and attributes on the page that no template of novaweb or Django's admin writes.
INJECTED_JS = """() => {
  const found = [];
  for (const el of document.querySelectorAll('*')) {
    for (const attr of el.attributes) {
      if (attr.name.toLowerCase().startsWith('on')) found.push(el.tagName + ' ' + attr.name);
    }
  }
  for (const el of document.querySelectorAll('img, iframe, object, embed')) found.push(el.tagName);
  for (const el of document.querySelectorAll('script')) {
    if (el.textContent.includes('alert(')) found.push('SCRIPT ' + el.textContent.slice(0, 40));
  }
  return found;
}"""


@pytest.fixture
def dialogs(page):
    """Every dialog the page opens (an injected ``alert``), dismissed and recorded."""
    seen = []

    def handle(dialog):
        seen.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", handle)
    return seen


def _assert_clean(page, dialogs):
    assert dialogs == [], f"a name ran a script: {dialogs}"
    assert page.evaluate(INJECTED_JS) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_schema_page_with_hostile_names_runs_no_script(
    backend, db_factory, nova_db_alias, live_server, page, dialogs, staff_user, login
):
    db = db_factory(backend, "dump")
    add_hostile_tables(db)
    nova_db_alias(db, alias="nova")
    tables = catalog(db)

    login(page, live_server.url, staff_user)
    page.goto(f"{live_server.url}/admin/schema/")
    page.locator("#schema-diagram svg").wait_for()
    _assert_clean(page, dialogs)
    assert page.locator("#schema-diagram svg g.node").count() == len(tables)
    for name in TABLES:
        node = page.locator(f"#schema-diagram svg g#node-{html_id(name)}")
        assert node.count() == 1, name
        assert node.locator("text").first.text_content().replace("\\n", "\n") == name, name

    # a hostile node links to its table's section
    page.locator(f"#schema-diagram svg g#node-{html_id(T_XSS)} a").click()
    assert page.url.endswith(f"#table-{html_id(T_XSS)}")
    section = page.locator(f"#table-{html_id(T_XSS)}")
    assert section.is_visible()
    assert section.locator("h3").inner_text().startswith(T_XSS)
    _assert_clean(page, dialogs)

    # each hostile table's own page, through the section's link
    for name in (T_XSS, T_SLASH, T_NEWLINE):
        page.goto(f"{live_server.url}/admin/schema/")
        page.locator(f"#table-{html_id(name)} a", has_text="neighbourhood diagram").click()
        page.wait_for_url(f"{live_server.url}/admin/schema/table/{html_id(name)}/")
        page.locator(".erd svg").wait_for()
        _assert_clean(page, dialogs)
        assert page.locator(f".erd svg g#node-{html_id(name)}").count() == 1, name

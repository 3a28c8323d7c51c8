"""The novaweb look: a header naming the product and the Nova database, the inventory first on the index."""

from __future__ import annotations

import html
import re

import pytest
from django.core.cache import cache
from django.db import connections
from django.test.utils import CaptureQueriesContext

from tests.support.backends import TestDatabase

VENDOR = {"sqlite": "SQLite", "mysql": ("MariaDB", "MySQL"), "postgresql": "PostgreSQL"}
PAGES = ["/admin/", "/admin/inventory/instance/", "/admin/inventory/dashboard/", "/admin/schema/", "/admin/auth/user/"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def _header(response) -> str:
    found = re.search(r'<div id="site-name"><a href="[^"]*">(.*?)</a></div>', response.content.decode(), re.S)
    assert found, response.content.decode()[:500]
    return html.unescape(found[1]).strip()


def _where(db) -> str:
    if db.backend == "sqlite":
        return str(db.path)
    settings = connections["nova"].settings_dict
    return f"{settings['HOST']}:{settings['PORT']}"


def test_every_page_names_novaweb_and_the_nova_database(admin_client, backend, make_db, nova_db_alias):
    db = make_db("dump")
    nova_db_alias(db, alias="nova")
    vendors = VENDOR[backend] if isinstance(VENDOR[backend], tuple) else (VENDOR[backend],)
    for url in PAGES:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        header = _header(response)
        assert header.startswith("novaweb · nova: "), (url, header)
        assert any(f": {vendor}" in header for vendor in vendors), header
        assert f" at {_where(db)}, schema 82" in header, header
        title = re.search(r"<title>(.*?)</title>", response.content.decode(), re.S)[1]
        assert "novaweb" in title, (url, title)
    index = admin_client.get("/admin/").content.decode()
    assert re.search(r"<h1>Nova inventory and schema: nova: [^<]+, schema 82</h1>", index)


def test_the_header_costs_no_query_once_cached(admin_client, db_factory, nova_db_alias):
    nova_db_alias(db_factory("sqlite", "dump"), alias="nova")
    with CaptureQueriesContext(connections["nova"]) as first:
        admin_client.get("/admin/auth/user/")
    assert len(first) >= 1  # the vendor and schema version were read
    with CaptureQueriesContext(connections["nova"]) as again:
        assert admin_client.get("/admin/auth/user/").status_code == 200
        assert admin_client.get("/admin/auth/group/").status_code == 200
    assert len(again) == 0, [q["sql"] for q in again]


def test_the_header_says_when_the_nova_database_does_not_answer(admin_client, nova_db_alias):
    nova_db_alias(TestDatabase("sqlite", "unreachable", "sqlite:////nonexistent-dir/nova.sqlite3"), alias="nova")
    response = admin_client.get("/admin/auth/user/")  # Django's own pages keep working
    assert response.status_code == 200
    assert _header(response) == "novaweb · nova: sqlite at /nonexistent-dir/nova.sqlite3, not answering"


def test_a_database_without_version_control_says_so(admin_client, db_factory, nova_db_alias):
    nova_db_alias(db_factory("sqlite", "empty"), alias="nova")
    assert _header(admin_client.get("/admin/auth/user/")).endswith(", not under version control")


def test_anonymous_visitors_see_the_product_name_only(client, db_factory, nova_db_alias):
    db = db_factory("sqlite", "dump")
    nova_db_alias(db, alias="nova")
    with CaptureQueriesContext(connections["nova"]) as queries:
        response = client.get("/admin/login/")
    assert _header(response) == "novaweb"
    page = response.content.decode()
    assert str(db.path) not in page and "SQLite" not in page
    assert len(queries) == 0


def _positions(page: str, needles: list[str]) -> list[int]:
    found = [page.find(needle) for needle in needles]
    assert -1 not in found, dict(zip(needles, found, strict=True))
    return found


def test_the_index_lists_the_inventory_first_and_djangos_users_last(admin_client, db_factory, nova_db_alias):
    nova_db_alias(db_factory("sqlite", "dump"), alias="nova")
    content = admin_client.get("/admin/").content.decode()
    page = content[content.index('id="content-main"') :]
    apps = _positions(page, ['class="app-inventory', 'class="app-schema', 'class="app-axes', 'class="app-auth'])
    assert apps == sorted(apps)
    models = _positions(
        page,
        [
            'class="model-instance',
            'class="model-computenode',
            'class="model-service',
            'class="model-network',
            'class="model-fixedip',
            'class="model-floatingip',
            'class="model-flavor',
            'class="model-project',
            'class="model-user',
            'class="model-migrateversion',
            'class="model-group',
        ],
    )
    assert models == sorted(models)
    # the dashboard and the schema page come before the app list
    assert page.find("/admin/inventory/dashboard/") < apps[0]

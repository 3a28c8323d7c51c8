"""The inventory lists' own rendering (inventory/templatetags/inventory_list.py) gives the stock admin's HTML,
and the instance list says when its IP columns have no index (inventory/admin/ip_indexes.py)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from django.contrib.admin.views.main import ChangeList
from django.db import connections
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import strategies as st

from inventory.admin import ip_indexes
from inventory.admin.filters import choice_query_strings
from inventory.models import FixedIp, Instance
from schema.suggested_indexes import SUGGESTED_INDEXES
from tests.inventory.inventory_support import LIST_URL, listed_uuids, page, seed
from tests.support.commands import call

STOCK_ROWS = Template("{% load admin_list %}{% result_list cl %}")
OUR_ROWS = Template("{% load inventory_list %}{% inventory_result_list cl %}")
#: The drop-down filter's options as its template drew them with a template loop.
STOCK_OPTIONS = Template(
    '{% for choice in choices %}<option value="{{ choice.query_string|iriencode }}"'
    "{% if choice.selected %} selected{% endif %}>{{ choice.display }}</option>{% endfor %}"
)
OUR_OPTIONS = Template("{% load inventory_list %}{{ choices|select_options }}")


def both_tables(client, url, **params):
    """The list's results table as Django's ``result_list`` tag draws it, and as the inventory's tag does."""
    response = client.get(url, params)
    assert response.status_code == 200, (url, params)
    cl = response.context["cl"]
    context = {"cl": cl, "opts": cl.opts}
    return STOCK_ROWS.render(Context(context)), OUR_ROWS.render(Context(context)), response.content.decode()


def test_every_inventory_list_draws_the_stock_admin_rows(nova, admin_client):
    fixed = FixedIp.objects.filter(instance__isnull=False).select_related("instance").order_by("id").first()
    views = [
        (LIST_URL, {}),
        (LIST_URL, {"deleted": "all", "o": "-8.2"}),
        (LIST_URL, {"q": fixed.address}),
        (LIST_URL, {"host": fixed.instance.host}),
    ]
    views += [
        (f"/admin/inventory/{model}/", {})
        for model in ("network", "fixedip", "floatingip", "computenode", "service", "project", "user", "flavor")
    ]
    views.append(("/admin/inventory/fixedip/", {"o": "-0"}))
    for url, params in views:
        stock, ours, html = both_tables(admin_client, url, **params)
        assert "<tbody>" in stock and stock.count("<tr>") > 1, (url, params)
        assert ours == stock, (url, params)
        assert ours in html, (url, params)  # the page shows these rows


def test_instance_rows_link_to_the_detail_with_the_lists_filters(nova, admin_client):
    instance = Instance.objects.live().order_by("-id").first()
    html = page(admin_client, LIST_URL, vm_state=instance.vm_state)
    assert instance.uuid in listed_uuids(html)
    link = f'/admin/inventory/instance/{instance.pk}/change/?_changelist_filters=vm_state%3D{instance.vm_state}"'
    assert f'<th class="field-uuid"><a href="{link}>{instance.uuid}</a></th>' in html
    assert f'<td class="field-display_name"><a href="{link}>' in html


@given(
    others=st.dictionaries(
        st.sampled_from(["deleted", "flavor", "host", "o", "project_id", "q", "vm_state", "zz", "a&b", "é"]),
        st.lists(st.text(max_size=8), min_size=1, max_size=2),
        max_size=4,
    ),
    parameter=st.sampled_from(["host", "project_id", "flavor", "task_state", "h"]),
    value=st.one_of(st.text(max_size=12), st.integers()),
)
def test_a_drop_down_choice_links_where_the_admin_would(others, parameter, value):
    changelist = SimpleNamespace(filter_params=others)
    expected = ChangeList.get_query_string(changelist, {parameter: value})
    assert choice_query_strings(changelist, parameter)(value) == expected


@given(
    st.lists(
        st.fixed_dictionaries(
            {"query_string": st.text(max_size=20), "selected": st.booleans(), "display": st.text(max_size=20)}
        ),
        max_size=5,
    )
)
def test_drop_down_options_are_the_template_loops(choices):
    context = {"choices": choices}
    assert OUR_OPTIONS.render(Context(context)) == STOCK_OPTIONS.render(Context(context))


def test_the_notice_covers_the_prefetch_lookups_db_add_indexes_adds():
    assert set(ip_indexes.PREFETCH_KEYS) <= set(SUGGESTED_INDEXES)


#: MySQL's Essex keeps these keys (from foreign keys Nova dropped); the test drops them to have none.
MYSQL_ESSEX_KEYS = {"fixed_ips": "instance_id", "floating_ips": "fixed_ip_id"}


def notice_of(client) -> str | None:
    html = page(client, LIST_URL)
    assert listed_uuids(html), "the list still lists"
    start = html.find('id="index-notice">')
    return html[start + len('id="index-notice">') : html.index("</li>", start)] if start >= 0 else None


def test_the_list_says_which_ip_lookup_has_no_index_until_db_add_indexes(
    admin_client, backend, make_db, nova_db_alias, run_manage, monkeypatch
):
    db = make_db("dump")
    nova_db_alias(db, alias="nova")
    seed(12)
    if backend == "mysql":
        with connections["nova"].cursor() as cursor:
            for table, key in MYSQL_ESSEX_KEYS.items():
                cursor.execute(f"ALTER TABLE {table} DROP INDEX {key}")

    notice = notice_of(admin_client)
    assert notice is not None
    assert notice.startswith("fixed_ips.instance_id and floating_ips.fixed_ip_id have no index:")
    assert "<code>./manage.py db_add_indexes</code> adds them." in notice
    # Read from the catalog once, not on every page.
    nova = connections["nova"]
    ip_indexes.forget()
    with CaptureQueriesContext(nova) as reading:
        assert ip_indexes.unindexed("nova") == ("fixed_ips.instance_id", "floating_ips.fixed_ip_id")
    with CaptureQueriesContext(nova) as cached:
        assert notice_of(admin_client) == notice
    assert reading.captured_queries
    assert not any(q in cached.captured_queries for q in reading.captured_queries)

    proc = run_manage("db_add_indexes", db=db)
    assert proc.returncode == 0, proc.stderr
    assert notice_of(admin_client) == notice  # for CACHE_SECONDS, this process keeps what it read
    monkeypatch.setattr(ip_indexes, "CACHE_SECONDS", 0)
    assert notice_of(admin_client) is None
    # The other lists never carry it.
    assert 'id="index-notice"' not in page(admin_client, "/admin/inventory/fixedip/")


@pytest.mark.parametrize("backend", ["postgresql"])
def test_the_notice_names_only_the_missing_index(admin_client, backend, make_db, nova_db_alias, monkeypatch):
    db = make_db("dump")
    nova_db_alias(db, alias="nova")
    seed(4)
    monkeypatch.setattr(ip_indexes, "CACHE_SECONDS", 0)
    with connections["nova"].cursor() as cursor:
        cursor.execute("CREATE INDEX floating_ips_by_fixed_ip ON floating_ips (fixed_ip_id, id)")
    notice = notice_of(admin_client)
    assert notice.startswith("fixed_ips.instance_id has no index:") and notice.endswith("adds it.")


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])  # the backends with partial indexes
def test_a_partial_index_is_no_index_for_the_notice_or_db_add_indexes(
    admin_client, backend, make_db, nova_db_alias, monkeypatch
):
    """An index on some rows only (``WHERE``) serves no page's IP lookup: the notice still names the
    column, ``db_add_indexes`` still adds the index, and ``db_drift`` reports the stray one."""
    db = make_db("dump")
    nova_db_alias(db, alias="nova")
    seed(4)
    monkeypatch.setattr(ip_indexes, "CACHE_SECONDS", 0)
    with connections["nova"].cursor() as cursor:
        cursor.execute("CREATE INDEX stray_partial ON fixed_ips (instance_id) WHERE instance_id < 0")
    assert notice_of(admin_client).startswith("fixed_ips.instance_id and floating_ips.fixed_ip_id have no index:")

    dry = call("db_add_indexes", database="nova", dry_run=True, format="json")
    assert ("fixed_ips", ("instance_id",)) in {
        (i["table"], tuple(i["columns"])) for i in json.loads(dry.out)["indexes"]
    }
    drift = call("db_drift", database="nova", format="json")
    assert drift.code == 1
    assert {(d["kind"], d["object"]) for d in json.loads(drift.out)["differences"]} == {
        ("extra_index", "stray_partial")
    }

    assert call("db_add_indexes", database="nova").code == 0
    assert notice_of(admin_client) is None

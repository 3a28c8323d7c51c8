"""Exports hold what the database holds: equal to a direct SQL query, hostile values included, formulas defused.

Every test runs on SQLite, MariaDB and PostgreSQL (PostgreSQL's CSV is written
by COPY, the others' by a server-side cursor and the csv module).
"""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inventory import states
from inventory.exports.sql import neutralise
from tests.inventory.export_support import (
    FORMULA_STARTS,
    HOSTILE_TEXT,
    INSTANCE_HEADERS,
    as_csv_cells,
    expected_instances,
    read_csv,
    read_jsonl,
    seeded_with_hostile_values,
)
from tests.inventory.inventory_support import LIST_URL, listed_uuids, page
from tests.support.backends import BACKENDS

EXPORT_URL = LIST_URL + "export.csv"


@pytest.fixture(scope="module", params=BACKENDS)
def hostile(request, _dump_templates, tmp_path_factory, django_db_blocker):
    tmp = tmp_path_factory.mktemp("hostile")
    db = seeded_with_hostile_values(request.param, _dump_templates, tmp, django_db_blocker)
    yield db
    db.drop()


@pytest.fixture
def nova(admin_client, hostile, nova_db_alias):
    nova_db_alias(hostile, alias="nova")
    return hostile


def download(client, **params) -> tuple[list[str], list[list[str]]]:
    response = client.get(EXPORT_URL, params)
    assert response.status_code == 200, response.content[:300]
    body = b"".join(response.streaming_content)
    assert int(response["Content-Length"]) == len(body)
    headers, rows = read_csv(body)
    assert int(response["X-Export-Rows"]) == len(rows)
    return headers, rows


FILTERS = [  # the list's query string, and the same filter as SQL over ``instances i``
    ({}, "(i.deleted IS NULL OR i.deleted <> {true})", ()),
    ({"deleted": "all"}, "1 = 1", ()),
    ({"deleted": "deleted"}, "i.deleted = {true}", ()),
    ({"host": "compute-001"}, "(i.deleted IS NULL OR i.deleted <> {true}) AND i.host = %s", ("compute-001",)),
    ({"host": HOSTILE_TEXT[0]}, "(i.deleted IS NULL OR i.deleted <> {true}) AND i.host = %s", (HOSTILE_TEXT[0],)),
    ({"vm_state": "active", "deleted": "all"}, "i.vm_state = %s", ("active",)),
    ({"power_state": "4"}, "(i.deleted IS NULL OR i.deleted <> {true}) AND i.power_state = 4", ()),
]


@pytest.mark.parametrize(("params", "where", "sql_params"), FILTERS, ids=lambda v: str(v)[:30])
def test_admin_export_equals_direct_sql(nova, admin_client, params, where, sql_params):
    headers, rows = download(admin_client, **params)
    assert headers == INSTANCE_HEADERS
    expected = as_csv_cells(expected_instances(where, sql_params))
    assert len(rows) == len(expected)
    assert rows == expected


def test_hostile_values_are_exact_and_formulas_defused(nova, admin_client):
    _, rows = download(admin_client, deleted="all")
    names = {row[1] for row in rows}
    assert "<script>alert(1)</script>" in names  # no tag stripping
    assert '\'=HYPERLINK("http://x","click")' in names
    assert {"'+1+2", "'-3", "'@SUM(A1:A2)", "'\tlead-tab", "'\rlead-cr", "line one\nline two"} <= names
    assert {'quote " and, comma', "Ünïcødé ✓ 名前 ‮", "trailing space ", "'already quoted", "a=b"} <= names
    for row in rows:  # no text cell a spreadsheet would run
        assert not any(cell[:1] in FORMULA_STARTS for cell in row), row
    floating = {row[13] for row in rows}
    assert "172.30.0.1 =172.31.0.1" in floating  # by fixed IP, then floating IP; only a cell's start counts
    assert not any("172.29." in cell for cell in floating)  # the floating IP of a deleted fixed IP
    fixed = [row[12] for row in rows]
    assert any(cell.endswith(" 192.168.0.0 192.168.0.1") for cell in fixed)  # in the fixed IPs' order
    assert not any("192.168.0.2" in cell for cell in fixed)  # a deleted fixed IP is left out


def test_raw_export_is_the_text_as_stored(nova, admin_client):
    _, rows = download(admin_client, raw="1", deleted="all")
    expected = as_csv_cells(expected_instances("1 = 1", raw=True))
    assert rows == expected
    assert '=HYPERLINK("http://x","click")' in {row[1] for row in rows}


def test_raw_takes_only_0_or_1(nova, admin_client):
    response = admin_client.get(EXPORT_URL, {"raw": "yes"})
    assert response.status_code == 400
    assert b"raw='yes'" in response.content


def test_states_by_name_and_code(nova, admin_client):
    _, rows = download(admin_client, deleted="all")
    pairs = {(row[10], row[11]) for row in rows}
    assert ("", "") in pairs  # NULL power state
    assert ("", "42") in pairs  # a code Nova never named: the code, no invented name
    assert ("SHUTDOWN", "4") in pairs
    assert all(name == states.POWER_STATES.get(int(code), "") for name, code in pairs if code)


def test_command_jsonl_equals_direct_sql(nova):
    out = io.StringIO()
    call_command("export_inventory", "instance", "--format", "jsonl", "--filter", "deleted=all", stdout=out)
    rows = read_jsonl(out.getvalue())
    expected = [dict(zip(INSTANCE_HEADERS, row, strict=True)) for row in expected_instances("1 = 1")]
    assert rows == expected  # NULL as null, codes as numbers, text exact


def test_command_csv_equals_admin_export(nova, admin_client, tmp_path):
    target = tmp_path / "instances.csv"
    call_command("export_inventory", "instances", "--filter", "host=compute-001", "--output", str(target))
    assert read_csv(target.read_bytes()) == download(admin_client, host="compute-001")
    assert [p.name for p in tmp_path.iterdir()] == ["instances.csv"]  # no partial file left


PARAM_SPACE = st.fixed_dictionaries(
    {},
    optional={
        "deleted": st.sampled_from(["live", "deleted", "all"]),
        "vm_state": st.sampled_from(states.VM_STATES[:4]),
        "power_state": st.sampled_from(["1", "4", "42"]),
        "host": st.sampled_from(["compute-001", "compute-002", HOSTILE_TEXT[0]]),
        "q": st.sampled_from(["api", "web", "<scr", "=HYP", "line"]),
        "o": st.sampled_from(["1", "-2", "7", "-10", "13.1", "3.-0"]),
    },
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=PARAM_SPACE)
def test_filtered_export_equals_the_filtered_list(nova, admin_client, params):
    shown = listed_uuids(page(admin_client, LIST_URL, **params))
    _, rows = download(admin_client, **params)
    assert [row[0] for row in rows] == shown  # same rows, same order


@pytest.mark.parametrize("q", ["192.0.2.99", "2001:db8::99", "172.30.0.1"])
def test_an_ip_search_exports_what_the_list_shows_even_no_row(nova, admin_client, q):
    # An address no instance has: Django runs no query for the search (pk__in=[]); was a 500 and exit 255.
    shown = listed_uuids(page(admin_client, LIST_URL, q=q))
    headers, rows = download(admin_client, q=q)
    assert headers == INSTANCE_HEADERS and [row[0] for row in rows] == shown
    out = io.StringIO()
    call_command("export_inventory", "instance", "--format", "jsonl", "--filter", f"q={q}", stdout=out)
    assert [row["Uuid"] for row in read_jsonl(out.getvalue())] == shown


def test_other_lists_defuse_formulas(nova, admin_client):
    for url in ("/admin/inventory/fixedip/", "/admin/inventory/floatingip/"):
        response = admin_client.get(url + "export.csv")
        _, rows = read_csv(b"".join(response.streaming_content))
        cells = [cell for row in rows for cell in row]
        assert not any(cell[:1] in FORMULA_STARTS for cell in cells)
        if "floating" in url:
            assert "'=172.31.0.1" in cells
    assert neutralise("=1") == "'=1" and neutralise("1") == "1" and neutralise(None) is None


def test_command_line(hostile, run_manage):
    ok = run_manage("export_inventory", "instance", "--format", "jsonl", "--filter", "vm_state=active", db=hostile)
    assert ok.returncode == 0, ok.stderr
    assert ok.stderr == ""  # no progress when stderr is not a terminal
    rows = read_jsonl(ok.stdout)
    assert rows and {row["Vm state"] for row in rows} == {"active"}
    refusals = {
        ("instance", "--filter", "secret_key=x"): "secret_key='x': not a filter of this list.",
        ("user", "--filter", "secret_key__startswith=a"): "not a filter of this list",
        ("instance", "--filter", "power_state=abc"): "must be an integer",
        ("instance", "--filter", "deleted"): "expected NAME=VALUE",
        ("instancez",): "unknown model 'instancez'; one of: computenode, fixedip",
    }
    for args, message in refusals.items():
        result = run_manage("export_inventory", *args, db=hostile)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stdout == ""
        assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr, result.stderr


def test_every_list_exports_all_its_rows(nova, admin_client):
    from django.db import connections

    from inventory.management.commands.export_inventory import exportable_admins

    connection = connections["nova"]
    true = "true" if connection.vendor == "postgresql" else "1"
    for model_admin in {id(a): a for a in exportable_admins().values()}.values():
        opts = model_admin.model._meta
        response = admin_client.get(f"/admin/{opts.app_label}/{opts.model_name}/export.csv")
        assert response.status_code == 200, opts.model_name
        headers, rows = read_csv(b"".join(response.streaming_content))
        live = any(f.name == "deleted" for f in opts.fields)
        where = f" WHERE deleted IS NULL OR deleted <> {true}" if live else ""
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {opts.db_table}{where}")
            assert len(rows) == cursor.fetchone()[0], opts.model_name
        assert all(len(row) == len(headers) for row in rows)
        assert "secret" not in " ".join(headers).lower()


def test_jsonl_booleans_and_nulls(nova):
    from django.db import connections

    out = io.StringIO()
    call_command("export_inventory", "fixedip", "--format", "jsonl", "--filter", "deleted=all", stdout=out)
    exported = sorted(
        (row["Address"], row["Allocated"], row["Leased"], row["Reserved"], row["Instance"])
        for row in read_jsonl(out.getvalue())
    )
    with connections["nova"].cursor() as cursor:
        cursor.execute(
            "SELECT f.address, f.allocated, f.leased, f.reserved, i.uuid FROM fixed_ips f"
            " LEFT JOIN instances i ON i.id = f.instance_id"
        )
        expected = sorted(
            (a, *(None if b is None else bool(b) for b in flags), uuid) for a, *flags, uuid in cursor.fetchall()
        )
    assert exported == expected
    assert {row[1] for row in exported} <= {True, False, None}

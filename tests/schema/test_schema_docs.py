"""Schema docs, ERD, lint, the admin schema page and db_schema_doc, against the reference dump.

Every expectation about the database comes from its own catalog
(``tests.support.backends.catalog``), never from the engine under test.
"""

import io
import json
import re

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.db import connections

from inventory.models import Instance
from schema.docs import erd
from schema.docs.document import build, document
from schema.docs.erd import dot_source, render_svg
from schema.docs.lint import lint
from tests.support.backends import catalog
from tests.support.commands import call

#: Relations Nova uses without a foreign key, on every backend (the models' db_constraint=False).
UNCONSTRAINED = {
    "instances": {(("instance_type_id",), "instance_types", ("id",))},
    "fixed_ips": {
        (("network_id",), "networks", ("id",)),
        (("instance_id",), "instances", ("id",)),
        (("virtual_interface_id",), "virtual_interfaces", ("id",)),
    },
    "instance_types": set(),
}
UNCONSTRAINED_INTO_INSTANCE_TYPES = {
    ("instances", ("instance_type_id",)),
    ("migrations", ("old_instance_type_id",)),
    ("migrations", ("new_instance_type_id",)),
    ("virtual_storage_arrays", ("instance_type_id",)),
}


def _catalog_keys(entry):
    """(columns, unique) of every index and unique constraint the catalog lists, PK aside."""
    keys = [(cols, bool(unique)) for unique, cols in entry["indexes"].values()]
    keys += [(cols, True) for cols in entry["autounique"]]
    if not entry["indexes"] and not entry["autounique"]:
        keys += [(cols, True) for cols in entry["unique_constraints"].values()]
    return sorted(keys)


def _analyze(db):
    if db.backend == "mysql":
        db.execute("ANALYZE TABLE instance_types")
    else:
        db.execute("ANALYZE")


def test_table_docs_match_the_catalog(backend, make_db, nova_db_alias):
    db = make_db("dump")
    alias = nova_db_alias(db)
    _analyze(db)
    cat = catalog(db)
    doc, snap = document(connections[alias])

    assert set(doc.tables) == set(cat)
    assert snap.version == 82
    for name in ("instances", "fixed_ips", "instance_types"):
        table, entry = doc.tables[name], cat[name]
        assert [(c.name, c.ddl_type, c.nullable) for c in table.columns] == [
            (n, t, nullable) for n, t, nullable, _default in entry["columns"]
        ], name
        assert table.primary_key == entry["primary_key"], name
        doc_keys = [(i.columns, i.unique) for i in table.indexes] + [(u.columns, True) for u in table.uniques]
        assert sorted(doc_keys) == _catalog_keys(entry), name
        named = {i.name for i in table.indexes}
        assert named == {n for n in entry["indexes"] if not n.startswith("sqlite_autoindex")} - {
            u.name for u in table.uniques
        }, name

        constrained_out = sorted((r.columns, r.ref_table, r.ref_columns) for r in table.relations_out if r.constrained)
        assert constrained_out == sorted(entry["foreign_keys"]), name
        unconstrained_out = {(r.columns, r.ref_table, r.ref_columns) for r in table.relations_out if not r.constrained}
        assert unconstrained_out == UNCONSTRAINED[name], name
        constrained_in = sorted((r.table, r.columns) for r in table.relations_in if r.constrained)
        assert constrained_in == sorted(
            (other, cols) for other, e in cat.items() for cols, ref, _ in e["foreign_keys"] if ref == name
        ), name

    flavors = doc.tables["instance_types"]
    assert {
        (r.table, r.columns) for r in flavors.relations_in if not r.constrained
    } == UNCONSTRAINED_INTO_INSTANCE_TYPES
    assert flavors.estimated_rows == 5  # the five default flavors, from the catalog's statistics
    assert (flavors.area, flavors.model_label) == ("compute", "inventory.Flavor")
    assert doc.tables["fixed_ips"].area == "network"
    assert doc.tables["services"].area == "hosts"

    # the same docs as JSON through the command
    out = io.StringIO()
    call_command("db_schema_doc", "--format", "json", "--database", alias, stdout=out)
    data = json.loads(out.getvalue())
    assert len(data["tables"]) == len(cat)
    assert data["drift"]["nothing_to_do"] is True
    fixed_ips = next(t for t in data["tables"] if t["name"] == "fixed_ips")
    assert [c["name"] for c in fixed_ips["columns"]] == [c[0] for c in cat["fixed_ips"]["columns"]]


def test_diagram_has_a_node_per_table_and_an_edge_per_relation(backend, make_db, nova_db_alias):
    db = make_db("dump")
    alias = nova_db_alias(db)
    cat = catalog(db)
    doc, _ = document(connections[alias])
    source = dot_source(doc)

    nodes = re.findall(r'^\s*"([^"]+)" \[id="node-', source, re.M)
    assert sorted(nodes) == sorted(cat)
    edges = re.findall(r'^\s*"([^"]+)" -> "([^"]+)" \[id="edge-\d+", style=(\w+)', source, re.M)
    assert len(edges) == len(doc.relations)
    solid = sorted((a, b) for a, b, style in edges if style == "solid")
    assert solid == sorted((t, ref) for t, e in cat.items() for _, ref, _ in e["foreign_keys"])
    assert ("fixed_ips", "instances", "dashed") in edges

    svg = render_svg(source).svg
    assert svg.startswith("<svg") and svg.count('class="node"') == len(cat)
    assert svg.count('class="edge"') == len(doc.relations)
    assert 'xlink:href="#table-fixed_ips"' in svg

    around = dot_source(doc, "fixed_ips")
    assert sorted(re.findall(r'^\s*"([^"]+)" \[id="node-', around, re.M)) == [
        "fixed_ips",
        "floating_ips",
        "instances",
        "networks",
        "virtual_interfaces",
    ]


def test_without_graphviz_the_dot_source_is_shown(monkeypatch):
    monkeypatch.setattr(erd, "DOT_BINARY", "dot-is-not-installed-here")
    rendered = render_svg(dot_source(build("sqlite")))
    assert rendered.svg is None
    assert "apt-get install graphviz" in rendered.error
    assert rendered.dot.startswith('digraph "nova_schema"')


def _instance_admin_site():
    site = admin.AdminSite(name="lint-test")

    class InstanceAdmin(admin.ModelAdmin):
        list_filter = ("vm_state", "host", "project_id", "flavor")
        search_fields = ("^hostname", "display_name")
        ordering = ("-created_at",)

    site.register(Instance, InstanceAdmin)
    return site


def _leading_index(entry, column):
    keys = [entry["primary_key"], *(cols for _, cols in entry["indexes"].values()), *entry["autounique"]]
    keys += list(entry["unique_constraints"].values())
    return any(cols and cols[0] == column for cols in keys)


def test_lint_flags_unconstrained_relations_and_unindexed_filters(backend, make_db, nova_db_alias):
    db = make_db("dump")
    alias = nova_db_alias(db)
    cat = catalog(db)
    doc, _ = document(connections[alias])
    report = lint(doc, _instance_admin_site())

    unconstrained = {(f.table, f.object) for f in report.by_check("unconstrained_relation")}
    assert ("fixed_ips", "instance_id") in unconstrained
    assert ("instance_metadata", "instance_id") not in unconstrained  # a real foreign key
    unindexed = {(f.table, f.object) for f in report.by_check("unindexed_relation")}
    assert (("fixed_ips", "instance_id") in unindexed) == (not _leading_index(cat["fixed_ips"], "instance_id"))
    assert ("instances", "uuid") in {(f.table, f.object) for f in report.by_check("nullable_unique")}
    no_index = {f.table for f in report.by_check("no_index")}
    assert no_index == {t for t, e in cat.items() if not e["indexes"] and not e["autounique"]}

    filters = {a.entry: a for a in report.admin if a.feature == "list_filter"}
    assert set(filters) == {"vm_state", "host", "project_id", "flavor"}
    for entry, use in filters.items():
        assert use.table == "instances"
        assert use.served == _leading_index(cat["instances"], use.columns[0]), entry
        assert (use.suggestion is None) == use.served, entry
    assert filters["project_id"].index == "project_id"
    assert not filters["flavor"].served and filters["flavor"].columns == ("instance_type_id",)
    assert "CREATE INDEX" in filters["host"].suggestion and "host" in filters["host"].suggestion
    substring = next(a for a in report.admin if a.entry == "display_name")
    assert not substring.served

    position = {t: i for i, t in enumerate(report.load_order)}
    assert sorted(position) == sorted(cat)
    for table, entry in cat.items():
        for _, ref, _ in entry["foreign_keys"]:
            assert position[ref] < position[table], (table, ref)
    assert report.delete_order == list(reversed(report.load_order))

    # the registered inventory admin, when there is one: every list filter is reported
    registered = admin.site._registry.get(Instance)
    if registered is not None:
        reported = {a.entry for a in lint(doc).admin if a.admin == "inventory.Instance" and a.feature == "list_filter"}
        assert len(reported) == len(registered.list_filter)


@pytest.mark.django_db
def test_admin_schema_page(backend, make_db, nova_db_alias, admin_client, client):
    db = make_db("dump")
    nova_db_alias(db, alias="nova")

    anonymous = client.get("/admin/schema/")
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/admin/login/")

    index = admin_client.get("/admin/")
    assert b'href="/admin/schema/"' in index.content

    page = admin_client.get("/admin/schema/").content.decode()
    assert "Nothing to do" in page
    assert re.search(r'id="migrate-version">82<', page)
    assert page.count('class="node"') == len(catalog(db))
    assert 'id="table-fixed_ips"' in page and "no constraint" in page

    drop = "DROP INDEX project_id ON instances" if backend == "mysql" else "DROP INDEX project_id"
    db.execute(drop)
    page = admin_client.get("/admin/schema/").content.decode()
    assert "Nothing to do" not in page
    rows = re.findall(
        r"<tr><td><span class=\"badge phase ([\w-]+)\">[^<]*</span></td><td><a [^>]*>(\w+)</a></td>"
        r"<td>(\w+)</td><td>(\w+)</td>",
        page,
    )
    assert ("expand", "instances", "missing_index", "project_id") in rows

    neighbourhood = admin_client.get("/admin/schema/table/fixed_ips/").content.decode()
    assert neighbourhood.count('class="node"') == 5
    assert admin_client.get("/admin/schema/table/no_such_table/").status_code == 404


def test_db_schema_doc_writes_self_contained_html(db_factory, nova_db_alias, run_manage, tmp_path):
    db = db_factory("sqlite", "dump")
    out = tmp_path / "schema.html"
    proc = run_manage("db_schema_doc", "--format", "html", "--output", out, db=db)
    assert proc.returncode == 0, proc.stderr
    html = out.read_text()
    assert html.count("<svg") == 1 + len(catalog(db))  # the schema, then each table's neighbourhood
    assert "<style>" in html
    assert not re.search(r"<(link|script|img)\b", html)
    assert not re.search(r'(src|href)="https?:', html)

    out = io.StringIO()
    call_command("db_schema_doc", "--format", "markdown", "--database", nova_db_alias(db), stdout=out)
    assert '### <a id="table-fixed_ips"></a>fixed_ips' in out.getvalue()

    bad = run_manage("db_schema_doc", "--format", "dot", "--table", "nope", db=db)
    assert (
        bad.returncode == 2
        and bad.stderr.strip() == "error: unknown table 'nope' (see db_schema_doc --format json for the list)"
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--format", "markdown", "--table", "instances"), "use it with --format dot, not markdown"),
        (("--table", "instances"), "not html"),
        (("--output", ""), "--output needs a path"),  # --output "$OUT" with the variable unset
    ],
)
def test_db_schema_doc_options_that_would_be_ignored_are_refused(backend, make_db, nova_db_alias, args, says):
    result = call("db_schema_doc", *args, database=nova_db_alias(make_db("dump")))
    assert result.code == 2 and says in result.err
    assert result.out == "" and result.err.count("\n") == 1
